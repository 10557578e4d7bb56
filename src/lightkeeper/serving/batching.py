"""Adaptive micro-batching: concurrent requests for one version share one ``predict`` call.

Nothing waits on purpose. While a batch is inside the model, new requests queue; when it
returns, everything queued goes in as the next batch. At concurrency 1 a request goes
straight through; under load, batches grow with the load and the per-call overhead of
the model (pandas frame, input checks, tree traversal setup) is paid once per batch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from starlette.concurrency import run_in_threadpool

MAX_BATCH_ROWS = 1024


class Batcher:
    """Coalesce concurrent ``predict`` calls on one model into batches."""

    def __init__(
        self, predict: Callable[[list[Any]], Any], *, max_rows: int = MAX_BATCH_ROWS
    ) -> None:
        self._predict = predict
        self._max_rows = max_rows
        self._queue: list[tuple[list[Any], asyncio.Future[tuple[list[Any], float]]]] = []
        self._busy = False
        self._task: asyncio.Task[None] | None = None

    async def predict(self, rows: list[Any]) -> tuple[list[Any], float]:
        """Predictions for ``rows`` and the seconds the model call took.

        Raises whatever the model raised on these rows (a failing batch is retried
        request by request, so one bad request does not fail its neighbours).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[list[Any], float]] = loop.create_future()
        self._queue.append((rows, future))
        if not self._busy:
            self._busy = True
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._take()
                combined = [row for rows, _ in batch for row in rows]
                try:
                    outputs, seconds = await run_in_threadpool(self._timed, combined)
                except Exception as exc:
                    if len(batch) == 1:
                        if not batch[0][1].done():
                            batch[0][1].set_exception(exc)
                    else:
                        for rows, future in batch:
                            await self._one(rows, future)
                    continue
                start = 0
                for rows, future in batch:
                    if not future.done():
                        future.set_result((outputs[start : start + len(rows)], seconds))
                    start += len(rows)
        finally:
            self._busy = False

    def _take(self) -> list[tuple[list[Any], asyncio.Future[tuple[list[Any], float]]]]:
        count, rows = 0, 0
        for rows_i, _ in self._queue:
            if count and rows + len(rows_i) > self._max_rows:
                break
            count += 1
            rows += len(rows_i)
        batch, self._queue = self._queue[:count], self._queue[count:]
        return batch

    async def _one(self, rows: list[Any], future: asyncio.Future[tuple[list[Any], float]]) -> None:
        try:
            result = await run_in_threadpool(self._timed, rows)
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(result)

    def _timed(self, rows: list[Any]) -> tuple[list[Any], float]:
        start = time.perf_counter()
        values = self._predict(rows)
        seconds = time.perf_counter() - start
        return _plain(values), seconds


def _plain(values: Any) -> list[Any]:
    """Model output as JSON-ready Python values; NaN and infinities become ``None``."""
    array = np.asarray(values)
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            cleaned = array.astype(object)
            cleaned[~finite] = None
            return list(cleaned.tolist())
    return list(array.tolist())
