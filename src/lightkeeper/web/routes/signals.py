"""``/signals``: life signals (heartbeats) of servers, jobs and consumers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lightkeeper.web.deps import LK, Reader

router = APIRouter()


@router.get("/signals", summary="Life signals: the newest heartbeat of each instance")
def signals(lk: LK, _who: Reader, subject: str | None = None) -> dict[str, Any]:
    now = lk.clock.now()
    return {"signals": [s.to_dict(now) for s in lk.life_signals(subject)]}
