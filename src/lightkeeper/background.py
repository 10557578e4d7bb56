"""Periodic background work (loaders, heartbeats, controllers) in daemon threads."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lightkeeper.app import Lightkeeper

log = logging.getLogger(__name__)


class Periodic:
    """Call ``tick`` every ``interval`` seconds in a daemon thread until :meth:`stop`.

    ``tick`` should handle its own errors; one that escapes is logged and ends nothing
    but that call, so the loop (following releases, say) never dies silently.
    """

    def __init__(
        self, name: str, interval: float, tick: Callable[[], object], *, now: bool = False
    ) -> None:
        self.name = name
        self.interval = interval
        self._tick = tick
        self._now = now
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (ticking at once when ``now``, else after one interval)."""
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop and wait for a running tick to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        if self._now:
            self._safely()
        while not self._stop.wait(self.interval):
            self._safely()

    def _safely(self) -> None:
        try:
            self._tick()
        except Exception:
            log.exception("%s: a tick failed; the next one runs as planned", self.name)


class LeasedLoop(ABC):
    """Control-plane work every ``interval`` seconds, done by one process at a time.

    Subclasses set :attr:`lease` and implement :meth:`work`. With a ``holder`` (several
    ``lightkeeper up`` processes) a tick works only while holding the database lease
    ``lease`` (taken for ``lease_intervals`` intervals); without one it always works.
    """

    lease: str = ""
    lease_intervals: float = 3.0

    def __init__(self, lk: Lightkeeper, *, holder: str | None = None, interval: float) -> None:
        self.lk = lk
        self.holder = holder
        self.interval = interval
        self._loop = Periodic(f"lk-{self.lease}", interval, self._tick, now=True)

    def start(self) -> None:
        """Work in a background thread, at once and then every ``interval`` seconds."""
        self._loop.start()

    def stop(self) -> None:
        """Stop (work under way finishes) and give the lease up for another process."""
        self._loop.stop()
        if self.holder is not None:
            try:
                self.lk.lease_store.release(self.lease, self.holder)
            except Exception as exc:  # it expires by itself
                log.debug("cannot release the %s lease: %s", self.lease, exc)

    @abstractmethod
    def work(self) -> object:
        """One round of the work."""

    def standby(self) -> None:  # noqa: B027 - optional hook: most loops need nothing here
        """Called on a tick when another process holds the lease."""

    def _tick(self) -> None:
        seconds = max(self.lease_intervals * self.interval, 60.0)
        if self.holder is None or self.lk.lease_store.acquire(
            self.lease, self.holder, seconds=seconds
        ):
            self.work()
        else:
            self.standby()
