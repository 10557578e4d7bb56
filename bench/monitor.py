"""``lightkeeper monitor drift`` over logged predictions vs the bare statistic, same rows.

    python bench/monitor.py [--rows 100000,300000] [--features 20]

A model with 20 float features is trained, gated and released to an online deployment in
a temporary embedded workspace (SQLite); then, for each size, that many prediction-log
rows are written for one day (Parquet files of a million rows, as compaction leaves
them), and

- baseline: ``drift_from_profile`` on the same rows already in a DataFrame (the
  statistics alone, as ``bench/drift.py`` measures them), against
- lightkeeper: ``lk.drift.run`` end to end: find the window's files in the index, read
  the watched columns with DuckDB in chunks, feature and output drift, store the result.

The goals: 1M rows in under 1 s end to end, 10M in under 10 s with flat memory. Then
the dashboard's traffic series (volume, errors, latency percentiles per hour) over the
whole day, and the label join: 1M labels by entity key and time against the 10M predictions (goal:
under 5 s). The ratio is the price of reading the logs;
the peak memory (tracemalloc, in a second run) of the monitor stays flat as the window
grows (DuckDB's own buffers are outside tracemalloc's view).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from workspace import release, write_project

MANIFEST = """\
name: bench
kind: online
owner: bench@example.com
entrypoints:
  train: bench_train:train
input_schema:
{schema}
target:
  name: label
  type: int
  positive_class: 1
support: {{team: ops, on_call: ops@example.com, hours: "24/7"}}
runbook:
  - {{code: LK-DRIFT, meaning: inputs moved, first_action: check the feed}}
alarms:
  rules: [{{name: drift, when: drift, error_type: LK-DRIFT}}]
logging: {{predictions: true}}
monitoring: {{window: 1d}}
gate:
  gold: bench-gold
  metrics: [{{name: accuracy, min: 0.5}}]
"""
END = datetime(2026, 11, 27, tzinfo=UTC)


def log(lk: object, rows: int, features: int, start: int) -> None:
    """Write ``rows`` logged predictions over the day before END straight as log files (the
    format the servers write, built column-wise here so 10M rows take seconds)."""
    import numpy as np
    import pyarrow as pa

    from lightkeeper.logstore.records import INPUT, TIME
    from lightkeeper.logstore.store import _path
    from lightkeeper.store.logfiles import LogFile

    logs = lk.logs  # type: ignore[attr-defined]
    rng = np.random.default_rng(start)
    for first in range(0, rows, 1_000_000):
        n = min(1_000_000, rows - first)
        hour = END - timedelta(hours=1 + (start + first) // 1_000_000 % 23)
        seconds = rng.integers(0, 3600, n)
        values = rng.normal(0, 1, (n, features))
        values[:, 0] += 0.3  # one shifted feature
        index = np.arange(start + first, start + first + n)
        at = pa.array(
            (np.datetime64(hour.replace(tzinfo=None), "us") + seconds.astype("timedelta64[s]")),
            TIME,
        )
        columns = {
            "id": pa.array(index + 1, pa.int64()),
            "at": at,
            "request_id": pa.array(np.char.add("b", index.astype(str)), pa.string()),
            "row": pa.array(np.zeros(n, np.int32)),
            "version": pa.array(np.ones(n, np.int32)),
            "arm": pa.array(["champion"] * n, pa.string()),
            "latency_ms": pa.array(np.ones(n)),
            "error": pa.nulls(n, pa.string()),
            "flags": pa.nulls(n, pa.string()),
            "output": pa.array((values[:, 0] > 0).astype(np.int64)),
            INPUT + "customer": pa.array(index % 1_000_000, pa.int64()),
            **{f"{INPUT}x{j}": pa.array(values[:, j]) for j in range(features)},
        }
        path = _path("bench-online", hour, "compacted")
        logs._put(pa.table(columns), path)
        stamps = at.to_pylist()
        logs.index.add(
            [
                LogFile(
                    deployment="bench-online",
                    hour=hour,
                    path=path,
                    rows=n,
                    min_at=min(stamps),
                    max_at=max(stamps),
                    source="compacted",
                )
            ]
        )


def label_join(lk: object, labels: int) -> float:
    """Seconds to find, for ``labels`` labels by customer and time, the newest prediction
    of that customer at or before the label's time (the join ``labels ingest`` makes)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(5)
    customers = rng.integers(0, 1_000_000, labels)
    keys = [(str(c),) for c in customers.tolist()]
    minutes = rng.integers(0, 600, labels).astype("timedelta64[m]")
    times = pd.Series(pd.to_datetime(np.datetime64(END.replace(tzinfo=None)) - minutes, utc=True))
    started = time.perf_counter()
    found = lk.logs.match_keys("bench-online", ["customer"], keys, times)  # type: ignore[attr-defined]
    took = time.perf_counter() - started
    matched = sum(hit is not None for hit in found)
    print(f"label join: {labels:,} labels by key and time in {took:.2f} s ({matched:,} matched)")
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="1000000,10000000")
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=20)
    args = parser.parse_args()

    import pandas as pd

    from lightkeeper import Lightkeeper, Settings
    from lightkeeper.monitor.drift import drift_from_profile
    from lightkeeper.profile import Profile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project = write_project(root, MANIFEST, features=args.features, trees=10)
        lk = Lightkeeper(Settings.load({"home": root / "home"}, environ={}))
        version = release(lk, project, "bench-online", kind="online", features=args.features)
        profile = Profile.from_dict(lk.registry.reference_profile("bench", version) or {})
        profile = Profile(
            rows=profile.rows, features={k: v for k, v in profile.features.items() if k != "label"}
        )
        print(f"{'rows':>9} {'bare s':>8} {'monitor s':>10} {'ratio':>6} {'peak MiB':>9} drifted")
        logged = 0
        for rows in [int(r) for r in args.rows.split(",")]:
            log(lk, rows - logged, args.features, start=logged)
            logged = rows
            frame = pd.concat(
                lk.logs.served_frames(
                    "bench-online",
                    start=END - timedelta(days=1),
                    end=END,
                    features=list(profile.features),
                )
            )[list(profile.features)]
            started = time.perf_counter()
            drift_from_profile(profile, frame)
            bare = time.perf_counter() - started
            del frame
            started = time.perf_counter()
            result = lk.drift.run("bench-online", end=END)
            ours = time.perf_counter() - started
            tracemalloc.start()  # a second run for memory: tracing slows it down
            lk.drift.run("bench-online", end=END)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            drifted = ", ".join(result.result["features"]["drifted"])
            print(
                f"{rows:>9,} {bare:>8.3f} {ours:>10.2f} {ours / bare:>5.0f}x "
                f"{peak / 2**20:>9.1f} {drifted}"
            )
        started = time.perf_counter()
        buckets = lk.logs.traffic(
            "bench-online", start=END - timedelta(days=1), end=END, every=timedelta(hours=1)
        )
        took = time.perf_counter() - started
        print(f"traffic: {len(buckets)} hourly buckets over {logged:,} rows in {took:.2f} s")
        label_join(lk, args.labels)
        lk.close()


if __name__ == "__main__":
    main()
