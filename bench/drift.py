"""Drift of a window against a stored reference profile vs scipy per column, same data.

    python bench/drift.py [--rows 100000,1000000] [--reference 200000]

Data: 15 numeric columns (normal, gamma, uniform, integers) and 5 categorical ones (5 to
50 levels); the reference sample is profiled once (what lightkeeper stores with each
model version), then windows of each size are compared with it:

- lightkeeper: ``drift_from_profile`` (KS, Wasserstein, PSI, Jensen-Shannon for numbers;
  chi-square, PSI, Jensen-Shannon for categories), and
- scipy: ``ks_2samp`` per numeric column and ``chi2_contingency`` per categorical column
  against the raw reference sample (the baseline a team would write by hand).

Goal: at most 0.5 s for 1M rows x 20 columns with a stored profile (Evidently's default
preset took about 108 s and NannyML's about 22 s on this kind of machine).

Then memory: a ``DriftWindow`` (what ``lightkeeper monitor drift`` uses over the
prediction logs) fed windows of growing size in 50,000-row chunks; the peak memory it
allocates (tracemalloc) stays flat while the window grows. Evidently and NannyML run on
the 100,000-row window too when they are installed (``pip install evidently nannyml``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for i in range(15):
        kind = i % 4
        if kind == 0:
            columns[f"n{i}"] = rng.normal(i, 1 + i / 10, rows)
        elif kind == 1:
            columns[f"n{i}"] = rng.gamma(2.0 + i / 5, 10.0, rows)
        elif kind == 2:
            columns[f"n{i}"] = rng.uniform(-i, i + 1, rows)
        else:
            columns[f"n{i}"] = rng.integers(0, 100 + i, rows).astype(float)
    for j in range(5):
        levels = [f"c{j}_{k}" for k in range(5 + 10 * j)]
        columns[f"c{j}"] = pd.Categorical(rng.choice(levels, rows)).astype(str)
    return pd.DataFrame(columns)


def scipy_baseline(reference: pd.DataFrame, current: pd.DataFrame) -> float:
    from scipy import stats

    started = time.perf_counter()
    for column in reference.columns:
        if column.startswith("n"):
            stats.ks_2samp(reference[column].to_numpy(), current[column].to_numpy())
        else:
            table = pd.concat(
                [reference[column].value_counts(), current[column].value_counts()], axis=1
            ).fillna(0)
            stats.chi2_contingency(table.to_numpy().T, correction=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="100000,1000000")
    parser.add_argument("--reference", type=int, default=200_000)
    parser.add_argument("--stream", default="100000,1000000")
    args = parser.parse_args()

    from lightkeeper.monitor.drift import drift_from_profile
    from lightkeeper.profile import build_profile

    reference = frame(args.reference, 1)
    schema = {c: ("float" if c.startswith("n") else "category") for c in reference.columns}
    started = time.perf_counter()
    profile = build_profile(reference, schema=schema)
    profiled = time.perf_counter() - started
    print(f"reference: {args.reference:,} rows x 20 columns, profiled once in {profiled:.2f} s")
    print(f"{'rows':>10} {'lightkeeper s':>14} {'scipy s':>9} {'speed-up':>9} {'drifted':>8}")
    for rows in [int(r) for r in args.rows.split(",")]:
        current = frame(rows, 2)
        current["n0"] += 0.5  # one shifted column, so the verdicts have something to find
        drift_from_profile(profile, current.head(1000))  # warm
        started = time.perf_counter()
        report = drift_from_profile(profile, current)
        ours = time.perf_counter() - started
        baseline = scipy_baseline(reference, current)
        print(
            f"{rows:>10,} {ours:>14.3f} {baseline:>9.3f} {baseline / ours:>8.1f}x "
            f"{len(report.drifted):>8}"
        )
    print("goal: <= 0.5 s for 1,000,000 rows x 20 columns with a stored profile")
    streaming(profile, [int(r) for r in args.stream.split(",")])
    others(reference, frame(100_000, 2))


def streaming(profile: object, sizes: list[int], chunk: int = 50_000) -> None:
    """Peak memory of a chunked window against its size: flat means bounded."""
    import tracemalloc

    from lightkeeper.monitor.drift import DriftWindow

    print(f"\nstreamed in {chunk:,}-row chunks (DriftWindow):")
    print(f"{'rows':>10} {'seconds':>8} {'peak MiB':>9}")
    for rows in sizes:
        tracemalloc.start()
        started = time.perf_counter()
        window = DriftWindow(profile)  # type: ignore[arg-type]
        for seed, start in enumerate(range(0, rows, chunk)):
            window.add(frame(min(chunk, rows - start), 100 + seed))
        window.report()
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{rows:>10,} {seconds:>8.2f} {peak / 2**20:>9.1f}")
    print("(the seconds include generating the chunks; the peak is one chunk's worth)")


def others(reference: pd.DataFrame, current: pd.DataFrame) -> None:
    """Evidently's and NannyML's default drift on the same data, when installed."""
    try:
        from evidently import Report
        from evidently.presets import DataDriftPreset
    except ImportError:
        print("\nevidently: not installed (pip install evidently)")
    else:
        started = time.perf_counter()
        Report([DataDriftPreset()]).run(current, reference)
        seconds = time.perf_counter() - started
        print(f"\nevidently DataDriftPreset, {len(current):,} rows: {seconds:.2f} s")
    try:
        import nannyml
    except ImportError:
        print("nannyml: not installed (pip install nannyml)")
    else:
        columns = list(reference.columns)
        started = time.perf_counter()
        calc = nannyml.UnivariateDriftCalculator(column_names=columns, chunk_number=1)
        calc.fit(reference)
        calc.calculate(current)
        seconds = time.perf_counter() - started
        print(f"nannyml univariate drift, {len(current):,} rows: {seconds:.2f} s")


if __name__ == "__main__":
    main()
