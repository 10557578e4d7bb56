"""``/audit``: the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query

from lightkeeper.web.deps import LK, Reader

router = APIRouter()


@router.get("/audit", summary="The audit trail, newest first")
def audit(
    lk: LK,
    _who: Reader,
    kind: str | None = Query(None, description="event kind or prefix, e.g. version"),
    actor: str | None = None,
    subject: str | None = Query(None, description="subject or prefix, e.g. model:churn"),
    since: datetime | None = None,
    limit: int = Query(100, ge=1, le=10_000),
) -> dict[str, Any]:
    entries = lk.audit_entries(kind=kind, actor=actor, subject=subject, since=since, limit=limit)
    return {"entries": [e.to_dict() for e in entries]}
