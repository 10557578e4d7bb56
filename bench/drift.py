"""Drift vs scipy per column, same data: from a stored profile, and on raw files end to end.

    python bench/drift.py [--rows 100000,1000000] [--reference 200000]
                          [--stream 100000,1000000] [--files 1000000] [--repeat 3]

Data: 15 numeric columns (normal, gamma, uniform, integers) and 5 categorical ones (5 to
45 levels, Zipf shares: the most frequent level of ``c0`` has 44%). Every window comes
twice: undrifted, and drifted in a quarter of the columns by amounts a user cares about
(:func:`drifted`): ``n0`` (normal) and ``n2`` (uniform) shifted by a quarter of their
standard deviation, ``n1`` (gamma) spread 1.3 times around its mean, ``c0``'s most
frequent level losing a third of its share to the others, and a new level taking 5% of
``c1``.

1. From a stored profile: the reference sample is profiled once (what lightkeeper stores
   with each model version), then each window is compared with it by
   ``drift_from_profile`` (KS with p-value, Wasserstein, PSI, Jensen-Shannon for numbers;
   chi-square, PSI, Jensen-Shannon for categories), against scipy's ``ks_2samp`` per
   numeric column and ``chi2_contingency`` per categorical column on the raw reference
   (the baseline a team would write by hand). Goal: at most 0.5 s for 1M rows x 20
   columns, drifted or not (Evidently's default preset took about 108 s and NannyML's
   about 22 s on this kind of machine).
2. Memory: a ``DriftWindow`` (what ``lightkeeper monitor drift`` uses over the prediction
   logs) fed windows of growing size in 50,000-row chunks; the peak memory it allocates
   (tracemalloc) stays flat while the window grows.
3. Raw files: ``python -m lightkeeper drift ref.parquet cur.parquet --json`` as a fresh
   process (start, imports, reading, statistics, output; the median of ``--repeat`` runs)
   on two Parquet files of ``--files`` rows x 20 columns (the drifted window as the
   current one), against scipy's functions in this already-started process on the
   frames already loaded: ``ks_2samp`` and ``wasserstein_distance`` per numeric column,
   ``chi2_contingency`` per categorical one (median of ``--repeat`` runs). Goal: the
   whole process in at most half scipy's time.

Evidently and NannyML run on a 100,000-row window too when they are installed (``pip
install evidently nannyml``). About a minute at the default settings on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

DRIFTED = ["n0", "n1", "n2", "c0", "c1"]  # a quarter of the 20 columns


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
        levels = pa.array([f"c{j}_{k}" for k in range(5 + 10 * j)])
        shares = 1 / np.arange(1, len(levels) + 1)  # Zipf: a few frequent levels, a tail
        codes = pa.array(rng.choice(len(levels), rows, p=shares / shares.sum()), pa.int32())
        text = pa.DictionaryArray.from_arrays(codes, levels).cast(pa.large_string())
        columns[f"c{j}"] = pd.array(text, "str")  # pandas' text dtype, built without objects
    return pd.DataFrame(columns)


def drifted(window: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """``window`` with the drift described above in the columns of :data:`DRIFTED`."""
    rng = np.random.default_rng(seed)
    out = window.copy()
    for column in ("n0", "n2"):  # a quarter of a standard deviation
        out[column] = out[column] + 0.25 * out[column].std()
    spread = out["n1"].mean()
    out["n1"] = spread + 1.3 * (out["n1"] - spread)  # 1.3 times the spread
    c0 = out["c0"].to_numpy(dtype=object)
    top = pd.Series(c0).value_counts().index[0]
    others = np.unique(c0[c0 != top])
    lost = np.flatnonzero((c0 == top) & (rng.random(c0.size) < 1 / 3))
    shares = pd.Series(c0).value_counts()[others].to_numpy(dtype=float)
    c0[lost] = rng.choice(others, lost.size, p=shares / shares.sum())  # to the others, pro rata
    out["c0"] = pd.array(c0, "str")
    c1 = out["c1"].to_numpy(dtype=object)
    c1[rng.random(c1.size) < 0.05] = "c1_new"  # a level never seen in the reference
    out["c1"] = pd.array(c1, "str")
    return out


def scipy_baseline(reference: pd.DataFrame, current: pd.DataFrame, *, wasserstein: bool) -> float:
    """Seconds for scipy's functions per column on frames already in memory."""
    from scipy import stats

    started = time.perf_counter()
    for column in reference.columns:
        if column.startswith("n"):
            ref, cur = reference[column].to_numpy(), current[column].to_numpy()
            stats.ks_2samp(ref, cur)
            if wasserstein:
                stats.wasserstein_distance(ref, cur)
        else:
            table = pd.concat(
                [reference[column].value_counts(), current[column].value_counts()], axis=1
            ).fillna(0)
            stats.chi2_contingency(table.to_numpy().T, correction=False)
    return time.perf_counter() - started


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def from_profile(sizes: list[int], reference_rows: int, repeat: int) -> object:
    from lightkeeper.monitor.drift import drift_from_profile
    from lightkeeper.profile import build_profile

    reference = frame(reference_rows, 1)
    schema = {c: ("float" if c.startswith("n") else "category") for c in reference.columns}
    started = time.perf_counter()
    profile = build_profile(reference, schema=schema)
    profiled = time.perf_counter() - started
    print(f"1. from a stored profile: reference {reference_rows:,} rows x 20 columns, ", end="")
    print(f"profiled once in {profiled:.2f} s; lightkeeper is the median of {repeat} runs")
    print(
        f"{'rows':>10} {'window':>10} {'lightkeeper s':>14} {'scipy s':>9} {'ratio':>7} "
        f"{'drifted columns':>16}"
    )
    for rows in sizes:
        undrifted = frame(rows, 2)
        for label, current in (("undrifted", undrifted), ("drifted", drifted(undrifted))):
            drift_from_profile(profile, current.head(1000))  # warm
            ours = median_seconds(lambda c=current: drift_from_profile(profile, c), repeat)
            report = drift_from_profile(profile, current)
            baseline = scipy_baseline(reference, current, wasserstein=False)
            found = ",".join(report.drifted) or "-"
            print(
                f"{rows:>10,} {label:>10} {ours:>14.3f} {baseline:>9.3f} "
                f"{ours / baseline:>7.3f} {found:>16}"
            )
    print("goal: <= 0.5 s for 1,000,000 rows x 20 columns with a stored profile, both windows")
    print(f"(the drifted columns are {','.join(DRIFTED)}; ratio = lightkeeper / scipy)")
    return profile


