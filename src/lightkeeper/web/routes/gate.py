"""The acceptance gate: run it on a version, hand the version over, read past runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict

from lightkeeper.asgi.errors import NOT_FOUND, NOT_FOUND_OR_REFUSED
from lightkeeper.errors import GateRunNotFound
from lightkeeper.names import MAX_ID
from lightkeeper.web.deps import LK, Reader, Who
from lightkeeper.web.params import Id

router = APIRouter()


class Acceptance(BaseModel):
    """An operator's hand-over decision."""

    model_config = ConfigDict(extra="forbid")
    override: bool = False
    reason: str = ""


@router.post(
    "/models/{name}/versions/{version}/gate",
    summary="Run the acceptance gate (in a fresh process); returns the gate run",
    responses=NOT_FOUND_OR_REFUSED,
)
def gate_run(
    name: str,
    version: str,
    lk: LK,
    who: Who,
    deployment: str | None = Query(
        None,
        description="compare with this deployment's champion (default: every "
        "deployment's champion of the model; the strictest decides)",
    ),
) -> dict[str, Any]:
    return lk.gate.run(name, version, deployment=deployment, by=who).to_dict()


@router.get(
    "/models/{name}/versions/{version}/gate",
    summary="The newest gate run of a version",
    responses=NOT_FOUND,
)
def gate_latest(name: str, version: str, lk: LK, _who: Reader) -> dict[str, Any]:
    number = lk.version(name, version).version
    return lk.gate.latest(name, number).to_dict()


@router.post(
    "/models/{name}/versions/{version}/accept",
    summary="Hand-over: accept the newest gate run (override a failed one with a reason)",
    responses=NOT_FOUND_OR_REFUSED,
)
def gate_accept(name: str, version: str, body: Acceptance, lk: LK, who: Who) -> dict[str, Any]:
    run = lk.gate.accept(name, version, override=body.override, reason=body.reason, by=who)
    return run.to_dict()


@router.get("/gate/runs", summary="Gate runs, newest first")
def gate_runs(
    lk: LK,
    _who: Reader,
    model: str | None = None,
    version: int | None = Query(None, ge=1, le=MAX_ID),
    limit: int = Query(50, ge=1, le=1000),
) -> dict[str, Any]:
    runs = lk.gate.runs(model=model, version=version, limit=limit)
    return {"runs": [r.to_dict() for r in runs]}


@router.get(
    "/gate/runs/{run_id}",
    summary="One gate run (the JSON twin of its report)",
    responses=NOT_FOUND,
)
def gate_get(run_id: Id, lk: LK, _who: Reader) -> dict[str, Any]:
    return lk.gate.get(run_id).to_dict()


@router.get(
    "/gate/runs/{run_id}/report",
    response_class=HTMLResponse,
    summary="The self-contained HTML report of a gate run",
    responses=NOT_FOUND,
)
def gate_report(run_id: Id, lk: LK, _who: Reader) -> HTMLResponse:
    run = lk.gate.get(run_id)
    if not run.report_path or not Path(run.report_path).is_file():
        raise GateRunNotFound(
            f"the report of gate run {run_id} is not on this machine",
            hint="run the gate again, or read the JSON twin at /api/v1/gate/runs/{id}",
        )
    return HTMLResponse(Path(run.report_path).read_text(encoding="utf-8"))
