"""``/models``: registered models and their versions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lightkeeper.asgi.errors import NOT_FOUND
from lightkeeper.web.deps import LK, Reader

router = APIRouter()


@router.get("/models", summary="Registered models")
def models(lk: LK, _who: Reader) -> dict[str, Any]:
    return {"models": [m.to_dict() for m in lk.registry.list_models()]}


@router.get(
    "/models/{name}", summary="One model with its versions, newest first", responses=NOT_FOUND
)
def model(name: str, lk: LK, _who: Reader) -> dict[str, Any]:
    summary = lk.registry.get_model(name)
    return {
        **summary.to_dict(),
        "version_list": [v.to_dict() for v in lk.registry.list_versions(name)],
    }


@router.get(
    "/models/{name}/versions/{version}",
    summary="One version with lineage, params and metrics (number, 'latest' or an alias)",
    responses=NOT_FOUND,
)
def version(name: str, version: str, lk: LK, _who: Reader) -> dict[str, Any]:
    return lk.version(name, version).to_dict()