def streaming(profile: object, sizes: list[int], chunk: int = 50_000) -> None:
    """Peak memory of a chunked window against its size: flat means bounded."""
    import tracemalloc

    from lightkeeper.monitor.drift import DriftWindow

    print(f"\n2. streamed in {chunk:,}-row chunks (DriftWindow):")
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


def raw_files(rows: int, repeat: int) -> None:
    """``lightkeeper drift`` on two Parquet files as a fresh process vs scipy in this one."""
    from lightkeeper.monitor.drift import drift_from_data

    print(f"\n3. raw files: {rows:,} rows x 20 columns in each of two Parquet files")
    with tempfile.TemporaryDirectory() as tmp:
        ref_path, cur_path = Path(tmp) / "ref.parquet", Path(tmp) / "cur.parquet"
        frame(rows, 1).to_parquet(ref_path)
        drifted(frame(rows, 2)).to_parquet(cur_path)
        argv = [sys.executable, "-m", "lightkeeper", "drift", str(ref_path), str(cur_path)]

        def whole_process() -> None:
            done = subprocess.run(
                [*argv, "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
            )
            if done.returncode not in (0, 1):  # 1: something drifted
                raise SystemExit(f"lightkeeper drift failed: {done.stderr.decode()}")

        ours = median_seconds(whole_process, repeat)
        reference, current = pd.read_parquet(ref_path), pd.read_parquet(cur_path)
        inside = median_seconds(lambda: drift_from_data(reference, current), 1)
        found = ",".join(drift_from_data(reference, current).drifted) or "-"
        baseline = statistics.median(
            scipy_baseline(reference, current, wasserstein=True) for _ in range(repeat)
        )
    print(f"lightkeeper drift, whole process (median of {repeat}): {ours:>7.2f} s")
    print(f"  of which drift_from_data on the loaded frames:      {inside:>7.2f} s")
    print(f"scipy per column, frames loaded (median of {repeat}):   {baseline:>7.2f} s")
    print(f"ratio: {ours / baseline:.3f} (goal <= 0.5); drifted columns: {found}")


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="100000,1000000", help="window sizes (profile)")
    parser.add_argument("--reference", type=int, default=200_000, help="rows profiled")
    parser.add_argument("--stream", default="100000,1000000", help="window sizes (memory)")
    parser.add_argument("--files", type=int, default=1_000_000, help="rows per file; 0: skip")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (median)")
    args = parser.parse_args()

    profile = from_profile([int(r) for r in args.rows.split(",")], args.reference, args.repeat)
    streaming(profile, [int(r) for r in args.stream.split(",")])
    if args.files:
        raw_files(args.files, args.repeat)
    others(frame(args.reference, 1), frame(100_000, 2))


if __name__ == "__main__":
    main()
