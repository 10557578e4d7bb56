"""Adaptive micro-batching: concurrent requests for one version share one ``predict`` call.

Nothing waits on purpose. While a batch is inside the model, new requests queue; when it
returns, everything queued goes in as the next batch. At concurrency 1 a request goes
straight through; under load, batches grow with the load and the per-call overhead of
the model (pandas frame, input checks, tree traversal setup) is paid once per batch.

Where the model call runs depends on what it costs. A cheap model (recent successful
calls under :data:`INLINE_SECONDS`, and at most :data:`INLINE_ROWS` rows) is called on
the event loop: a thread hop costs two GIL hand-overs
and a wake-up, a good part of a millisecond, and small numpy/pandas work holds the GIL
anyway, so a thread buys no parallelism. Requests that arrive meanwhile wait in the
socket buffer and form the next batch. A costly model runs in a worker thread, so probes
and the parsing of the next requests go on while it computes.

A costly model also lingers a little under load. With N clients each waiting for its
answer, starting the next batch the moment the last one returns settles into two halves
of N/2 taking turns. So when the last batch held several requests, the next one waits
until as many have queued, for at most :data:`LINGER_SHARE` of a model call: a tenth
more latency at worst, about twice the throughput when the clients come back in time.
At concurrency 1 nothing lingers (only the first lone request after a burst may wait once).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

MAX_BATCH_ROWS = 1024
INLINE_SECONDS = 0.004  # model calls faster than this (on average) run on the event loop
INLINE_ROWS = 256  # ... if they have at most this many rows
LINGER_SHARE = 0.1  # the longest wait for more requests, as a share of one model call
_SMOOTHING = 0.2  # weight of the newest call in the running average of call seconds


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
        self._average: float | None = None  # seconds per model call, smoothed
        self._last = 0  # requests in the last batch
        self._wanted = 0  # requests the lingering batch waits for
        self._filled = asyncio.Event()
        self._thread: ThreadPoolExecutor | None = None

    @property
    def inline(self) -> bool:
        """The model is cheap enough to call on the event loop."""
        return self._average is not None and self._average < INLINE_SECONDS

    async def predict(self, rows: list[Any]) -> tuple[list[Any], float]:
        """Predictions for ``rows`` and the seconds the model call took.

        Raises whatever the model raised on these rows (a failing batch is retried
        request by request, so one bad request does not fail its neighbours).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[list[Any], float]] = loop.create_future()
        self._queue.append((rows, future))
        if self._wanted and len(self._queue) >= self._wanted:
            self._filled.set()
        if not self._busy:
            self._busy = True
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                await self._linger()
                batch = self._take()
                self._last = len(batch)
                combined = [row for rows, _ in batch for row in rows]
                try:
                    outputs, seconds = await self._call(combined)
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

    async def _linger(self) -> None:
        if self.inline or self._average is None or self._last < 2:
            return
        if len(self._queue) >= self._last:
            return
        self._wanted = self._last
        self._filled.clear()
        try:
            await asyncio.wait_for(self._filled.wait(), self._average * LINGER_SHARE)
        except TimeoutError:
            pass
        finally:
            self._wanted = 0

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
            result = await self._call(rows)
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(result)

    async def _call(self, rows: list[Any]) -> tuple[list[Any], float]:
        if self.inline and len(rows) <= INLINE_ROWS:
            return self._timed(rows)
        if self._thread is None:  # one batch at a time: one thread (a third cheaper than anyio's)
            # ends by itself when a swapped-out version's batcher is garbage-collected
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="lk-model")
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._timed, rows)

    def _timed(self, rows: list[Any]) -> tuple[list[Any], float]:
        start = time.perf_counter()
        values = self._predict(rows)
        seconds = time.perf_counter() - start
        if len(rows) <= INLINE_ROWS:  # failures and big batches say little about the usual call
            previous = self._average
            self._average = (
                seconds if previous is None else previous + _SMOOTHING * (seconds - previous)
            )
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
