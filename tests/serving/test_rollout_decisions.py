"""One round of the rollout controller: a decision per deployment with a challenger."""

from __future__ import annotations

from datetime import timedelta

from lightkeeper import Lightkeeper
from lightkeeper.decisions import Decision
from lightkeeper.store.predictions import PredictionRecord
from lightkeeper.testing import OPERATOR
from support import ROW


def test_a_round_waits_skips_without_the_lease_and_rolls_back_with_a_reason(
    lk: Lightkeeper,
) -> None:
    lk.releases.release("credit-online", 1, reason="first", by=OPERATOR)
    controller = lk.rollout_controller(holder="a")
    other = lk.rollout_controller(holder="b")
    assert controller.tick() == []  # no challenger: nothing to decide
    release = lk.releases.release(
        "credit-online", 2, strategy="canary", percent=50, reason="2", by=OPERATOR
    )

    [waiting] = controller.tick()
    assert waiting.subject == "credit-online" and waiting.outcome == "skipped"
    assert waiting.reason.startswith("wait: observing: 0/40 predictions"), waiting
    assert other.tick() == [Decision.skipped("credit-online", "lease held by another process")]
    controller.stop()  # gives its lease up: the other process takes over at once
    [taken_over] = other.tick()
    assert taken_over.outcome == "skipped" and taken_over.reason.startswith("wait: ")

    at = release.at + timedelta(seconds=1)
    lk.logs.add_many(
        [
            PredictionRecord(
                at=at,
                deployment="credit-online",
                request_id=f"r{i}",
                row=0,
                version=2,
                arm="challenger",
                inputs=ROW,
                output=None if i < 5 else 0,
                latency_ms=1.0,
                error="ValueError: boom" if i < 5 else None,
            )
            for i in range(35)
        ]
    )
    [rolled_back] = other.tick()
    assert rolled_back.outcome == "ran", rolled_back
    assert rolled_back.reason.startswith("rollback: challenger error rate 14.3%")
    current = lk.releases.current("credit-online")
    assert (current.action, current.challenger) == ("rollback", None)
    assert other.tick() == []  # the challenger is gone
