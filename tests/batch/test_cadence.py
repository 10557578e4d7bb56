"""The dead-man's switch: a batch run due and not done is a ``batch.late`` event, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lightkeeper import Lightkeeper
from lightkeeper.batch.cadence import CadenceStatus, cadence_status
from lightkeeper.clock import FixedClock
from lightkeeper.manifest import BatchInput, BatchOutput, Cadence
from lightkeeper.testing import OPERATOR
from support import customers

DAILY = Cadence(cron="0 6 * * *", grace_minutes=30)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_a_run_is_due_each_firing_and_late_after_the_grace() -> None:
    def status(now: datetime, last: datetime | None, since: datetime = at(20, 0)) -> CadenceStatus:
        return cadence_status("d", DAILY, now=now, last_success=last, since=since)

    early = status(at(27, 6, 20), last=at(26, 5))  # today's run is due, grace not over
    assert (early.due, early.late) == (at(26, 6), False)
    late = status(at(27, 6, 31), last=at(26, 5))  # nothing since yesterday's 06:00
    assert (late.due, late.late, late.next_due) == (at(27, 6), True, at(28, 6))
    assert not status(at(27, 6, 31), last=at(27, 4)).late
    assert not status(at(27, 9), last=at(27, 7)).late  # late but done: satisfied
    assert status(at(27, 6, 31), last=None).late
    assert status(at(27, 6, 31), last=None, since=at(27, 10)).due is None  # not released then
    assert not status(at(27, 6, 31), last=None, since=at(27, 5, 59)).late  # released mid-window
    assert status(at(28, 6, 31), last=None, since=at(27, 5, 59)).late  # a whole window since


def test_the_watch_records_a_late_run_once_and_a_success_clears_it(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    start = lk.clock.now().replace(hour=0, minute=0)  # released today: count from tomorrow
    clock = FixedClock(start + timedelta(days=2, hours=6, minutes=31))
    later = Lightkeeper(lk.settings, clock=clock)
    watch = later.batch_watch
    [status] = watch.check()
    assert status.late and status.deployment == "credit-nightly"
    watch.check()  # the same due time: no second event
    [event] = later.audit_entries(kind="batch.late")
    assert event.actor == "batch-watch" and event.payload["due"] == status.due.isoformat()
    assert event.payload["last_success"] == "never"

    customers(100).to_parquet(tmp_path / "in.parquet")
    later.batch.run(
        "credit-nightly",
        input=BatchInput(path=str(tmp_path / "in.parquet")),
        output=BatchOutput(path=str(tmp_path / "scores")),
        by=OPERATOR,
    )
    clock.advance(timedelta(minutes=5))
    [status] = watch.check()
    assert not status.late and status.last_success is not None
    clock.advance(timedelta(days=1))  # the next day's run is due: yesterday's late run counts
    assert not watch.check()[0].late
    clock.advance(timedelta(days=1))
    assert watch.check()[0].late
    assert len(later.audit_entries(kind="batch.late")) == 2
    later.close()


def test_batch_check_exits_1_and_names_the_late_deployment(lk: Lightkeeper, cli) -> None:
    past = Lightkeeper(lk.settings, clock=FixedClock(lk.clock.now() - timedelta(days=3)))
    past.releases.create("credit-weekly", model="credit", kind="batch", by=OPERATOR)
    past.releases.release("credit-weekly", 1, reason="released three days ago", by=OPERATOR)
    past.close()
    code, text, _ = cli("batch", "check", "--json")
    statuses = {s["deployment"]: s for s in json.loads(text)["batch"]}
    assert code == 1 and statuses["credit-weekly"]["late"] is True
    assert statuses["credit-weekly"]["last_success"] is None
    code, text, _ = cli("batch", "check")
    assert code == 1 and "LATE" in text and "credit-weekly" in text
    assert len(lk.audit_entries(kind="batch.late")) == 1  # one due time, one event
