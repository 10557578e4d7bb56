"""Drift checks on their schedule: windows end on multiples of ``monitoring.every``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gate_project import gold_frame
from monitor_workspace import log_rows

from lightkeeper import FixedClock, Lightkeeper
from lightkeeper.monitor.schedule import MonitorSchedule, period_end

T0 = datetime(2026, 11, 27, 6, 20, tzinfo=UTC)


def test_period_ends_are_multiples_of_the_period() -> None:
    assert period_end(T0, "1h") == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    assert period_end(T0, "1d") == datetime(2026, 11, 27, tzinfo=UTC)
    assert period_end(T0, "30m") == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def test_each_window_is_checked_once_and_the_next_when_it_is_due(lk: Lightkeeper) -> None:
    clock = FixedClock(T0)
    lk.clock = clock
    log_rows(lk, gold_frame(600, seed=31), at=T0 - timedelta(hours=3))
    schedule = MonitorSchedule(lk)
    first, performance = schedule.run_due()  # the model has a target: performance too
    assert (first.kind, performance.kind) == ("drift", "performance")
    assert performance.window_end == first.window_end and performance.actor == "lightkeeper"
    assert first.window_end == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    assert first.window_start == first.window_end - timedelta(days=1)  # monitoring.window
    assert (first.rows, first.actor) == (600, "lightkeeper")
    clock.advance(timedelta(minutes=30))
    assert schedule.run_due() == []  # 06:50: the 06:00 window is done
    clock.advance(timedelta(minutes=15))
    second, _ = schedule.run_due()
    assert second.window_end == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
