"""``/deployments/{name}/predictions`` and ``.../traffic``: the prediction log of a
deployment, and its volume, errors and latency over time."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from lightkeeper.asgi.errors import NOT_FOUND
from lightkeeper.web.deps import LK, Reader

router = APIRouter()


@router.get(
    "/deployments/{name}/predictions",
    summary="Logged predictions, newest first; filter by request id or arm",
    responses=NOT_FOUND,
)
def predictions(
    name: str,
    lk: LK,
    _who: Reader,
    request_id: str | None = None,
    arm: str | None = None,
    limit: int = Query(100, ge=1, le=10_000),
) -> dict[str, Any]:
    lk.releases.deployment(name)  # 404 for an unknown deployment
    found = lk.logs.find(name, request_id=request_id, arm=arm, limit=limit)
    return {"predictions": [r.to_dict() for r in found]}


@router.get(
    "/deployments/{name}/traffic",
    summary="Requests, rows, errors and latency percentiles per time bucket and arm "
    "(default: the last day in hours)",
    responses=NOT_FOUND,
)
def traffic(
    name: str,
    lk: LK,
    _who: Reader,
    window: str = Query("1d", description="how far back: 30m, 6h, 1d, 2w"),
    every: str = Query("1h", description="bucket length: 1m, 1h, 1d"),
) -> dict[str, Any]:
    from lightkeeper.clock import parse_duration
    from lightkeeper.errors import InvalidInput

    lk.releases.deployment(name)  # 404 for an unknown deployment
    try:
        span, bucket = parse_duration(window), parse_duration(every)
    except ValueError as exc:
        raise InvalidInput(str(exc), hint="e.g. window=1d&every=1h") from None
    end = lk.clock.now()
    series = lk.logs.traffic(name, start=end - span, end=end, every=bucket)
    return {"deployment": name, "window": window, "every": every, "buckets": series}
