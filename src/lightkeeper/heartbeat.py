"""Life signals: a running server, job or consumer says "alive" every few seconds.

The sender runs in a background thread and upserts the instance's heartbeat (loaded
versions, counters) into the ops database. A database outage only delays the next beat.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from typing import Any

from lightkeeper.clock import Clock
from lightkeeper.errors import first_line
from lightkeeper.periodic import Periodic
from lightkeeper.store.signals import LifeSignal, SignalStore

log = logging.getLogger(__name__)

DEFAULT_CADENCE = 5.0


def new_instance_id(kind: str) -> str:
    """A unique, readable instance id: ``serve-host-pid-abcd``."""
    host = socket.gethostname().split(".")[0]
    return f"{kind}-{host}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class HeartbeatSender:
    """Send an instance's heartbeat every ``cadence`` seconds."""

    def __init__(
        self,
        store: SignalStore,
        clock: Clock,
        *,
        instance_id: str,
        kind: str,
        subject: str,
        payload: Callable[[], dict[str, Any]],
        cadence: float = DEFAULT_CADENCE,
    ) -> None:
        self._store = store
        self._clock = clock
        self.instance_id = instance_id
        self.kind = kind
        self.subject = subject
        self._payload = payload
        self.cadence = cadence
        self.started_at = clock.now()
        self._failing: str | None = None
        self._loop = Periodic("lk-heartbeat", cadence, self.beat, now=True)

    def beat(self) -> bool:
        """Send one heartbeat now; False (and logged once) when the database is down."""
        signal = LifeSignal(
            instance_id=self.instance_id,
            kind=self.kind,
            subject=self.subject,
            host=socket.gethostname(),
            pid=os.getpid(),
            started_at=self.started_at,
            last_seen=self._clock.now(),
            cadence_seconds=self.cadence,
            payload=self._payload(),
        )
        try:
            self._store.beat(signal)
        except Exception as exc:
            message = first_line(exc)
            if message != self._failing:
                log.warning("%s: heartbeat not recorded: %s", self.instance_id, message)
                self._failing = message
            return False
        if self._failing is not None:
            log.info("%s: heartbeats recorded again", self.instance_id)
            self._failing = None
        return True

    def start(self) -> None:
        """Beat now and then every ``cadence`` seconds in a background thread."""
        self._loop.start()

    def stop(self) -> None:
        """Stop beating and sign off, so a clean stop is not mistaken for a silent death."""
        self._loop.stop()
        try:
            self._store.remove(self.instance_id)
        except Exception as exc:  # the watchdog will see it overdue, which is still true
            log.warning("%s: cannot sign off: %s", self.instance_id, first_line(exc))
