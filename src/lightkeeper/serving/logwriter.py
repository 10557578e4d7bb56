"""The prediction-log writer: a bounded buffer drained in batches by a background thread.

A prediction never waits for the database. ``add`` appends to a bounded buffer; when the
buffer is full the oldest record is dropped and counted. The thread writes batches, and
when the database is slow or down (:class:`~lightkeeper.errors.DatabaseUnavailable`) it
keeps the records, backs off and tries again, so logging resumes by itself when the
database returns. Any other failure is about the records, not the database: the batch is
written record by record, and the ones the database refuses are dropped and counted, so
one bad record cannot stop logging.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from lightkeeper.errors import DatabaseUnavailable, first_line
from lightkeeper.store.predictions import PredictionRecord

log = logging.getLogger(__name__)


class PredictionLogWriter:
    """Buffer prediction records and write them in batches off the request path."""

    def __init__(
        self,
        write: Callable[[Sequence[PredictionRecord]], None],
        *,
        capacity: int = 100_000,
        batch: int = 2_000,
        interval: float = 0.2,
        max_backoff: float = 5.0,
        on_drop: Callable[[int], None] | None = None,
    ) -> None:
        self._write = write
        self._on_drop = on_drop
        self.capacity = capacity
        self._batch = batch
        self._interval = interval
        self._max_backoff = max_backoff
        self._buffer: deque[PredictionRecord] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._writing = 0  # records taken from the buffer and not yet settled
        self.written = 0
        self.dropped = 0  # buffer full
        self.refused = 0  # the database would not take them (see ``last_refusal``)
        self.failures = 0
        self.last_error: str | None = None
        self.last_refusal: str | None = None

    @property
    def pending(self) -> int:
        """Records waiting to be written (in the buffer or being written)."""
        return len(self._buffer) + self._writing

    def _drop(self, count: int) -> None:
        self.dropped += count
        if self._on_drop is not None:
            self._on_drop(count)

    def add(self, records: Sequence[PredictionRecord]) -> None:
        """Queue records; never blocks on the database, drops the oldest when full."""
        with self._lock:
            self._buffer.extend(records)
            overflow = len(self._buffer) - self.capacity
            for _ in range(max(0, overflow)):
                self._buffer.popleft()
            if overflow > 0:
                self._drop(overflow)
        if len(self._buffer) >= self._batch:
            self._wake.set()

    def start(self) -> None:
        """Start the writer thread."""
        self._thread = threading.Thread(target=self._run, name="lk-prediction-log", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop, writing what is buffered if the database lets us within ``timeout``."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.pending:
            log.warning("prediction log: %d record(s) not written at shutdown", self.pending)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every record added so far is settled; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.01)
        return not self.pending

    def _run(self) -> None:
        backoff = self._interval
        while True:
            self._wake.wait(backoff)
            self._wake.clear()
            stopping = self._stop.is_set()
            while self._buffer:
                with self._lock:
                    take = min(self._batch, len(self._buffer))
                    self._writing = take  # before popping: ``pending`` never reads too low
                    chunk = [self._buffer.popleft() for _ in range(take)]
                try:
                    self._settle(chunk)
                except DatabaseUnavailable as exc:
                    self._put_back(chunk[len(chunk) - self._writing :])  # the unsettled tail
                    self.failures += 1
                    message = first_line(exc)
                    if message != self.last_error:
                        log.warning(
                            "prediction log: the database is unavailable, keeping %d record(s): %s",
                            self.pending,
                            message,
                        )
                    self.last_error = message
                    backoff = min(self._max_backoff, max(backoff * 2, 0.25))
                    break
                finally:
                    self._writing = 0
                if self.last_error is not None:
                    log.info("prediction log: writing again after: %s", self.last_error)
                    self.last_error = None
                backoff = self._interval
            if stopping:
                return

    def _settle(self, chunk: list[PredictionRecord]) -> None:
        """Write a batch; if the database refuses it, write record by record."""
        try:
            self._write(chunk)
        except DatabaseUnavailable:
            raise
        except Exception:
            for index, record in enumerate(chunk):
                self._writing = len(chunk) - index
                try:
                    self._write([record])
                except DatabaseUnavailable:
                    raise
                except Exception as exc:
                    self.refused += 1
                    message = first_line(exc)
                    if message != self.last_refusal:
                        log.error(
                            "prediction log: the database refused request %s row %s, dropped: %s",
                            record.request_id,
                            record.row,
                            message,
                        )
                    self.last_refusal = message
                    if self._on_drop is not None:
                        self._on_drop(1)
                else:
                    self.written += 1
            return
        self.written += len(chunk)

    def _put_back(self, chunk: list[PredictionRecord]) -> None:
        with self._lock:
            room = self.capacity - len(self._buffer)
            keep = chunk[max(0, len(chunk) - room) :] if room < len(chunk) else chunk
            if len(keep) < len(chunk):
                self._drop(len(chunk) - len(keep))
            self._buffer.extendleft(reversed(keep))
