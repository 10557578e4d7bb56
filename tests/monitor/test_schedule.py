"""Drift checks on their schedule: windows end on multiples of ``monitoring.every``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lightkeeper import FixedClock, Lightkeeper
from lightkeeper.decisions import Decision
from lightkeeper.monitor.schedule import period_end
from lightkeeper.testing import credit_gold
from support import log_rows

T0 = datetime(2026, 11, 27, 6, 20, tzinfo=UTC)


def test_period_ends_are_multiples_of_the_period() -> None:
    assert period_end(T0, "1h") == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    assert period_end(T0, "1d") == datetime(2026, 11, 27, tzinfo=UTC)
    assert period_end(T0, "30m") == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def test_each_window_is_checked_once_and_the_next_when_it_is_due(lk: Lightkeeper) -> None:
    clock = FixedClock(T0)
    lk.clock = clock
    log_rows(lk, credit_gold(600, seed=31), at=T0 - timedelta(hours=3))
    schedule = lk.monitor_schedule
    window = "window 2026-11-26 06:00 to 2026-11-27 06:00 UTC"
    assert schedule.run_due() == [  # the model has a target: performance too
        Decision.ran("credit-online", f"drift {window}: drift"),
        Decision.ran("credit-online", f"performance {window}: ok"),
    ]
    [first] = lk.monitor_results("credit-online", kind="drift")
    [performance] = lk.monitor_results("credit-online", kind="performance")
    assert performance.window_end == first.window_end and performance.actor == "lightkeeper"
    assert first.window_end == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    assert first.window_start == first.window_end - timedelta(days=1)  # monitoring.window
    assert (first.rows, first.actor) == (600, "lightkeeper")
    clock.advance(timedelta(minutes=30))
    assert [d.reason for d in schedule.run_due()] == [  # 06:50: the 06:00 window is done
        f"drift {window} already checked",
        f"performance {window} already checked",
    ]
    clock.advance(timedelta(minutes=15))
    assert [d.outcome for d in schedule.run_due()] == ["ran", "ran"]
    second = lk.monitor_results("credit-online", kind="drift")[0]
    assert second.window_end == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
