"""Batch scoring: lightkeeper batch run vs bare in-process predict, and peak memory by size.

    python bench/batch.py [--rows 1000000] [--memory 1000000,5000000] [--trees 50]

A random forest (``--trees`` trees, 20 float features) is trained, gated, accepted and
released to a batch deployment in a temporary workspace. Then, on the same Parquet input:

- bare: the whole input read into one frame and ``model.predict`` called once (the
  predict alone is timed: what the model costs), and
- lightkeeper: ``Lightkeeper.batch_run`` end to end, in the same process: chunks read,
  validated against the schema, scored, staged as Parquet and published.

It prints rows/s of both and the ratio (goal: at least 0.8x). Then, for each size in
``--memory``, a fresh process runs the batch and reports its peak resident memory
(goal: flat, so 5M rows peak about where 1M rows do).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from workspace import release, write_project

MANIFEST = """\
name: bench
kind: batch
owner: bench@example.com
entrypoints:
  train: bench_train:train
input_schema:
{schema}
extra_columns: [id]
entity_key: id
target:
  name: label
  type: int
  positive_class: 1
support: {{team: ops, on_call: ops@example.com, hours: "24/7"}}
runbook:
  - {{code: LK-MODEL-ERROR, meaning: scoring failed, first_action: roll back}}
alarms:
  rules: [{{name: failed, when: batch_run_failed}}]
logging: {{predictions: true}}
batch:
  chunk_rows: 100000
  probabilities: false
gate:
  gold: bench-gold
  metrics: [{{name: accuracy, min: 0.5}}]
"""

PEAK = """\
import resource, sys, time
from lightkeeper import Lightkeeper, Settings
from lightkeeper.manifest import BatchInput, BatchOutput
lk = Lightkeeper(Settings.load({"home": sys.argv[1]}, environ={}))
started = time.perf_counter()
run = lk.batch.run("bench-nightly", input=BatchInput(path=sys.argv[2]),
                   output=BatchOutput(path=sys.argv[3]), partition=sys.argv[4])
print(run.rows_out, time.perf_counter() - started,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def write_input(path: Path, rows: int, features: int, seed: int) -> None:
    """``rows`` rows of an id and float features, written 100,000 rows at a time."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, rows, 100_000):
        n = min(100_000, rows - start)
        columns = {"id": np.arange(start, start + n, dtype=np.int64)}
        columns |= {f"x{i}": rng.normal(0, 1, n) for i in range(features)}
        table = pa.table(columns)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--memory", default="1000000,5000000", help="sizes; empty to skip")
    parser.add_argument("--trees", type=int, default=50)
    parser.add_argument("--features", type=int, default=20)
    args = parser.parse_args()

    import pandas as pd

    from lightkeeper import Lightkeeper, Settings
    from lightkeeper.manifest import BatchInput, BatchOutput

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project = write_project(root, MANIFEST, features=args.features, trees=args.trees)
        home = root / "home"
        lk = Lightkeeper(Settings.load({"home": home}, environ={}))
        version = release(
            lk, project, "bench-nightly", kind="batch", features=args.features, key="id"
        )

        source = root / "input.parquet"
        write_input(source, args.rows, args.features, seed=1)
        features = [f"x{i}" for i in range(args.features)]
        model = lk.load("bench", version).model
        frame = pd.read_parquet(source)
        started = time.perf_counter()
        model.predict(frame[features])
        bare = time.perf_counter() - started
        del frame

        started = time.perf_counter()
        run = lk.batch.run(
            "bench-nightly",
            input=BatchInput(path=str(source)),
            output=BatchOutput(path=str(root / "scores")),
            partition="bench",
        )
        ours = time.perf_counter() - started
        assert run.rows_out == args.rows, run
        lk.close()

        peaks: dict[int, tuple[float, float]] = {}
        for size in [int(s) for s in args.memory.split(",") if s]:
            sized = root / f"input-{size}.parquet"
            write_input(sized, size, args.features, seed=2)
            out = subprocess.run(
                [sys.executable, "-c", PEAK, str(home), str(sized), str(root / "mem"), str(size)],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "MLFLOW_TRACKING_URI": ""},
            ).stdout.split()
            rows_out, seconds, peak_kib = int(out[-3]), float(out[-2]), int(out[-1])
            assert rows_out == size
            peaks[size] = (peak_kib / 1024, size / seconds)
            sized.unlink()

    print(f"model: random forest, {args.trees} trees, {args.features} float features")
    print(f"rows: {args.rows:,} (Parquet in, Parquet out, chunks of 100,000)")
    print(f"bare model.predict on one in-memory frame: {args.rows / bare:>12,.0f} rows/s")
    print(f"lightkeeper batch run, end to end:         {args.rows / ours:>12,.0f} rows/s")
    print(f"ratio: {bare / ours:.2f}x of bare predict (goal >= 0.8x)")
    for size, (peak, rate) in peaks.items():
        print(f"peak memory at {size:>10,} rows: {peak:8,.0f} MiB  ({rate:,.0f} rows/s)")
    if len(peaks) > 1:
        sizes = sorted(peaks)
        growth = peaks[sizes[-1]][0] / peaks[sizes[0]][0]
        print(
            f"peak at {sizes[-1]:,} / peak at {sizes[0]:,} rows: {growth:.2f}x "
            "(goal: flat, about 1x)"
        )


if __name__ == "__main__":
    main()
