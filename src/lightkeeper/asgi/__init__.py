"""What both HTTP apps share, the control-plane API (:mod:`lightkeeper.web`) and a
deployment's model server (:mod:`lightkeeper.serving`): errors as JSON with their code
and status (one mapping for both), and the API docs page served from the package."""
