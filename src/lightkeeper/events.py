"""Domain events and the bus that records and delivers them.

Features announce what happened (a version was registered, a gate failed, drift was
detected) by publishing an event; other features subscribe. Every published event is
also appended to the audit table, so "who did what, when, why" is one query away.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every domain event: who caused it and why."""

    kind: ClassVar[str] = "event"
    actor: str
    reason: str = ""

    @property
    def subject(self) -> str:
        """What the event is about, for example ``model:churn/3``."""
        return ""

    def payload(self) -> dict[str, Any]:
        """The event's own fields as JSON-ready data (actor and reason excluded)."""
        data = asdict(self)
        data.pop("actor")
        data.pop("reason")
        return data


@dataclass(frozen=True, kw_only=True)
class VersionRegistered(Event):
    """A new model version was registered in the model store."""

    kind: ClassVar[str] = "version.registered"
    model: str
    version: int
    run_id: str | None = None
    data_hash: str | None = None

    @property
    def subject(self) -> str:
        return f"model:{self.model}/{self.version}"


@dataclass(frozen=True, kw_only=True)
class TrainingFailedEvent(Event):
    """A train entrypoint raised or returned something unusable; nothing was registered."""

    kind: ClassVar[str] = "training.failed"
    model: str
    error: str
    run_id: str | None = None

    @property
    def subject(self) -> str:
        return f"model:{self.model}"


@dataclass(frozen=True, kw_only=True)
class DatabaseUpgraded(Event):
    """The ops database schema was migrated."""

    kind: ClassVar[str] = "database.upgraded"
    from_revision: str | None
    to_revision: str
    tables: list[str] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return "database"


class EventSink(Protocol):
    """Where published events are persisted (the audit store)."""

    def append(self, event: Event) -> int: ...


Handler = Callable[[Event], None]


class EventBus:
    """Records each event in the audit sink, then calls the subscribers of its type."""

    def __init__(self, sink: EventSink) -> None:
        self._sink = sink
        self._handlers: dict[type[Event], list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[Event], handler: Handler) -> None:
        """Call ``handler`` for every event of ``event_type`` (subclasses included)."""
        self._handlers[event_type].append(handler)

    def publish(self, event: Event) -> int:
        """Append the event to the audit trail and deliver it; returns the audit id.

        A failing subscriber is logged and does not stop the others: the event is
        already recorded, which is what matters for the audit trail.
        """
        audit_id = self._sink.append(event)
        log.info("%s %s by %s", event.kind, event.subject, event.actor)
        for event_type, handlers in list(self._handlers.items()):
            if isinstance(event, event_type):
                for handler in handlers:
                    try:
                        handler(event)
                    except Exception:
                        log.exception("handler %r failed on %s", handler, event.kind)
        return audit_id


@dataclass(frozen=True, kw_only=True)
class GoldDatasetAdded(Event):
    """A new version of a gold dataset was stored."""

    kind: ClassVar[str] = "gold.added"
    name: str
    version: int
    content_hash: str
    rows: int
    owner: str

    @property
    def subject(self) -> str:
        return f"gold:{self.name}/{self.version}"


@dataclass(frozen=True, kw_only=True)
class GoldDatasetApproved(Event):
    """The business owner signed off a gold dataset version."""

    kind: ClassVar[str] = "gold.approved"
    name: str
    version: int
    role: str

    @property
    def subject(self) -> str:
        return f"gold:{self.name}/{self.version}"


@dataclass(frozen=True, kw_only=True)
class GateCompleted(Event):
    """A gate run finished (base of :class:`GatePassed` and :class:`GateFailed`)."""

    kind: ClassVar[str] = "gate.completed"
    model: str
    version: int
    gate_run_id: int
    verdict: str
    failed_checks: list[str] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return f"model:{self.model}/{self.version}"


@dataclass(frozen=True, kw_only=True)
class GatePassed(GateCompleted):
    """Every check of a gate run passed; an operator may now accept it."""

    kind: ClassVar[str] = "gate.passed"


@dataclass(frozen=True, kw_only=True)
class GateFailed(GateCompleted):
    """A gate run failed (the alarm rule ``gate_failed`` listens for this one)."""

    kind: ClassVar[str] = "gate.failed"


@dataclass(frozen=True, kw_only=True)
class GateSignedOff(Event):
    """An operator accepted a gate run, or overrode a failed one (with a reason)."""

    kind: ClassVar[str] = "gate.signed_off"
    model: str
    version: int
    gate_run_id: int
    decision: str
    role: str

    @property
    def subject(self) -> str:
        return f"model:{self.model}/{self.version}"


@dataclass(frozen=True, kw_only=True)
class TokenChanged(Event):
    """An API token was created or revoked (never its secret)."""

    kind: ClassVar[str] = "token.changed"
    token_id: int
    name: str
    role: str
    change: str

    @property
    def subject(self) -> str:
        return f"token:{self.token_id}"


@dataclass(frozen=True, kw_only=True)
class DesiredStateChanged(Event):
    """A release, promotion or rollback changed what a deployment should serve."""

    kind: ClassVar[str] = "deployment.changed"
    deployment: str
    model: str
    release_id: int  # the release record that made the change
    action: str
    champion: int | None
    challenger: int | None
    strategy: str | None
    percent: float | None

    @property
    def subject(self) -> str:
        return f"deployment:{self.deployment}"


