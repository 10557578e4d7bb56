"""Prediction logs in Parquet files with their index on SQLite and PostgreSQL: types,
batch re-runs, compaction while a window is read, the move from the ops database, the
writer's guarantees against a store that fails."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from lightkeeper.clock import FixedClock
from lightkeeper.errors import InvalidInput, LogStoreUnavailable
from lightkeeper.logstore import LogStore
from lightkeeper.logstore.compact import MIN_FILES, Compactor
from lightkeeper.logstore.store import GRACE
from lightkeeper.serving.logwriter import PredictionLogWriter
from lightkeeper.store import Database
from lightkeeper.store.labels import Label, LabelStore
from lightkeeper.store.predictions import PredictionRecord
from lightkeeper.store.tables import prediction_logs

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def record(i: int, **fields: object) -> PredictionRecord:
    values: dict[str, object] = {
        "at": T0 + timedelta(seconds=i),
        "deployment": "d",
        "request_id": f"r{i}",
        "row": 0,
        "version": 1,
        "arm": "champion",
        "inputs": {"x": float(i), "region": "south", "customer": f"c{i % 50}"},
        "output": i % 2,
        "latency_ms": 1.0,
    }
    values.update(fields)
    return PredictionRecord(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0 + timedelta(hours=2))


@pytest.fixture
def logs(db: Database, clock: FixedClock, tmp_path: Path) -> LogStore:
    return LogStore(db, clock, tmp_path / "logs")


def test_values_keep_their_types_and_odd_ones_survive_as_json(logs: LogStore) -> None:
    logs.add_many(
        [
            record(1, inputs={"x": 1, "on": True, "tags": ["a", "b"], "mixed": 1}),
            record(2, inputs={"x": 2.5, "on": False, "mixed": "text"}, output=[0.2, 0.8]),
            record(3, inputs={"x": None}, output=None, error="boom", flags=["x: low"]),
        ]
    )
    one, two, three = sorted(logs.find("d"), key=lambda r: r.request_id)
    assert one.inputs == {"x": 1.0, "on": True, "tags": ["a", "b"], "mixed": 1}
    assert two.inputs == {"x": 2.5, "on": False, "mixed": "text"}
    assert two.output == [0.2, 0.8] and one.output == 1
    assert (three.inputs, three.output, three.error, three.flags) == ({}, None, "boom", ["x: low"])
    assert logs.count("d") == 3


def test_a_batch_rerun_replaces_its_sample_and_the_labels_of_the_replaced_rows(
    db: Database, logs: LogStore, clock: FixedClock
) -> None:
    first = [record(i, request_id="batch-1", row=i) for i in range(10)]
    logs.add_many(first[:0])  # nothing is a no-op
    logs.replace("d", [], first)
    [(pid, *_)] = logs.by_request("d", ["batch-1"])[:1]
    LabelStore(db, clock).upsert("d", [Label(pid, T0, 1, 0, 1)])
    second = [record(i, request_id="batch-2", row=i, output=1) for i in range(4)]
    logs.replace("d", ["batch-1"], second)
    assert logs.count("d") == 4
    assert {r.request_id for r in logs.find("d")} == {"batch-2"}
    with db.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM labels")).scalar_one() == 0


def test_compaction_merges_small_files_and_a_window_read_meanwhile_counts_each_row_once(
    logs: LogStore, clock: FixedClock
) -> None:
    for batch in range(MIN_FILES + 2):
        logs.add_many([record(batch * 100 + i) for i in range(100)])
    before = logs.index.live("d")
    assert len(before) == MIN_FILES + 2
    window = dict(start=T0, end=T0 + timedelta(hours=1), features=["x"], chunk=50)
    reading = logs.served_frames("d", **window)  # type: ignore[arg-type]
    first = next(reading)  # the reader holds its file list now
    compactor = Compactor(logs=logs, clock=clock)
    [decision] = compactor.round()
    assert decision.outcome == "ran" and f"merged {len(before)} files into 1" in decision.reason
    seen = list(first["x"]) + [x for frame in reading for x in frame["x"]]
    assert sorted(seen) == sorted(float(batch * 100 + i) for batch in range(6) for i in range(100))
    [merged] = logs.index.live("d")
    assert merged.rows == 600 and merged.source == "compacted"
    again = [x for frame in logs.served_frames("d", **window) for x in frame["x"]]  # type: ignore[arg-type]
    assert sorted(again) == sorted(seen)
    # retired files stay for readers until the grace period is over, then go
    assert all((logs.root / f.path).exists() for f in before)
    assert compactor.purge() == 0
    clock.advance(GRACE + timedelta(seconds=1))
    assert compactor.purge() == len(before)
    assert not any((logs.root / f.path).exists() for f in before)
    assert compactor.compact("d").outcome == "skipped"


def test_two_compactors_at_once_never_lose_or_double_a_row(
    logs: LogStore, clock: FixedClock
) -> None:
    for batch in range(8):
        logs.add_many([record(batch * 10 + i) for i in range(10)])
    outcomes: list[str] = []

    def compact() -> None:
        outcomes.append(Compactor(logs=logs, clock=clock).compact("d").outcome)

    threads = [threading.Thread(target=compact) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert "ran" in outcomes
    assert logs.count("d") == 80
    ids = [r.request_id for r in logs.find("d", limit=1000)]
    assert sorted(ids) == sorted(f"r{i}" for i in range(80))
    on_disk = {p.name for p in logs.root.rglob("*.parquet")}
    live = {Path(f.path).name for f in logs.index.live("d")}
    assert live <= on_disk


def test_records_an_older_version_kept_in_the_database_move_to_files_with_their_ids(
    db: Database, logs: LogStore, clock: FixedClock
) -> None:
    with db.write() as conn:
        conn.execute(
            prediction_logs.insert(),
            [
                {
                    "id": 7 + i,
                    "at": T0 + timedelta(seconds=i),
                    "deployment": "d",
                    "request_id": f"old{i}",
                    "row": 0,
                    "version": 1,
                    "arm": "champion",
                    "inputs": {"x": i},
                    "output": 1,
                    "latency_ms": 2.0,
                }
                for i in range(25)
            ],
        )
    LabelStore(db, clock).upsert("d", [Label(7, T0, 1, 1, 0)])
    assert logs.migrate(chunk=10) == 25
    assert logs.migrate() == 0  # nothing left: a second start moves nothing
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(prediction_logs)).scalar() == 0
    assert logs.count("d") == 25 and len(logs.index.live("d")) == 3
    [(pid, at, request_id, *_)] = logs.by_request("d", ["old0"])
    assert (pid, at, request_id) == (7, T0, "old0")  # the label still points at it


def test_labels_find_the_newest_prediction_of_their_key_at_or_before_their_time(
    logs: LogStore,
) -> None:
    logs.add_many([record(i) for i in range(200)])  # customer c3 at 3, 53, 103, 153 s
    logs.add_many([record(3000, inputs={"customer": "2015-01-01 00:00:00"})])
    at = pd.Series(pd.to_datetime([T0 + timedelta(seconds=100), T0], utc=True))
    timed = logs.match_keys("d", ["customer"], [("c3",), ("c3",)], at)
    assert [hit[1] if hit else None for hit in timed] == [
        T0 + timedelta(seconds=53),
        None,  # no prediction of c3 at or before T0
    ]
    wanted = [("c3",), ("nobody",), ("2015-01-01T00:00:00",)]
    found = logs.match_keys("d", ["customer"], wanted, None)
    assert [hit[1] if hit else None for hit in found] == [
        T0 + timedelta(seconds=153),  # without a time: the newest
        None,
        T0 + timedelta(seconds=3000),  # a date however written
    ]
    numeric = [record(i, deployment="e", inputs={"customer": 7.0 + i % 2}) for i in range(4)]
    logs.add_many(numeric)
    [seven, eight] = logs.match_keys("e", ["customer"], [("7",), ("8",)], None)
    assert (
        seven
        and eight
        and (seven[1], eight[1])
        == (
            T0 + timedelta(seconds=2),  # 7.0 logged, "7" asked: the newest
            T0 + timedelta(seconds=3),
        )
    )


def test_the_writer_keeps_records_while_the_log_folder_cannot_be_written(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    blocked = tmp_path / "logs"
    blocked.write_text("a file where the folder should be")  # every write fails
    logs = LogStore(db, clock, blocked)
    with pytest.raises(LogStoreUnavailable, match="cannot write prediction logs"):
        logs.add_many([record(1)])
    writer = PredictionLogWriter(logs.add_many, interval=0.05, max_backoff=0.1)
    writer.start()
    writer.add([record(i) for i in range(30)])
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while writer.failures < 2 and datetime.now(UTC) < deadline:
        threading.Event().wait(0.02)
    assert writer.failures >= 2 and writer.pending == 30 and writer.dropped == 0
    blocked.unlink()  # the folder can be written again
    assert writer.flush(timeout=10)
    writer.close()
    assert (writer.written, writer.dropped, writer.refused) == (30, 0, 0)
    assert logs.count("d") == 30


def test_a_record_the_store_refuses_is_dropped_and_counted_alone(logs: LogStore) -> None:
    writer = PredictionLogWriter(logs.add_many, interval=0.05)
    writer.start()
    writer.add([record(1), record(2, version="not a number"), record(3)])
    assert writer.flush(timeout=10)
    writer.close()
    assert (writer.written, writer.refused) == (2, 1)
    assert {r.request_id for r in logs.find("d")} == {"r1", "r3"}


def test_traffic_is_counted_per_bucket_and_arm_with_latency_percentiles(logs: LogStore) -> None:
    logs.add_many([record(i, latency_ms=float(i % 100)) for i in range(300)])
    logs.add_many([record(i, arm="shadow", error="x") for i in range(0, 300, 10)])
    buckets = logs.traffic("d", start=T0, end=T0 + timedelta(minutes=5), every=timedelta(minutes=2))
    assert [(b["start"], b["arm"], b["rows"]) for b in buckets] == [
        (T0.isoformat(), "champion", 120),
        (T0.isoformat(), "shadow", 12),
        ((T0 + timedelta(minutes=2)).isoformat(), "champion", 120),
        ((T0 + timedelta(minutes=2)).isoformat(), "shadow", 12),
        ((T0 + timedelta(minutes=4)).isoformat(), "champion", 60),
        ((T0 + timedelta(minutes=4)).isoformat(), "shadow", 6),
    ]
    first = buckets[0]
    assert first["requests"] == 120 and first["errors"] == 0
    assert first["latency_ms"]["p50"] == pytest.approx(39.5)  # 0-19 twice, 20-99 once
    assert buckets[1]["error_rate"] == 1.0
    assert logs.traffic("nobody", start=T0, end=T0, every=timedelta(hours=1)) == []
    with pytest.raises(InvalidInput, match="too many"):
        logs.traffic("d", start=T0, end=T0 + timedelta(days=365), every=timedelta(seconds=1))


def test_logs_on_a_filesystem_url_work_the_same(db: Database, clock: FixedClock) -> None:
    """pyarrow's in-memory mock filesystem stands in for object storage: written object by
    object, read through Arrow datasets, compacted through a local file."""
    logs = LogStore(db, clock, "mock:///bucket/lightkeeper/logs")
    assert not logs.place.local
    for batch in range(MIN_FILES):
        logs.add_many([record(batch * 10 + i) for i in range(10)])
    logs.add_many([record(99, inputs={"x": "text now", "region": "south"})])  # x: another type
    assert logs.count("d") == 41
    [found] = logs.find("d", request_id="r7")
    # x is a number in some files and text in one: across them it reads as text
    assert found.inputs["x"] in ("7", "7.0") and found.inputs["region"] == "south"
    frames = list(
        logs.served_frames("d", start=T0, end=T0 + timedelta(hours=1), features=["region"])
    )
    assert sum(len(f) for f in frames) == 41
    compactor = Compactor(logs=logs, clock=clock)
    assert compactor.compact("d").outcome == "ran"
    assert len(logs.index.live("d")) == 1 and logs.count("d") == 41
    clock.advance(GRACE + timedelta(seconds=1))
    assert compactor.purge() == MIN_FILES + 1
    assert sorted(r.request_id for r in logs.find("d", limit=100)) == sorted(
        f"r{i}" for i in [*range(40), 99]
    )
    [hit] = logs.match_keys("d", ["customer"], [("c7",)], None)
    assert hit is not None
    with pytest.raises(InvalidInput, match="not in a local folder"):
        _ = logs.root


def test_a_logs_url_no_filesystem_opens_is_a_clear_error(db: Database, clock: FixedClock) -> None:
    with pytest.raises(InvalidInput, match="not a filesystem pyarrow can open") as refused:
        LogStore(db, clock, "nosuch://reader:s3cr3t@bucket/logs")
    assert "s3cr3t" not in str(refused.value)  # the library's message repeats the URL


def test_a_full_buffer_drops_the_oldest_while_the_logs_cannot_be_written(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    blocked = tmp_path / "logs"
    blocked.write_text("not a folder")
    logs = LogStore(db, clock, blocked)
    writer = PredictionLogWriter(logs.add_many, capacity=10, interval=0.05, max_backoff=0.1)
    writer.start()
    writer.add([record(i) for i in range(30)])  # 20 more than the buffer holds
    assert writer.dropped == 20 and writer.pending == 10
    blocked.unlink()
    assert writer.flush(timeout=10)
    writer.close()
    assert (writer.written, writer.dropped) == (10, 20)
    assert sorted(r.request_id for r in logs.find("d")) == sorted(f"r{i}" for i in range(20, 30))
