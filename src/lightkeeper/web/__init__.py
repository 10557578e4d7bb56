"""Control-plane HTTP API (and, later, the dashboard)."""
