"""``/api/v1/health``: liveness, outside the authenticated API (a probe has no token)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lightkeeper.asgi import errors
from lightkeeper.version import __version__
from lightkeeper.web.deps import LK

router = APIRouter()


@router.get(
    "/api/v1/health",
    summary="Liveness of the control plane and its ops database",
    responses=errors.responses(500, 503),
)
def health(lk: LK) -> dict[str, Any]:
    return {**lk.health(), "version": __version__}
