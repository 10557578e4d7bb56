"""API tokens: only a hash is stored; the token itself is shown once, at creation."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lightkeeper.auth import Principal, Role
from lightkeeper.clock import Clock
from lightkeeper.errors import InvalidInput, Unauthenticated
from lightkeeper.store.db import Database, aware
from lightkeeper.store.tables import api_tokens

PREFIX = "lk_"


def _hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ApiToken:
    """A token's record (never the token itself)."""

    id: int
    name: str
    role: Role
    prefix: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "prefix": self.prefix,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


class TokenStore:
    """Create, verify, list and revoke API tokens."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def create(self, name: str, role: Role, *, created_by: str) -> tuple[ApiToken, str]:
        """A new token; returns its record and the secret, which is not stored."""
        if not name.strip():
            raise InvalidInput(
                "a token needs a name", hint="name it after who uses it: --name ci-bot"
            )
        secret = PREFIX + secrets.token_urlsafe(32)
        with self._db.write() as conn:
            result = conn.execute(
                api_tokens.insert().values(
                    name=name,
                    role=role,
                    token_hash=_hash(secret),
                    prefix=secret[:10],
                    created_by=created_by,
                    created_at=self._clock.now(),
                )
            )
            key = result.inserted_primary_key
            assert key is not None
        return self.get(int(key[0])), secret

    def get(self, token_id: int) -> ApiToken:
        """One token record by id."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).first()
        if row is None:
            raise InvalidInput(f"no API token with id {token_id}", hint="lightkeeper tokens list")
        return _token(row._mapping)

    def list(self) -> list[ApiToken]:
        """Every token, newest first, revoked ones included."""
        with self._db.read() as conn:
            rows = conn.execute(sa.select(api_tokens).order_by(api_tokens.c.id.desc())).all()
        return [_token(r._mapping) for r in rows]

    def count(self) -> int:
        """How many tokens were ever created (revoked ones included)."""
        with self._db.read() as conn:
            query = sa.select(sa.func.count()).select_from(api_tokens)
            return int(conn.execute(query).scalar_one())

    def revoke(self, token_id: int) -> ApiToken:
        """Revoke a token; it stops working at once."""
        self.get(token_id)
        with self._db.write() as conn:
            conn.execute(
                api_tokens.update()
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=self._clock.now())
            )
        return self.get(token_id)

    def verify(self, secret: str) -> Principal:
        """The principal a token stands for; :class:`Unauthenticated` if unknown or revoked."""
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(api_tokens).where(api_tokens.c.token_hash == _hash(secret.strip()))
            ).first()
        if row is None or row._mapping["revoked_at"] is not None:
            raise Unauthenticated(
                "the API token is unknown or revoked",
                hint="create a token with: lightkeeper tokens create --name NAME --role ROLE",
            )
        return Principal(name=row._mapping["name"], role=row._mapping["role"])


def _token(row: Any) -> ApiToken:
    return ApiToken(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        prefix=row["prefix"],
        created_by=row["created_by"],
        created_at=aware(row["created_at"]),
        revoked_at=aware(row["revoked_at"]) if row["revoked_at"] else None,
    )
