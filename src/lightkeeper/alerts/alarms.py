"""Alarms as people handle them: list, take on, resolve, and send what is due."""

from __future__ import annotations

from lightkeeper.alerts.dispatch import Dispatcher, Outcome
from lightkeeper.auth import Principal, Whoami
from lightkeeper.errors import InvalidInput
from lightkeeper.events import AlarmAcknowledged, AlarmResolved, EventBus
from lightkeeper.store.alarms import Alarm, AlarmStore

STATES = ("active", "open", "acknowledged", "resolved")


class Alarms:
    """What operators do with alarms; every change is published (audit trail, sinks)."""

    def __init__(
        self, *, alarms: AlarmStore, bus: EventBus, dispatcher: Dispatcher, whoami: Whoami
    ) -> None:
        self._whoami = whoami
        self._store = alarms
        self._bus = bus
        self._dispatcher = dispatcher

    def find(
        self, *, state: str | None = "active", deployment: str | None = None, limit: int = 100
    ) -> list[Alarm]:
        """Alarms, most recently raised first (``active``: open or acknowledged; None: all)."""
        if state is not None and state not in STATES:
            raise InvalidInput(
                f"{state!r} is not an alarm state",
                hint="active, open, acknowledged, resolved or all",
            )
        return self._store.find(state=state, deployment=deployment, limit=limit)

    def get(self, alarm_id: int) -> Alarm:
        """One alarm with its deliveries."""
        return self._store.get(alarm_id)

    def acknowledge(self, alarm_id: int, *, note: str = "", by: Principal | None = None) -> Alarm:
        """Take an open alarm on."""
        by = by or self._whoami()
        by.require("alarm.manage")
        alarm = self._store.acknowledge(alarm_id, by=by.name, note=note)
        self._bus.publish(AlarmAcknowledged(actor=by.name, reason=note, alarm_id=alarm_id))
        return alarm

    def resolve(self, alarm_id: int, *, reason: str, by: Principal | None = None) -> Alarm:
        """Close an alarm by hand; its sinks hear of it."""
        by = by or self._whoami()
        by.require("alarm.manage")
        if not reason.strip():
            raise InvalidInput(
                "resolving an alarm needs a reason", hint='--reason "fixed the feed"'
            )
        alarm = self._store.resolve(alarm_id, by=by.name, resolution=reason)
        self._bus.publish(
            AlarmResolved(actor=by.name, reason=reason, alarm_id=alarm_id, auto=False)
        )
        self._dispatcher.deliver([d for d in alarm.deliveries if d.status == "pending"])
        return self._store.get(alarm_id)

    def deliver(self, *, everything: bool = False, by: Principal | None = None) -> list[Outcome]:
        """Attempt the pending deliveries that are due (all of them with ``everything``).

        An operator action: it sends with the sinks' secrets.
        """
        by = by or self._whoami()
        by.require("alarm.deliver")
        return self._dispatcher.deliver_due(everything=everything)
