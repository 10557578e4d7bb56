"""Periodic work in a daemon thread (loaders, heartbeats, lease renewal)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

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
