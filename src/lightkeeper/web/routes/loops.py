"""``/loops``: the control plane's loops, and what each round decided (skips included)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from lightkeeper.web.deps import LK, Reader

router = APIRouter()


@router.get("/loops", summary="The control plane's loops in each process that runs them")
def loops(lk: LK, _who: Reader, loop: str | None = None) -> dict[str, Any]:
    now = lk.clock.now()
    return {"loops": [s.to_dict(now) for s in lk.loops(loop)]}


@router.get(
    "/loops/decisions",
    summary="What the loops decided: ran, skipped (and why) or failed, most recent first",
)
def decisions(
    lk: LK,
    _who: Reader,
    loop: str | None = None,
    subject: str | None = None,
    outcome: Literal["ran", "skipped", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    found = lk.loop_decisions(loop=loop, subject=subject, outcome=outcome, limit=limit)
    return {"decisions": [d.to_dict() for d in found]}
