"""One round of the batch watch decides once per batch deployment, with a reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from lightkeeper import Lightkeeper
from lightkeeper.clock import FixedClock
from lightkeeper.decisions import Decision
from lightkeeper.manifest import BatchInput, BatchOutput
from lightkeeper.testing import OPERATOR
from support import customers


def test_a_round_reports_a_late_run_once_and_says_why_it_skips(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    start = lk.clock.now().replace(hour=0, minute=0)  # released today: count from tomorrow
    clock = FixedClock(start + timedelta(days=2, hours=6, minutes=31))
    later = Lightkeeper(lk.settings, clock=clock)
    later.releases.create("credit-unreleased", model="credit", kind="batch", by=OPERATOR)
    later.releases.create("credit-online", model="credit", kind="online", by=OPERATOR)
    watch = later.batch_watch

    decisions = {d.subject: d for d in watch.tick()}
    assert set(decisions) == {"credit-nightly", "credit-unreleased"}  # batch ones only
    assert decisions["credit-unreleased"] == Decision.skipped(
        "credit-unreleased", "no cadence to watch: not released yet"
    )
    late = decisions["credit-nightly"]
    assert late.outcome == "ran" and late.reason.startswith("late: reported"), late
    assert "last success never" in late.reason
    [again] = [d for d in watch.tick() if d.subject == "credit-nightly"]
    assert again.outcome == "skipped" and again.reason.startswith("late: already reported")
    assert len(later.audit_entries(kind="batch.late")) == 1

    customers(100).to_parquet(tmp_path / "in.parquet")
    later.batch.run(
        "credit-nightly",
        input=BatchInput(path=str(tmp_path / "in.parquet")),
        output=BatchOutput(path=str(tmp_path / "scores")),
        by=OPERATOR,
    )
    clock.advance(timedelta(minutes=5))
    [on_time] = [d for d in watch.tick() if d.subject == "credit-nightly"]
    assert on_time.outcome == "skipped" and on_time.reason.startswith("on time, last run at 20")
    later.close()