@dataclass(frozen=True, kw_only=True)
class ServingSwapped(Event):
    """A server instance now serves a deployment's new desired state."""

    kind: ClassVar[str] = "serving.swapped"
    deployment: str
    instance_id: str
    release_id: int
    champion: int | None
    challenger: int | None
    strategy: str | None

    @property
    def subject(self) -> str:
        return f"deployment:{self.deployment}"


@dataclass(frozen=True, kw_only=True)
class ServingSwapFailed(Event):
    """A server could not load or warm up a release; it keeps serving what it had."""

    kind: ClassVar[str] = "serving.swap_failed"
    deployment: str
    instance_id: str
    release_id: int
    version: int
    serving: int | None
    error: str

    @property
    def subject(self) -> str:
        return f"deployment:{self.deployment}"


@dataclass(frozen=True, kw_only=True)
class RolloutDecided(Event):
    """The rollout controller promoted or rolled back a challenger, with its evidence."""

    kind: ClassVar[str] = "rollout.decided"
    deployment: str
    model: str
    decision: str  # promote | rollback
    challenger: int
    champion: int | None
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        return f"deployment:{self.deployment}"


@dataclass(frozen=True, kw_only=True)
class BatchRunFinished(Event):
    """A batch run published its partition."""

    kind: ClassVar[str] = "batch.finished"
    deployment: str
    run_id: int
    partition: str
    rows_in: int
    rows_out: int
    rows_rejected: int
    versions: dict[str, int]

    @property
    def subject(self) -> str:
        return f"deployment:{self.deployment}"


@dataclass(frozen=True, kw_only=True)
class BatchRunFailed(Event):
    """A batch run failed; nothing was published (the alarm rule ``batch_run_failed``)."""

    kind: ClassVar[str] = "batch.failed"
    deployment: str
    run_id: int
    partition: str
    error: str
    resumable: bool

    @property
    def subject(self) -> str:
        return f"deployment:{self.deployment}"


@dataclass(frozen=True, kw_only=True)
class BatchRunLate(Event):
    """A batch deployment's run was due (``batch.cadence``) and none succeeded in time:
    the dead-man's switch (the alarm rule ``life_signal_late``)."""

    kind: ClassVar[str] = "batch.late"
    deployment: str
    due: str
    cron: str
    last_success: str

    @property
    def subject(self) -> str:
        return f"deployment:{self.deployment}"


@dataclass(frozen=True, kw_only=True)
class DriftChecked(Event):
    """A drift monitor checked a window of a deployment's predictions (every check, drift
    or not, so alarms can open on drift and resolve when it clears)."""

    kind: ClassVar[str] = "drift.checked"
    deployment: str
    model: str
    version: int
    result_id: int
    window: str
    rows: int
    status: str  # ok | drift | no data
    share_drifted: float | None
    drifted: list[str] = field(default_factory=list)
    output_drifted: list[int] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return f"deployment:{self.deployment}"


@dataclass(frozen=True, kw_only=True)
class AlarmOpened(Event):
    """An alarm rule fired and no alarm for that problem was open."""

    kind: ClassVar[str] = "alarm.opened"
    alarm_id: int
    rule: str
    dedup_key: str
    severity: str
    title: str
    deployment: str | None = None
    model: str | None = None

    @property
    def subject(self) -> str:
        return f"alarm:{self.alarm_id}"


@dataclass(frozen=True, kw_only=True)
class AlarmAcknowledged(Event):
    """Someone took an open alarm on."""

    kind: ClassVar[str] = "alarm.acknowledged"
    alarm_id: int

    @property
    def subject(self) -> str:
        return f"alarm:{self.alarm_id}"


@dataclass(frozen=True, kw_only=True)
class AlarmResolved(Event):
    """An alarm was resolved: by hand, or because its condition cleared (``auto``)."""

    kind: ClassVar[str] = "alarm.resolved"
    alarm_id: int
    auto: bool

    @property
    def subject(self) -> str:
        return f"alarm:{self.alarm_id}"


@dataclass(frozen=True, kw_only=True)
class LifeSignalLate(Event):
    """Every instance of a server or consumer went silent past three promised beats (the
    alarm rule ``life_signal_late``)."""

    kind: ClassVar[str] = "signal.late"
    deployment: str
    instance_kind: str  # serve | stream
    instances: list[str] = field(default_factory=list)
    last_seen: str = ""

    @property
    def subject(self) -> str:
        return f"deployment:{self.deployment}"


@dataclass(frozen=True, kw_only=True)
class LifeSignalResumed(Event):
    """A silent server or consumer is heard from again."""

    kind: ClassVar[str] = "signal.resumed"
    deployment: str
    instance_kind: str

    @property
    def subject(self) -> str:
        return f"deployment:{self.deployment}"


@dataclass(frozen=True, kw_only=True)
class LabelsIngested(Event):
    """Outcomes were joined to a deployment's predictions."""

    kind: ClassVar[str] = "labels.ingested"
    deployment: str
    joined_by: str
    rows: int
    matched: int
    unmatched: int

    @property
    def subject(self) -> str:
        return f"deployment:{self.deployment}"


@dataclass(frozen=True, kw_only=True)
class PerformanceChecked(Event):
    """A performance monitor measured (or, without labels, estimated) a window."""

    kind: ClassVar[str] = "performance.checked"
    deployment: str
    model: str
    version: int
    result_id: int
    window: str
    metric: str
    value: float | None
    level: float | None
    estimated: bool
    status: str  # ok | degraded | no data | error
    higher_is_better: bool = True

    @property
    def subject(self) -> str:
        return f"deployment:{self.deployment}"
