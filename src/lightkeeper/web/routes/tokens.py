"""``/tokens``: API tokens (the facade checks that the caller may manage them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from lightkeeper.auth import Role
from lightkeeper.web.deps import LK, Who
from lightkeeper.web.params import Id

router = APIRouter()


class TokenRequest(BaseModel):
    """A new API token."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    role: Role


@router.get("/tokens", summary="API tokens (never their secrets)")
def tokens_list(lk: LK, who: Who) -> dict[str, Any]:
    return {"tokens": [t.to_dict() for t in lk.access.list(by=who)]}


@router.post("/tokens", status_code=201, summary="Create a token; the secret is returned once")
def tokens_create(body: TokenRequest, lk: LK, who: Who) -> dict[str, Any]:
    token, secret = lk.access.create(body.name, body.role, by=who)
    return {**token.to_dict(), "token": secret}


@router.delete("/tokens/{token_id}", summary="Revoke a token")
def tokens_revoke(token_id: Id, lk: LK, who: Who) -> dict[str, Any]:
    return lk.access.revoke(token_id, by=who).to_dict()
