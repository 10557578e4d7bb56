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
    """Checks bearer tokens for one serving process, with a short-lived cache.

    Known tokens and unknown ones alike are remembered for :data:`RECHECK_SECONDS`, so a
    flood of made-up tokens costs one database read per token per interval, and the
    event loop never waits on the database: :meth:`require_async` reads it in a thread.
    """

    def __init__(self, verify: Callable[[str], Principal], *, enabled: bool) -> None:
        self.enabled = enabled
        self._verify = verify
        self._known: dict[bytes, tuple[Principal | None, float]] = {}
        self._lock = threading.Lock()

    def require(self, authorization: str | None, action: Action) -> Principal | None:
        """The caller, checked for ``action``; ``None`` when auth is off (blocking form).

        Raises:
            Unauthenticated: no bearer token, or one that is unknown or revoked.
            PermissionDenied: the token's role may not do ``action``.
            ServiceNotReady: the database is down and the token was never seen.
        """
        if not self.enabled:
            return None
        key, secret = _key(authorization)
        principal = self._cached(key)
        if principal is _MISS:
            principal = self._check(key, secret)
        return _allowed(principal, action)

    async def require_async(self, authorization: str | None, action: Action) -> Principal | None:
        """:meth:`require` for the event loop: a cache miss is read in a worker thread."""
        if not self.enabled:
            return None
        key, secret = _key(authorization)
        principal = self._cached(key)
        if principal is _MISS:
            from starlette.concurrency import run_in_threadpool

            principal = await run_in_threadpool(self._check, key, secret)
        return _allowed(principal, action)

    def _cached(self, key: bytes) -> Principal | object | None:
        with self._lock:
            cached = self._known.get(key)
        if cached is not None and time.monotonic() - cached[1] < RECHECK_SECONDS:
            return cached[0]
        return _MISS

    def _check(self, key: bytes, secret: str) -> Principal | None:
        """The token's principal (``None``: unknown or revoked), read from the database."""
        try:
            principal: Principal | None = self._verify(secret)
        except Unauthenticated:
            principal = None
        except DatabaseUnavailable as exc:
            with self._lock:
                cached = self._known.get(key)
                if cached is not None:  # judged before: keep serving through the outage,
                    self._known[key] = (cached[0], time.monotonic())  # retried next interval
            if cached is not None:
                return cached[0]
            raise ServiceNotReady(
                "cannot check the API token: the ops database is unreachable",
                hint="try again shortly; tokens used before the outage keep working",
            ) from exc
        with self._lock:
            if len(self._known) >= MAX_CACHED:
                self._known.clear()
            self._known[key] = (principal, time.monotonic())
        return principal


_MISS = object()


def _key(authorization: str | None) -> tuple[bytes, str]:
    secret = _bearer(authorization)
    return hashlib.blake2b(secret.encode(), digest_size=16).digest(), secret


def _allowed(principal: Principal | object | None, action: Action) -> Principal:
    if not isinstance(principal, Principal):
        raise Unauthenticated(
            "the API token is unknown or revoked",
            hint="create a token with: lightkeeper tokens create --name NAME --role predict",
        )
    principal.require(action)
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
