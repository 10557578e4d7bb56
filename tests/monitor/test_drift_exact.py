"""Drift on raw data equals scipy's functions to 1e-9 (ties, integer values, categories on
one side only), and the KS p-value for large samples stays close to scipy's exact one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from lightkeeper.monitor.drift import (
    EXACT_KS_SIZE,
    PSI_FLOOR,
    SCIPY_EXACT_SIZE,
    _ks_p_value,
    drift_from_data,
)

# The largest |asymptotic - exact| measured on a grid of statistics and effective sizes
# from 1,001 up (2.04e-5, at 1,001: docs/drift.md); the error shrinks as 1 / n.
ASYMPTOTIC_TOLERANCE = 2.5e-5


def _sample(rng: np.random.Generator, kind: str, n: int, shift: float) -> np.ndarray:
    if kind == "ties":  # a normal rounded to one or two decimals: many repeated values
        return np.round(rng.normal(shift, 1.0, n), int(rng.integers(1, 3)))
    if kind == "integers":  # integer-valued floats, a few dozen distinct values
        return rng.poisson(20 + 10 * shift, n).astype(np.float64)
    return rng.gamma(2.0, 1.0 + shift, n)  # continuous


def _frames(seed: int, n: int, m: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def side(rows: int, shift: float, levels: list[str]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "ties": _sample(rng, "ties", rows, shift),
                "integers": _sample(rng, "integers", rows, shift),
                "counts": rng.integers(0, 4 + int(shift * 4), rows),  # int64, tiny support
                "continuous": _sample(rng, "continuous", rows, shift),
                "color": rng.choice(levels, rows),
            }
        )

    # "only_ref" is only in the reference, "only_cur" only in the current data.
    reference = side(n, 0.0, ["red", "green", "blue", "only_ref"])
    current = side(m, 0.1 * (seed % 3), ["red", "green", "blue", "only_cur"])
    return reference, current


def _bins(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference's 20 equal-frequency bins, counted the plain way."""
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, 21)[1:-1]))
    count = lambda x: np.bincount(np.searchsorted(edges, x, side="left"), minlength=edges.size + 1)  # noqa: E731
    return count(ref), count(cur)


def _psi(ref: np.ndarray, cur: np.ndarray) -> float:
    p = np.maximum(ref / ref.sum(), PSI_FLOOR)
    q = np.maximum(cur / cur.sum(), PSI_FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def _p_value_tolerance(n: int, m: int) -> float:
    """Exactly scipy's p-value where lightkeeper uses scipy's distribution."""
    effective = round(max(n, m) * min(n, m) / (n + m))
    exact = max(n, m) <= SCIPY_EXACT_SIZE or effective <= EXACT_KS_SIZE
    return 1e-9 if exact else ASYMPTOTIC_TOLERANCE


@pytest.mark.parametrize(
    ("seed", "n", "m"),
    [
        (0, 3_000, 800),  # a small window: exact two-sample p-value
        (1, 9_000, 10_000),  # scipy's exact method still
        (2, 60_000, 700),  # large reference, small window: kstwo at the effective size
        (3, 40_000, 25_000),  # large both: the asymptotic p-value
        (4, 15, 12),  # tiny
    ],
)
def test_raw_statistics_equal_scipys(seed: int, n: int, m: int) -> None:
    reference, current = _frames(seed, n, m)
    report = {f.feature: f for f in drift_from_data(reference, current).features}
    for column in ("ties", "integers", "counts", "continuous"):
        ref, cur = reference[column].to_numpy(), current[column].to_numpy()
        feature = report[column]
        assert feature.kind == "numeric"
        got = feature.statistics
        ks = stats.ks_2samp(ref, cur)
        assert got["ks"] == pytest.approx(ks.statistic, abs=1e-9), column
        assert got["ks_p_value"] == pytest.approx(ks.pvalue, abs=_p_value_tolerance(n, m))
        assert got["wasserstein"] == pytest.approx(
            stats.wasserstein_distance(ref, cur), abs=1e-9
        ), column
        ref_bins, cur_bins = _bins(ref, cur)
        assert got["jensenshannon"] == pytest.approx(
            jensenshannon(ref_bins, cur_bins, base=2), abs=1e-9
        ), column
        assert got["psi"] == pytest.approx(_psi(ref_bins, cur_bins), abs=1e-9), column
        assert feature.histogram is not None
        assert len(feature.histogram["labels"]) == ref_bins.size
    color = report["color"]
    table = pd.crosstab(np.r_[np.zeros(n), np.ones(m)], np.r_[reference["color"], current["color"]])
    counts = table.to_numpy()
    chi2, p_value, _, _ = stats.chi2_contingency(counts, correction=False)
    assert color.statistics["chi2"] == pytest.approx(chi2, abs=1e-9)
    assert color.statistics["chi2_p_value"] == pytest.approx(p_value, abs=1e-9)
    assert color.statistics["jensenshannon"] == pytest.approx(
        jensenshannon(counts[0], counts[1], base=2), abs=1e-9
    )
    assert color.statistics["psi"] == pytest.approx(_psi(counts[0], counts[1]), abs=1e-9)
    assert color.histogram is not None
    assert color.histogram["labels"] == sorted(table.columns)  # both one-sided levels


def test_ks_counts_ties_as_scipy_does() -> None:
    # Equal values on both sides: the ECDFs are compared after the whole run of ties.
    reference = pd.DataFrame({"x": [1.0, 1.0, 2.0, 2.0, 2.0, 3.0] * 400})
    current = pd.DataFrame({"x": [1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0] * 300})
    [feature] = drift_from_data(reference, current).features
    ks = stats.ks_2samp(reference["x"], current["x"])
    assert feature.statistics["ks"] == pytest.approx(ks.statistic, abs=1e-12)
    assert feature.statistics["wasserstein"] == pytest.approx(
        stats.wasserstein_distance(reference["x"], current["x"]), abs=1e-12
    )
    same = drift_from_data(reference, reference).features[0].statistics
    assert same["ks"] == 0.0 and same["wasserstein"] == 0.0 and same["ks_p_value"] == 1.0
    constant = pd.DataFrame({"x": [5.0] * 50})
    flat = drift_from_data(constant, constant).features[0].statistics
    assert (flat["ks"], flat["wasserstein"]) == (0.0, 0.0)


def test_the_p_value_is_scipys_exact_one_up_to_the_threshold() -> None:
    for size in (1, 7, 140, 500, EXACT_KS_SIZE):
        for statistic in (0.001, 0.02, 0.05, 0.2, 0.6):
            # n = m = 2 * size gives the effective size n m / (n + m) = size.
            got = _ks_p_value(statistic, 2 * size, 2 * size)
            assert got == stats.kstwo.sf(statistic, size), (size, statistic)


@pytest.mark.parametrize("size", [EXACT_KS_SIZE + 1, 4_000, 30_000])
def test_the_asymptotic_p_value_is_close_to_scipys_exact_one(size: int) -> None:
    root = size**0.5
    worst = 0.0
    for x in np.arange(0.2, 3.01, 0.1):  # sqrt(n) D: p from about 1 down to 1e-7
        statistic = float(x / root)
        got = _ks_p_value(statistic, 2 * size, 2 * size)
        worst = max(worst, abs(got - float(stats.kstwo.sf(statistic, size))))
    assert worst <= ASYMPTOTIC_TOLERANCE, (size, worst)
    # Far out in the tail both are zero, or as good as zero.
    assert _ks_p_value(0.5, 2 * size, 2 * size) < 1e-100
