"""Who may score and scrape a model server when auth is on.

``/predict``, ``/invocations`` and ``/metrics`` need ``Authorization: Bearer TOKEN`` with
a serving role (``predict``, ``operator`` or ``admin``); ``/healthz`` and ``/readyz``
stay open for probes. A token is checked against the ops database at most every
:data:`RECHECK_SECONDS`, so scoring does not pay a database read per request; a revoked
token stops working within that time. While the database is unreachable, tokens already
verified keep working (the server keeps serving when the control plane is down), and an
unknown token is answered 503, not 401, since it cannot be judged.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from lightkeeper.auth import Action, Principal
from lightkeeper.errors import DatabaseUnavailable, ServiceNotReady, Unauthenticated

RECHECK_SECONDS = 5.0
MAX_CACHED = 10_000


class ServingAccess:
    """Checks bearer tokens for one serving process, with a short-lived cache."""

    def __init__(self, verify: Callable[[str], Principal], *, enabled: bool) -> None:
        self.enabled = enabled
        self._verify = verify
        self._known: dict[bytes, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def require(self, authorization: str | None, action: Action) -> Principal | None:
        """The caller, checked for ``action``; ``None`` when auth is off.

        Raises:
            Unauthenticated: no bearer token, or one that is unknown or revoked.
            PermissionDenied: the token's role may not do ``action``.
            ServiceNotReady: the database is down and the token was never seen.
        """
        if not self.enabled:
            return None
        secret = _bearer(authorization)
        principal = self._principal(secret)
        principal.require(action)
        return principal

    def _principal(self, secret: str) -> Principal:
        key = hashlib.blake2b(secret.encode(), digest_size=16).digest()
        now = time.monotonic()
        with self._lock:
            cached = self._known.get(key)
        if cached is not None and now - cached[1] < RECHECK_SECONDS:
            return cached[0]
        try:
            principal = self._verify(secret)
        except Unauthenticated:
            with self._lock:
                self._known.pop(key, None)
            raise
        except DatabaseUnavailable as exc:
            if cached is not None:  # judged before: keep serving through the outage
                return cached[0]
            raise ServiceNotReady(
                "cannot check the API token: the ops database is unreachable",
                hint="try again shortly; tokens used before the outage keep working",
            ) from exc
        with self._lock:
            if len(self._known) >= MAX_CACHED:
                self._known.clear()
            self._known[key] = (principal, now)
        return principal


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated(
            "this model server needs an API token (auth is on)",
            hint="send Authorization: Bearer TOKEN with a token of role predict "
            "(lightkeeper tokens create --name NAME --role predict)",
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "the Authorization header is not a bearer token",
            hint="send Authorization: Bearer TOKEN",
        )
    return token.strip()
