"""Deliver alarm messages to their sinks; a failed delivery stays pending and is retried.

Each attempt first claims its delivery in the database, so the rule engine (which tries
new messages at once), the control plane's rounds and ``alarms deliver`` never send the
same message twice.

Backoff doubles from 30 seconds up to an hour, without a last attempt: an alarm is never
dropped because a sink was down. Pending deliveries are visible in ``lightkeeper alarms
list|show`` and the API, with their attempts and last error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from lightkeeper.alerts.sinks import SinkFailed, send
from lightkeeper.decisions import Decision

if TYPE_CHECKING:
    from lightkeeper.clock import Clock
    from lightkeeper.settings import Settings
    from lightkeeper.store.alarms import AlarmStore, Delivery

log = logging.getLogger(__name__)

FIRST_RETRY = 30.0  # seconds after the first failure
LAST_RETRY = 3600.0  # the longest wait between attempts


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    return timedelta(seconds=min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY))


@dataclass(frozen=True)
class Outcome:
    """How one delivery attempt went."""

    delivery_id: int
    alarm_id: int
    sink: str
    delivered: bool
    error: str | None = None


class Dispatcher:
    """Send due deliveries (or given ones) and record each attempt."""

    def __init__(self, *, alarms: AlarmStore, settings: Settings, clock: Clock) -> None:
        self.alarms = alarms
        self.settings = settings  # the sinks' secrets and addresses
        self.clock = clock

    def round(self) -> list[Decision]:
        """One round of the control plane: deliver what is due, one decision per attempt."""
        outcomes = self.deliver_due()
        if not outcomes:
            return [Decision.skipped("alarm deliveries", "nothing due")]
        return [
            Decision.ran(f"alarm {o.alarm_id}", f"delivered alarm {o.alarm_id} to {o.sink}")
            if o.delivered
            else Decision.failed(f"alarm {o.alarm_id}", f"{o.sink}: {o.error}")
            for o in outcomes
        ]

    def deliver_due(self, *, everything: bool = False, limit: int = 100) -> list[Outcome]:
        """Attempt every pending delivery that is due (``everything``: due or not)."""
        return self.deliver(self.alarms.due(limit=limit, everything=everything))

    def deliver(self, deliveries: list[Delivery]) -> list[Outcome]:
        """Attempt these deliveries now."""
        store = self.alarms
        outcomes = []
        for delivery in deliveries:
            if not store.claim(delivery):  # another process is on it, or just did it
                continue
            alarm = store.get(delivery.alarm_id)
            try:
                receipt = send(delivery, alarm, self.settings, store.receipt)
            except SinkFailed as exc:
                error = str(exc)
            except Exception as exc:  # a bug in a sender must not lose the alarm either
                log.exception("sink %s crashed on alarm %d", delivery.sink, alarm.id)
                error = f"{type(exc).__name__}: {exc}"
            else:
                store.delivered(delivery.id, receipt)
                log.info("alarm %d %s delivered to %s", alarm.id, delivery.message, delivery.sink)
                outcomes.append(Outcome(delivery.id, alarm.id, delivery.sink, True))
                continue
            retry_at = self.clock.now() + backoff(delivery.attempts + 1)
            store.failed(delivery.id, error=error, retry_at=retry_at)
            log.warning(
                "alarm %d %s not delivered to %s (attempt %d, next at %s): %s",
                alarm.id,
                delivery.message,
                delivery.sink,
                delivery.attempts + 1,
                f"{retry_at:%H:%M:%S}",
                error,
            )
            outcomes.append(Outcome(delivery.id, alarm.id, delivery.sink, False, error))
        return outcomes
