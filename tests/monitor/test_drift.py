"""Drift statistics: exact against scipy on raw data, close to it from a stored profile,
quiet on unchanged data, and pointed at the features that moved."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from lightkeeper.errors import InvalidInput
from lightkeeper.monitor.drift import drift_from_data, drift_from_profile
from lightkeeper.profile import build_profile
from support import drift_sample


def test_raw_statistics_equal_scipys() -> None:
    ref, cur = drift_sample(3000, 1), drift_sample(800, 2, shift=0.2, mix=0.1)
    report = {f.feature: f for f in drift_from_data(ref, cur).features}
    score = report["score"].statistics
    ks = stats.ks_2samp(ref["score"], cur["score"])
    assert score["ks"] == pytest.approx(ks.statistic, abs=1e-9)
    assert score["ks_p_value"] == pytest.approx(ks.pvalue, abs=1e-9)
    assert score["wasserstein"] == pytest.approx(
        stats.wasserstein_distance(ref["score"], cur["score"]), abs=1e-9
    )
    color = report["color"].statistics
    table = pd.crosstab(
        np.r_[np.zeros(len(ref)), np.ones(len(cur))], np.r_[ref["color"], cur["color"]]
    )
    chi2, p_value, _, _ = stats.chi2_contingency(table.to_numpy(), correction=False)
    assert color["chi2"] == pytest.approx(chi2, abs=1e-9)
    assert color["chi2_p_value"] == pytest.approx(p_value, abs=1e-9)
    shares = table.to_numpy() / table.to_numpy().sum(axis=1, keepdims=True)
    assert color["jensenshannon"] == pytest.approx(
        jensenshannon(shares[0], shares[1], base=2), abs=1e-9
    )
    assert report["score"].method == "ks" and report["color"].method == "chi2"  # small window


def test_the_profile_gives_nearly_the_raw_values() -> None:
    ref, cur = drift_sample(20_000, 1), drift_sample(20_000, 2, shift=0.3, mix=0.1)
    exact = {f.feature: f.statistics for f in drift_from_data(ref, cur).features}
    profile = build_profile(ref, schema={"amount": "float", "score": "float", "color": "str"})
    fast = {f.feature: f for f in drift_from_profile(profile, cur).features}
    for column in ("amount", "score"):
        assert fast[column].statistics["ks"] == pytest.approx(exact[column]["ks"], abs=0.01)
        assert fast[column].statistics["wasserstein_normed"] == pytest.approx(
            exact[column]["wasserstein_normed"], rel=0.05, abs=0.005
        )
    assert fast["color"].statistics["jensenshannon"] == pytest.approx(
        exact["color"]["jensenshannon"], abs=1e-9
    )
    assert fast["score"].method == "wasserstein" and fast["score"].drifted
    assert fast["color"].method == "jensenshannon"


@pytest.mark.parametrize("window", [500, 5000])
def test_unchanged_data_rarely_alarms(window: int) -> None:
    profile = build_profile(drift_sample(50_000, 1), schema={"score": "float", "color": "str"})
    alarms = [
        drift_from_profile(profile, drift_sample(window, seed)[["score", "color"]]).drifted
        for seed in range(100, 300)
    ]
    for feature in ("score", "color"):
        rate = sum(feature in drifted for drifted in alarms) / len(alarms)
        assert rate <= 0.05 + 3 * (0.05 * 0.95 / len(alarms)) ** 0.5, (feature, rate)


def test_a_shift_is_found_in_the_shifted_features_only() -> None:
    profile = build_profile(
        drift_sample(50_000, 1), schema={"amount": "float", "score": "float", "color": "str"}
    )
    for window in (400, 50_000):
        report = drift_from_profile(profile, drift_sample(window, 8, shift=0.8, mix=0.25))
        assert report.drifted == ["score", "color"], window
        assert report.share_drifted == pytest.approx(2 / 3)


@pytest.mark.parametrize("window", [300, 20_000])
def test_repeated_values_in_the_profile_give_the_raw_values(window: int) -> None:
    rng = np.random.default_rng(0)

    def make(n: int) -> pd.DataFrame:
        return pd.DataFrame({"k": rng.integers(0, 3, n), "flag": (rng.random(n) < 0.3).astype(int)})

    ref, cur = make(30_000), make(window)
    fast = {f.feature: f for f in drift_from_profile(build_profile(ref), cur).features}
    for column in ("k", "flag"):
        raw_ks = stats.ks_2samp(ref[column], cur[column]).statistic
        raw_w = stats.wasserstein_distance(ref[column], cur[column])
        assert fast[column].statistics["ks"] == pytest.approx(raw_ks, abs=0.01)
        assert fast[column].statistics["wasserstein"] == pytest.approx(raw_w, abs=0.01)
        assert not fast[column].drifted


def test_raw_datetimes_are_numbers_and_infinity_is_missing() -> None:
    rng = np.random.default_rng(1)

    def stamps(n: int) -> pd.Series:
        seconds = pd.to_timedelta(rng.integers(0, 86400 * 30, n), unit="s")
        return pd.Series(pd.Timestamp("2024-01-01") + seconds)

    ref = pd.DataFrame({"ts": stamps(20_000), "x": rng.normal(size=20_000)})
    cur = pd.DataFrame({"ts": stamps(5_000), "x": np.r_[rng.normal(size=4_999), np.inf]})
    report = {f.feature: f for f in drift_from_data(ref, cur).features}
    assert report["ts"].kind == "numeric" and not report["ts"].drifted
    assert np.isfinite(report["x"].statistics["wasserstein"]) and not report["x"].drifted


def test_a_column_with_nothing_to_compare_has_no_verdict() -> None:
    import json

    ref = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    cur = pd.DataFrame({"x": [np.nan, np.nan]})
    [feature] = drift_from_data(ref, cur).features
    assert (feature.method, feature.drifted, feature.value) == ("none", False, None)
    json.dumps(drift_from_data(ref, cur).to_dict(), allow_nan=False)


def test_a_window_added_in_chunks_equals_it_added_whole() -> None:
    from lightkeeper.monitor.drift import DriftWindow

    profile = build_profile(drift_sample(5000, 1))
    current = drift_sample(4000, 3, shift=0.3, mix=0.1)
    current.loc[::7, "amount"] = np.nan
    whole = drift_from_profile(profile, current)
    window = DriftWindow(profile)
    for start in range(0, len(current), 999):
        window.add(current.iloc[start : start + 999])
    chunked = window.report()
    for a, b in zip(whole.features, chunked.features, strict=True):
        assert a.drifted == b.drifted and a.current_rows == b.current_rows
        assert a.statistics == pytest.approx(b.statistics, rel=1e-12, abs=1e-12)
        assert a.histogram == b.histogram
    amount = next(f for f in chunked.features if f.feature == "amount")
    assert amount.statistics["missing_share"] == pytest.approx(572 / 4000)
    assert sum(amount.histogram["current"]) == pytest.approx(1.0)


def test_a_window_without_any_profiled_feature_is_refused() -> None:
    from lightkeeper.errors import InvalidInput
    from lightkeeper.monitor.drift import DriftWindow

    window = DriftWindow(build_profile(drift_sample(500, 1)))
    with pytest.raises(InvalidInput, match="none of the profiled features"):
        window.add(pd.DataFrame({"other": [1, 2]}))


def test_categorical_columns_named_add_to_those_detected() -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame(
        {"code": rng.integers(0, 5, 2_000), "sky": rng.choice(["sun", "rain"], 2_000)}
    )
    cur = pd.DataFrame(
        {"code": rng.integers(0, 5, 2_000), "sky": rng.choice(["sun", "rain"], 2_000)}
    )
    kinds = {f.feature: f.kind for f in drift_from_data(ref, cur, categorical=["code"]).features}
    assert kinds == {"code": "categorical", "sky": "categorical"}
    detected = {f.feature: f.kind for f in drift_from_data(ref, cur).features}
    assert detected == {"code": "numeric", "sky": "categorical"}
    with pytest.raises(InvalidInput, match=r"categorical column\(s\) cod are not in both"):
        drift_from_data(ref, cur, categorical=["cod"])


def _bench_data() -> ModuleType:
    """bench/drift.py: its data generator and its drifted window."""
    path = Path(__file__).resolve().parents[2] / "bench" / "drift.py"
    spec = importlib.util.spec_from_file_location("bench_drift_data", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bench_drift_is_found_in_the_drifted_columns_only() -> None:
    # A quarter of the columns moved by amounts a user cares about: a quarter of a
    # standard deviation, 1.3 times the spread, a level losing a third of its share,
    # a new level; 50,000 rows (the bench runs 1,000,000).
    bench = _bench_data()
    reference = bench.frame(50_000, 1)
    schema = {c: ("float" if c.startswith("n") else "category") for c in reference.columns}
    profile = build_profile(reference, schema=schema)
    window = bench.frame(50_000, 2)
    moved = bench.drifted(window)
    assert bench.DRIFTED == ["n0", "n1", "n2", "c0", "c1"]
    assert drift_from_profile(profile, window).drifted == []
    assert drift_from_profile(profile, moved).drifted == bench.DRIFTED
    assert drift_from_data(reference, window).drifted == []
    exact = drift_from_data(reference, moved)
    assert exact.drifted == bench.DRIFTED
    fast = drift_from_profile(profile, moved)
    for a, b in zip(exact.features, fast.features, strict=True):
        assert a.feature == b.feature and a.method == b.method
        if a.kind == "numeric":
            assert b.statistics["ks"] == pytest.approx(a.statistics["ks"], abs=0.01)
        if a.feature in bench.DRIFTED and a.kind == "numeric":  # far out in the tail
            assert a.statistics["ks_p_value"] < 1e-100 and b.statistics["ks_p_value"] < 1e-100
