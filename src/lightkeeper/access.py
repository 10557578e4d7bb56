"""Who is acting: a token's owner and role, or the local user when auth is off; and the
API tokens that say so.

With auth off (the embedded single-user default) the OS user acts as ``admin`` and the
audit trail records the name. With auth on, every caller brings a token; the CLI reads
it from the ``token`` setting, HTTP requests send it as a bearer token.
"""

from __future__ import annotations

import getpass
import os

from lightkeeper.auth import Principal, Role
from lightkeeper.errors import Unauthenticated
from lightkeeper.events import EventBus, TokenChanged
from lightkeeper.settings import Settings
from lightkeeper.store.tokens import ApiToken, TokenStore


def local_user() -> str:
    """The OS user name, recorded as the actor when auth is off."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


class Access:
    """Resolve callers to principals; create, list and revoke API tokens."""

    def __init__(self, *, tokens: TokenStore, bus: EventBus, settings: Settings) -> None:
        self._tokens = tokens
        self._bus = bus
        self._settings = settings

    def principal(self, token: str | None = None, *, use_settings_token: bool = True) -> Principal:
        """Who acts: the token's owner and role, or the local user as admin with auth off.

        Args:
            token: an API token; without one the ``token`` setting is used (CLI).
            use_settings_token: False for HTTP requests, which bring their own token.
        """
        secret = token or (self._settings.token if use_settings_token else None)
        if secret:
            return self._tokens.verify(secret)
        if self._settings.auth:
            raise Unauthenticated(
                "auth is on and no API token was given",
                hint="set LIGHTKEEPER_TOKEN (CLI) or send Authorization: Bearer TOKEN (HTTP)",
            )
        return Principal(local_user(), "admin")

    def create(self, name: str, role: Role, *, by: Principal | None = None) -> tuple[ApiToken, str]:
        """Create a token (admin only, except the very first one); returns the secret once."""
        if by is None and not self._settings.token and self._tokens.count() == 0:
            principal = Principal(local_user(), "admin")  # bootstrap: the very first token
        else:
            principal = by or self.principal()
        principal.require("tokens.manage")
        token, secret = self._tokens.create(name, role, created_by=principal.name)
        self._publish(principal, token, "created")
        return token, secret

    def list(self, *, by: Principal | None = None) -> list[ApiToken]:
        """Every token record (admin only; never the secrets)."""
        by = by or self.principal()
        by.require("tokens.manage")
        return self._tokens.list()

    def revoke(self, token_id: int, *, by: Principal | None = None) -> ApiToken:
        """Revoke a token."""
        by = by or self.principal()
        by.require("tokens.manage")
        token = self._tokens.revoke(token_id)
        self._publish(by, token, "revoked")
        return token

    def _publish(self, by: Principal, token: ApiToken, change: str) -> None:
        self._bus.publish(
            TokenChanged(
                actor=by.name, token_id=token.id, name=token.name, role=token.role, change=change
            )
        )
