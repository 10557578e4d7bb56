"""``/deployments/{name}/predictions``: the prediction log of a deployment."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from lightkeeper.asgi.errors import NOT_FOUND
from lightkeeper.web.deps import LK, Reader

router = APIRouter()


@router.get(
    "/deployments/{name}/predictions",
    summary="Logged predictions, newest first; filter by request id or arm",
    responses=NOT_FOUND,
)
def predictions(
    name: str,
    lk: LK,
    _who: Reader,
    request_id: str | None = None,
    arm: str | None = None,
    limit: int = Query(100, ge=1, le=10_000),
) -> dict[str, Any]:
    lk.releases.deployment(name)  # 404 for an unknown deployment
    found = lk.logs.find(name, request_id=request_id, arm=arm, limit=limit)
    return {"predictions": [r.to_dict() for r in found]}
