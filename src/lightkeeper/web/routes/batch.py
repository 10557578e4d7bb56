"""``/deployments/{name}/batch-runs``: runs of a batch deployment."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from lightkeeper.asgi.errors import NOT_FOUND
from lightkeeper.web.deps import LK, Reader

router = APIRouter()


@router.get(
    "/deployments/{name}/batch-runs",
    summary="Runs of a batch deployment, newest first: status, rows, versions, summary",
    responses=NOT_FOUND,
)
def batch_runs(
    name: str,
    lk: LK,
    _who: Reader,
    partition: str | None = None,
    limit: int = Query(50, ge=1, le=1000),
) -> dict[str, Any]:
    found = lk.batch.runs(name, partition=partition, limit=limit)
    return {"deployment": name, "runs": [r.to_dict() for r in found]}
