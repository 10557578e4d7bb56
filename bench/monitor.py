"""``lightkeeper monitor drift`` over logged predictions vs the bare statistic, same rows.

    python bench/monitor.py [--rows 100000,300000] [--features 20]

A model with 20 float features is trained, gated and released to an online deployment in
a temporary embedded workspace (SQLite); then, for each size, that many prediction-log
rows are written for one day (Parquet files, as the servers write them, compacted as
``lightkeeper up`` compacts them), and

- baseline: ``drift_from_profile`` on the same rows already in a DataFrame (the
  statistics alone, as ``bench/drift.py`` measures them), against
- lightkeeper: ``lk.drift.run`` end to end: find the window's files in the index, read
  the watched columns with DuckDB in chunks, feature and output drift, store the result.

The goal: 1M rows in under 1 s end to end. The ratio is the price of reading the logs;
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
    import numpy as np

    from lightkeeper.store.predictions import PredictionRecord

    rng = np.random.default_rng(start)
    for first in range(0, rows, 200_000):
        n = min(200_000, rows - first)
        values = rng.normal(0, 1, (n, features))
        values[:, 0] += 0.3  # one shifted feature
        records = [
            PredictionRecord(
                at=END - timedelta(seconds=1 + (first + i) % 80_000),
                deployment="bench-online",
                request_id=f"b{start}-{first + i}",
                row=0,
                version=1,
                arm="champion",
                inputs={f"x{j}": float(v) for j, v in enumerate(row)},
                output=int(row[0] > 0),
                latency_ms=1.0,
            )
            for i, row in enumerate(values.tolist())
        ]
        lk.logs.add_many(records)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="100000,1000000")
    parser.add_argument("--features", type=int, default=20)
    args = parser.parse_args()

    import pandas as pd

    from lightkeeper import Lightkeeper, Settings
    from lightkeeper.logstore.compact import Compactor
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
            Compactor(logs=lk.logs, clock=lk.clock).round()
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
        lk.close()


if __name__ == "__main__":
    main()
