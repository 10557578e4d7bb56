"""The serving parts on their own: log writer, router, rollout verdicts, batcher."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest

from lightkeeper.deploy.rollout import ArmStats, judge
from lightkeeper.manifest import Rollout
from lightkeeper.serving.batching import Batcher
from lightkeeper.serving.logwriter import PredictionLogWriter
from lightkeeper.serving.router import bucket
from lightkeeper.store.predictions import PredictionRecord


def rec(i: int) -> PredictionRecord:
    return PredictionRecord(
        at=datetime(2026, 11, 27, tzinfo=UTC),
        deployment="d",
        request_id=str(i),
        row=0,
        version=1,
        arm="champion",
        inputs={},
        output=i,
        latency_ms=1.0,
    )


class FlakyDatabase:
    """Stands in for the database's write call: refuses while ``down`` is set."""

    def __init__(self) -> None:
        self.rows: list[PredictionRecord] = []
        self.down = threading.Event()

    def write(self, records: object) -> None:
        if self.down.is_set():
            raise ConnectionError("connection refused")
        self.rows.extend(records)  # type: ignore[arg-type]


def test_the_writer_keeps_records_while_the_database_is_down_and_resumes() -> None:
    db = FlakyDatabase()
    writer = PredictionLogWriter(db.write, capacity=50, interval=0.01, max_backoff=0.05)
    writer.start()
    db.down.set()
    writer.add([rec(i) for i in range(30)])
    writer.add([rec(i) for i in range(30, 60)])  # 60 > capacity 50: the 10 oldest go
    assert not writer.flush(timeout=0.3) and writer.failures >= 1
    assert writer.dropped == 10 and writer.last_error == "connection refused"
    db.down.clear()
    assert writer.flush(timeout=5)
    writer.close()
    assert [r.output for r in db.rows] == list(range(10, 60))
    assert writer.written == 50 and writer.last_error is None


def test_adding_never_blocks_on_a_stuck_database() -> None:
    release = threading.Event()
    writer = PredictionLogWriter(lambda _records: release.wait(5), capacity=5, interval=0.01)
    writer.start()
    for i in range(100):
        writer.add([rec(i)])
    assert writer.pending <= 5 and writer.dropped >= 90
    release.set()
    writer.close()


def test_buckets_are_stable_and_spread() -> None:
    assert bucket("customer-1") == bucket("customer-1")
    share = sum(bucket(f"k{i}") < 25 for i in range(4000)) / 4000
    assert 0.22 < share < 0.28


def stats(n: int, errors: int = 0, latency: float = 1.0, output: int = 1) -> ArmStats:
    arm = ArmStats(predictions=n, errors=errors)
    for i in range(n - errors):
        arm.latencies.append(latency)
        arm.outputs[(str(i), 0)] = output
    return arm


POLICY = Rollout(observe_seconds=60, min_requests=100)


def test_verdicts() -> None:
    healthy = judge(stats(500), stats(200), POLICY, elapsed=61, paired=False)
    assert healthy.action == "promote" and "healthy after 61 s" in healthy.reason
    waiting = judge(stats(500), stats(50), POLICY, elapsed=61, paired=False)
    assert waiting.action == "wait" and "50/100 predictions" in waiting.reason
    failing = judge(stats(500), stats(25, errors=5), POLICY, elapsed=1, paired=False)
    assert failing.action == "rollback" and "error rate 20.0%" in failing.reason
    slow = judge(stats(500, latency=2), stats(200, latency=9), POLICY, elapsed=61, paired=True)
    assert slow.action == "rollback" and "p99 latency 9.0 ms" in slow.reason
    apart = judge(stats(500), stats(200, output=0), POLICY, elapsed=61, paired=False)
    assert apart.action == "rollback" and "diverge" in apart.reason
    manual = Rollout(observe_seconds=60, min_requests=100, promote="manual")
    assert judge(stats(500), stats(200), manual, elapsed=61, paired=False).action == "wait"


def test_the_batcher_coalesces_and_isolates_a_bad_request() -> None:
    calls: list[int] = []

    def predict(rows: list[int]) -> list[int]:
        calls.append(len(rows))
        if -1 in rows:
            raise ValueError("bad row")
        return [r * 10 for r in rows]

    async def main() -> list[object]:
        batcher = Batcher(predict)
        jobs = [batcher.predict([i, i + 1]) for i in range(0, 10, 2)] + [batcher.predict([-1])]
        return await asyncio.gather(*jobs, return_exceptions=True)

    results = asyncio.run(main())
    assert [r[0] for r in results[:5]] == [[0, 10], [20, 30], [40, 50], [60, 70], [80, 90]]
    assert isinstance(results[5], ValueError)
    assert calls == [11, 2, 2, 2, 2, 2, 1]  # one batch; it failed, so each request alone


def test_rollout_policy_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="max_error_rate"):
        Rollout(max_error_rate=2)
