"""The acceptance gate on a 100k-row gold set: total time against the time inside predict.

    python bench/gate.py [--rows 100000] [--trees 100]

A random forest (the kind of model whose predict dominates) is trained twice; version 1
becomes the champion and version 2 goes through the gate: fresh-process load, gold
scoring of both versions, 200 single-row latency calls, the input contract, every
metric, a 1,000-resample paired bootstrap, segments, the report and the records.

Prints the gate's total wall time, the time spent inside model predict (as measured in
the fresh process), the overhead (total - predict) and its ratio to predict. The goal is
overhead <= 1.5x predict. For reference it also times a bare in-process ``predict`` of
both versions on the same rows, and the same gate run once more in a plain fresh
process instead of one forked from the zygote (the zygote busy, as when two gate runs
overlap), to show what the zygote saves.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from workspace import write_project

MANIFEST = """\
name: bench
kind: batch
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
  - {{code: LK-MODEL-ERROR, meaning: scoring failed, first_action: roll back}}
alarms:
  rules: [{{name: gate, when: gate_failed}}]
gate:
  gold: bench-gold
  metrics: [{{name: accuracy, min: 0.5}}, {{name: roc_auc, min: 0.5}}]
  non_inferiority: {{metric: accuracy, max_drop: 0.02, resamples: 1000}}
  segments: {{column: segment, metrics: {{accuracy: 0.5}}}}
  latency_p99_ms: 1000
extra_columns: [segment]
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--features", type=int, default=20)
    args = parser.parse_args()

    from lightkeeper import Lightkeeper, Settings

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project = write_project(root, MANIFEST, features=args.features, trees=args.trees)
        lk = Lightkeeper(Settings.load({"home": root / "home"}, environ={}))
        first = lk.training.train(project)
        second = lk.training.train(project)

        rng = np.random.default_rng(7)
        gold = pd.DataFrame({f"x{i}": rng.normal(0, 1, args.rows) for i in range(args.features)})
        signal = gold["x0"] + 0.5 * gold["x1"] - 0.3 * gold["x2"] + rng.normal(0, 1, args.rows)
        gold["label"] = (signal > 0).astype(int)
        gold["segment"] = rng.choice(["a", "b", "c", "d"], args.rows)
        path = root / "gold.parquet"
        gold.to_parquet(path, index=False)
        version, _ = lk.gold.add(
            "bench-gold",
            path,
            owner="o",
            label_column="label",
            segment_column="segment",
            project_dir=project,
        )
        lk.gold.approve("bench-gold", version.version)
        # the first version is the champion of a deployment, so the gate compares with it
        failed = lk.gate.run("bench", first.version).verdict == "failed"
        lk.gate.accept("bench", first.version, override=failed, reason="bench: the champion")
        lk.releases.create("bench-online", model="bench", kind="online")
        lk.releases.release("bench-online", first.version, reason="bench: the champion")

        features = [f"x{i}" for i in range(args.features)]
        bare = 0.0
        for number in (second.version, first.version):
            model = lk.load("bench", number).model
            started = time.perf_counter()
            model.predict(gold[features])
            model.predict_proba(gold[features])
            bare += time.perf_counter() - started

        started = time.perf_counter()
        run = lk.gate.run("bench", second.version)
        total = time.perf_counter() - started

        from lightkeeper.gate import zygote

        with zygote._lock:  # the zygote is busy: the gate starts a plain process
            started = time.perf_counter()
            lk.gate.run("bench", second.version)
            plain = time.perf_counter() - started
        lk.close()

    predict = run.result["timings"]["predict_s"]
    overhead = total - predict
    print(
        f"gold rows={args.rows:,} features={args.features} trees={args.trees} verdict={run.verdict}"
    )
    print(f"gate total           {total:7.2f} s")
    print(
        f"inside predict       {predict:7.2f} s  (fresh process: both versions, latency, contract)"
    )
    print(f"bare predict (ref)   {bare:7.2f} s  (in-process predict+proba of both versions)")
    ratio = overhead / predict
    print(f"overhead             {overhead:7.2f} s  = {ratio:.2f}x predict (goal <= 1.5x)")
    print(f"plain fresh process  {plain:7.2f} s  = {plain / total:.2f}x the gate from the zygote")


if __name__ == "__main__":
    main()
