"""Monitor results: drift and performance checks of a deployment, stored with reports."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from lightkeeper.asgi.errors import NOT_FOUND, NOT_FOUND_OR_REFUSED
from lightkeeper.web.deps import LK, Reader, Who
from lightkeeper.web.params import Id

router = APIRouter()


class MonitorCheck(BaseModel):
    """A drift or performance check over a window of prediction logs."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["drift", "performance"] = "drift"
    window: str | None = Field(None, description="30m, 6h, 1d, 2w; default monitoring.window")
    end: AwareDatetime | None = Field(None, description="window end; default now")


@router.get(
    "/deployments/{name}/monitor-results",
    summary="Stored monitor results of a deployment (drift per window), newest first",
    responses=NOT_FOUND,
)
def monitor_results(
    name: str, lk: LK, _who: Reader, limit: int = Query(50, ge=1, le=1000)
) -> dict[str, Any]:
    found = lk.monitor_results(name, limit=limit)
    return {"deployment": name, "results": [r.to_dict() for r in found]}


@router.post(
    "/deployments/{name}/monitor-results",
    status_code=201,
    summary="Check drift (or performance) over a window now (default: the manifest's "
    "window, ending now)",
    responses=NOT_FOUND_OR_REFUSED,
)
def monitor_drift(name: str, lk: LK, who: Who, body: MonitorCheck | None = None) -> dict[str, Any]:
    check = body or MonitorCheck(kind="drift", window=None, end=None)
    monitor = lk.performance if check.kind == "performance" else lk.drift
    return monitor.run(name, window=check.window, end=check.end, by=who).to_dict()


@router.get(
    "/monitor-results/{result_id}",
    summary="One monitor result (the report's twin)",
    responses=NOT_FOUND,
)
def monitor_result(result_id: Id, lk: LK, _who: Reader) -> dict[str, Any]:
    return lk.monitor_result(result_id).to_dict()


@router.get(
    "/monitor-results/{result_id}/report",
    response_class=HTMLResponse,
    summary="The self-contained HTML drift report of a monitor result",
    responses=NOT_FOUND,
)
def monitor_report(result_id: Id, lk: LK, _who: Reader) -> HTMLResponse:
    from lightkeeper.monitor.report import render_result

    return HTMLResponse(render_result(lk.monitor_result(result_id)))
