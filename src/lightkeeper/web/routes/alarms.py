"""``/alarms``: alarms raised by the rules, taken on and resolved by people."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from lightkeeper.asgi.errors import NOT_FOUND, NOT_FOUND_OR_REFUSED
from lightkeeper.web.deps import LK, Reader, Who
from lightkeeper.web.params import Id

router = APIRouter()


class AlarmNote(BaseModel):
    """A note or a reason on an alarm, for the audit trail."""

    model_config = ConfigDict(extra="forbid")
    note: str = ""


class AlarmResolution(BaseModel):
    """Why an alarm is resolved."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1)


@router.get("/alarms", summary="Alarms, most recently raised first, with their deliveries")
def alarms_list(
    lk: LK,
    _who: Reader,
    state: Literal["active", "open", "acknowledged", "resolved", "all"] = "active",
    deployment: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    found = lk.alarms.find(
        state=None if state == "all" else state, deployment=deployment, limit=limit
    )
    return {"alarms": [a.to_dict() for a in found]}


@router.get(
    "/alarms/{alarm_id}",
    summary="One alarm: evidence, owner, runbook, deliveries",
    responses=NOT_FOUND,
)
def alarm_show(alarm_id: Id, lk: LK, _who: Reader) -> dict[str, Any]:
    return lk.alarms.get(alarm_id).to_dict()


@router.post(
    "/alarms/{alarm_id}/ack", summary="Take an open alarm on", responses=NOT_FOUND_OR_REFUSED
)
def alarm_ack(alarm_id: Id, lk: LK, who: Who, body: AlarmNote | None = None) -> dict[str, Any]:
    note = body.note if body is not None else ""
    return lk.alarms.acknowledge(alarm_id, note=note, by=who).to_dict()


@router.post(
    "/alarms/{alarm_id}/resolve",
    summary="Resolve an alarm; its sinks are told",
    responses=NOT_FOUND_OR_REFUSED,
)
def alarm_resolve(alarm_id: Id, body: AlarmResolution, lk: LK, who: Who) -> dict[str, Any]:
    return lk.alarms.resolve(alarm_id, reason=body.reason, by=who).to_dict()
