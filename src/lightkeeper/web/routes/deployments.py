"""``/deployments``: deployments, their desired state, releases, promotion and rollback."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from lightkeeper.app import Lightkeeper
from lightkeeper.asgi.errors import NOT_FOUND, NOT_FOUND_OR_REFUSED
from lightkeeper.web.deps import LK, Reader, Who
from lightkeeper.web.params import NewName

router = APIRouter()


class DeploymentRequest(BaseModel):
    """A new deployment."""

    model_config = ConfigDict(extra="forbid")
    name: str = NewName
    model: str = Field(min_length=1)
    kind: Literal["online", "batch", "stream"] = "online"


class ReleaseRequest(BaseModel):
    """Put a version into a deployment."""

    model_config = ConfigDict(extra="forbid")
    version: StrictInt | Annotated[str, Field(min_length=1)] = Field(
        description='a version number (2 or "2") or an alias'
    )
    strategy: Literal["direct", "canary", "shadow"] = "direct"
    percent: float | None = Field(None, gt=0, le=100)
    reason: str = Field(min_length=1)


class Reason(BaseModel):
    """Why, for the audit trail."""

    model_config = ConfigDict(extra="forbid")
    reason: str = "by hand"


def _with_state(lk: Lightkeeper, name: str) -> dict[str, Any]:
    """A deployment with its desired state (``None`` before the first release)."""
    deployment = lk.releases.deployment(name)
    current = lk.releases.current(name)
    return {**deployment.to_dict(), "state": current.to_dict() if current else None}


@router.get("/deployments", summary="Deployments with their desired state")
def deployments(lk: LK, _who: Reader) -> dict[str, Any]:
    return {"deployments": [_with_state(lk, d.name) for d in lk.releases.deployments()]}


@router.post(
    "/deployments",
    status_code=201,
    summary="Create a deployment",
    responses=NOT_FOUND_OR_REFUSED,
)
def deployment_create(body: DeploymentRequest, lk: LK, who: Who) -> dict[str, Any]:
    lk.releases.create(body.name, model=body.model, kind=body.kind, by=who)
    return _with_state(lk, body.name)


@router.get(
    "/deployments/{name}",
    summary="A deployment, its state and release history",
    responses=NOT_FOUND,
)
def deployment(name: str, lk: LK, _who: Reader) -> dict[str, Any]:
    history = lk.releases.history(name)
    return {**_with_state(lk, name), "releases": [r.to_dict() for r in history]}


@router.post(
    "/deployments/{name}/releases",
    status_code=201,
    summary="Release a version (refused without an accepted gate run)",
    responses=NOT_FOUND_OR_REFUSED,
)
def release(name: str, body: ReleaseRequest, lk: LK, who: Who) -> dict[str, Any]:
    record = lk.releases.release(
        name,
        body.version,
        strategy=body.strategy,
        percent=body.percent,
        reason=body.reason,
        by=who,
    )
    return record.to_dict()


@router.post(
    "/deployments/{name}/promote",
    summary="The challenger becomes the champion",
    responses=NOT_FOUND_OR_REFUSED,
)
def promote(name: str, body: Reason, lk: LK, who: Who) -> dict[str, Any]:
    return lk.releases.promote(name, reason=body.reason, by=who).to_dict()


@router.post(
    "/deployments/{name}/rollback", summary="One step back", responses=NOT_FOUND_OR_REFUSED
)
def rollback(name: str, body: Reason, lk: LK, who: Who) -> dict[str, Any]:
    return lk.releases.rollback(name, reason=body.reason, by=who).to_dict()
