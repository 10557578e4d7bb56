"""One router per resource of the control-plane API; :mod:`lightkeeper.web.api` mounts
them under ``/api/v1`` (health at its fixed path)."""
