"""``/deployments/{name}/labels``: outcomes joined to logged predictions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from lightkeeper.asgi.errors import NOT_FOUND_OR_REFUSED
from lightkeeper.web.deps import LK, Who

router = APIRouter()


class LabelRows(BaseModel):
    """Outcomes to join to logged predictions."""

    model_config = ConfigDict(extra="forbid")
    rows: list[dict[str, Any]] = Field(
        min_length=1, description="request_id or entity key, and the outcome"
    )
    label: str | None = Field(None, description="the outcome column; default: the target")
    at: str | None = Field(None, description="outcome time column (entity-key joins)")


@router.post(
    "/deployments/{name}/labels",
    status_code=201,
    summary="Join outcomes to logged predictions (by request_id, or entity key and time)",
    responses=NOT_FOUND_OR_REFUSED,
)
def labels_ingest(name: str, body: LabelRows, lk: LK, who: Who) -> dict[str, Any]:
    import pandas as pd

    frame = pd.DataFrame.from_records(body.rows)
    done = lk.labels.ingest(name, frame, label=body.label, at=body.at, by=who)
    return done.to_dict()
