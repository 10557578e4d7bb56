"""Control-plane HTTP API: health, models, versions, audit. OpenAPI at /openapi.json."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Query

from lightkeeper import __version__
from lightkeeper.web import errors

if TYPE_CHECKING:
    from lightkeeper.app import Lightkeeper


def build_api(lk: Lightkeeper) -> FastAPI:
    """Build the API for one workspace."""
    app = FastAPI(
        title="lightkeeper",
        version=__version__,
        description="Control-plane API of a lightkeeper workspace.",
    )
    errors.install(app)
    router = APIRouter(prefix="/api/v1")

    @router.get("/health", summary="Liveness of the control plane and its ops database")
    def health() -> dict[str, Any]:
        return {**lk.health(), "version": __version__}

    @router.get("/models", summary="Registered models")
    def models() -> dict[str, Any]:
        return {"models": [m.to_dict() for m in lk.models()]}

    @router.get("/models/{name}", summary="One model with its versions, newest first")
    def model(name: str) -> dict[str, Any]:
        summary = lk.registry.get_model(name)
        return {**summary.to_dict(), "version_list": [v.to_dict() for v in lk.versions(name)]}

    @router.get(
        "/models/{name}/versions/{version}",
        summary="One version with lineage, params and metrics (number, 'latest' or an alias)",
    )
    def version(name: str, version: str) -> dict[str, Any]:
        return lk.version(name, version).to_dict()

    @router.get("/audit", summary="The audit trail, newest first")
    def audit(
        kind: str | None = Query(None, description="event kind or prefix, e.g. version"),
        actor: str | None = None,
        subject: str | None = Query(None, description="subject or prefix, e.g. model:churn"),
        since: datetime | None = None,
        limit: int = Query(100, ge=1, le=10_000),
    ) -> dict[str, Any]:
        entries = lk.audit_entries(
            kind=kind, actor=actor, subject=subject, since=since, limit=limit
        )
        return {"entries": [e.to_dict() for e in entries]}

    app.include_router(router)
    return app
