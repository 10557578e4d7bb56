"""Paired bootstrap: exact fast path, interval coverage, validation and the decision text."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from lightkeeper.errors import InvalidInput
from lightkeeper.gate.bootstrap import (
    CUSTOM_MAX_RESAMPLES,
    Interval,
    NonInferiority,
    _plan,
    decide,
    paired_bootstrap,
)
from lightkeeper.metrics import (
    MetricInputs,
    compute_metrics,
    custom_metric,
    metric,
    metric_inputs,
    metric_names,
)


@dataclass
class Case:
    """Gold rows scored by a candidate and a champion."""

    task: Any
    y: np.ndarray
    a: np.ndarray
    b: np.ndarray
    pa: np.ndarray | None = None
    pb: np.ndarray | None = None

    def kwargs(self) -> dict[str, Any]:
        return {"candidate_proba": self.pa, "champion_proba": self.pb}


def _classifier(rng: np.random.Generator, y: np.ndarray, k: int, skill: float) -> tuple[Any, Any]:
    logits = rng.normal(size=(len(y), k)) + skill * np.eye(k)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return proba.argmax(axis=1), proba


def _classification(seed: int, n: int, k: int, decimals: int | None = None) -> Case:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    (a, pa), (b, pb) = _classifier(rng, y, k, 1.6), _classifier(rng, y, k, 1.3)
    if decimals is not None:  # few distinct scores: ties between the classes
        pa = np.round(pa, decimals)
        pa[:, -1] = 1 - pa[:, :-1].sum(axis=1)
        pb = np.round(pb, decimals)
        pb[:, -1] = 1 - pb[:, :-1].sum(axis=1)
    return Case("classification", y, a, b, pa, pb)


def _regression(seed: int, n: int, integers: bool = False) -> Case:
    rng = np.random.default_rng(seed)
    y = rng.normal(20, 5, n)
    a, b = y + rng.normal(0, 2, n), y + rng.normal(0.5, 2.5, n)
    if integers:  # few distinct values: resampled as cells
        y, a, b = np.round(y / 5), np.round(a / 5), np.round(b / 5)
    return Case("regression", y, a, b)


CASES = {
    "binary": lambda: _classification(1, 400, 2),
    "binary-ties": lambda: _classification(2, 3000, 2, decimals=1),
    "3-class-small": lambda: _classification(3, 90, 3),
    "3-class": lambda: _classification(4, 2000, 3),
    "3-class-ties": lambda: _classification(5, 300, 3, decimals=1),
    "regression": lambda: _regression(6, 300),
    "regression-cells": lambda: _regression(7, 2000, integers=True),
}


def _resampled_values(
    name: str, cand: MetricInputs, champ: MetricInputs, row_counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The fast path's values for given per-row counts: summed into the kernel's units."""
    kernel, unit_of_row = _plan(name, cand, champ)
    counts = [np.bincount(unit_of_row, weights=c, minlength=kernel.units) for c in row_counts]
    return kernel(np.rint(counts).astype(np.int64))


def _rows(rng: np.random.Generator, n: int, resamples: int) -> tuple[np.ndarray, np.ndarray]:
    """Explicit index resamples and the same draws as per-row counts (first: all rows)."""
    rows = [np.arange(n)] + [rng.integers(0, n, n) for _ in range(resamples)]
    return np.stack(rows), np.stack([np.bincount(r, minlength=n) for r in rows])


@pytest.mark.parametrize("case_name", list(CASES))
def test_fast_path_equals_scikit_learn_on_the_same_resamples(case_name: str) -> None:
    case = CASES[case_name]()
    cand = metric_inputs(case.task, case.y, case.a, proba=case.pa)
    champ = metric_inputs(case.task, case.y, case.b, proba=case.pb)
    rows, counts = _rows(np.random.default_rng(11), len(case.y), 8)
    for name in metric_names(case.task):
        got_a, got_b = _resampled_values(name, cand, champ, counts)
        for i, r in enumerate(rows):
            for got, pred, proba in ((got_a, case.a, case.pa), (got_b, case.b, case.pb)):
                expected = compute_metrics(
                    case.task,
                    case.y[r],
                    pred[r],
                    proba=None if proba is None else proba[r],
                    classes=cand.classes,
                    names=[name],
                ).get(name, np.nan)  # roc_auc is undefined when a class is missing
                assert got[i] == pytest.approx(expected, abs=1e-12, nan_ok=True), (name, i)


@pytest.mark.parametrize("case_name", ["binary", "3-class", "regression"])
def test_point_estimates_equal_compute_metrics(case_name: str) -> None:
    case = CASES[case_name]()
    for name in metric_names(case.task):
        interval = paired_bootstrap(name, case.y, case.a, case.b, resamples=100, **case.kwargs())
        assert (
            interval.candidate
            == compute_metrics(case.task, case.y, case.a, proba=case.pa, names=[name])[name]
        )
        assert (
            interval.champion
            == compute_metrics(case.task, case.y, case.b, proba=case.pb, names=[name])[name]
        )
        sign = 1 if metric(name).higher_is_better else -1
        assert interval.improvement == sign * (interval.candidate - interval.champion)


def _subset(case: Case, rows: np.ndarray) -> Case:
    pa, pb = (None if p is None else p[rows] for p in (case.pa, case.pb))
    return Case(case.task, case.y[rows], case.a[rows], case.b[rows], pa, pb)


def _reference(name: str, case: Case, resamples: int, seed: int) -> tuple[float, float]:
    """Explicit index resampling through scikit-learn: the slow definition."""
    rng, n = np.random.default_rng(seed), len(case.y)
    sign = 1 if metric(name).higher_is_better else -1
    diffs = []
    for _ in range(resamples):
        r = rng.integers(0, n, n)
        values = [
            compute_metrics(
                case.task, case.y[r], pred[r], proba=None if p is None else p[r], names=[name]
            )[name]
            for pred, p in ((case.a, case.pa), (case.b, case.pb))
        ]
        diffs.append(sign * (values[0] - values[1]))
    low, high = np.percentile(diffs, [2.5, 97.5])
    return float(low), float(high)


@pytest.mark.parametrize(
    ("name", "case_name"),
    [
        ("accuracy", "binary"),
        ("roc_auc", "binary"),
        ("f1_macro", "3-class"),
        ("rmse", "regression"),
    ],
)
def test_interval_matches_the_slow_definition(name: str, case_name: str) -> None:
    case = CASES[case_name]()
    if len(case.y) > 400:  # keep the slow reference quick
        case = _subset(case, np.random.default_rng(0).choice(len(case.y), 400, replace=False))
    fast = paired_bootstrap(name, case.y, case.a, case.b, seed=3, **case.kwargs())
    low, high = _reference(name, case, 300, seed=4)
    width = high - low
    assert fast.low == pytest.approx(low, abs=0.2 * width)
    assert fast.high == pytest.approx(high, abs=0.2 * width)


@pytest.mark.parametrize("case_name", ["binary", "3-class-small", "regression"])
def test_identical_models_give_a_zero_interval(case_name: str) -> None:
    case = CASES[case_name]()
    for name in metric_names(case.task):
        interval = paired_bootstrap(
            name, case.y, case.a, case.a, candidate_proba=case.pa, champion_proba=case.pa
        )
        assert (interval.improvement, interval.low, interval.high) == (0.0, 0.0, 0.0), name


@pytest.mark.parametrize("name", ["accuracy", "f1", "roc_auc", "log_loss", "brier"])
def test_a_clearly_better_classifier_has_a_positive_lower_bound(name: str) -> None:
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 800)
    (a, pa), (b, pb) = _classifier(rng, y, 2, 3.0), _classifier(rng, y, 2, 0.8)
    interval = paired_bootstrap(name, y, a, b, candidate_proba=pa, champion_proba=pb)
    assert interval.low > 0
    reverse = paired_bootstrap(name, y, b, a, candidate_proba=pb, champion_proba=pa)
    assert reverse.high < 0


@pytest.mark.parametrize("name", ["mae", "rmse", "mse", "mape", "r2"])
def test_a_clearly_better_regressor_has_a_positive_lower_bound(name: str) -> None:
    rng = np.random.default_rng(9)
    y = rng.normal(50, 10, 500)
    interval = paired_bootstrap(name, y, y + rng.normal(0, 1, 500), y + rng.normal(0, 3, 500))
    assert interval.improvement > 0 and interval.low > 0


def test_coverage_of_the_accuracy_improvement() -> None:
    """95% intervals cover the true difference of two correlated classifiers ~95% of the time."""
    rng = np.random.default_rng(2024)
    trials, n, covered = 300, 400, 0
    for trial in range(trials):
        y = rng.integers(0, 2, n)
        u = rng.random(n)
        v = np.where(rng.random(n) < 0.7, u, rng.random(n))  # uniform, correlated with u
        candidate = np.where(u < 0.80, y, 1 - y)  # right with probability 0.80
        champion = np.where(v < 0.78, y, 1 - y)  # right with probability 0.78
        interval = paired_bootstrap("accuracy", y, candidate, champion, seed=trial)
        covered += interval.low <= 0.02 <= interval.high
    assert 0.90 <= covered / trials <= 0.985


def test_same_seed_same_interval() -> None:
    case = CASES["regression"]()
    first = paired_bootstrap("rmse", case.y, case.a, case.b, seed=5)
    assert paired_bootstrap("rmse", case.y, case.a, case.b, seed=5) == first
    assert paired_bootstrap("rmse", case.y, case.a, case.b, seed=6) != first


def test_resamples_where_the_metric_is_undefined_are_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    y = np.zeros(40, dtype=int)
    y[:2] = 1
    score = np.linspace(0.1, 0.9, 40)
    proba = np.column_stack([1 - score, score])
    with caplog.at_level(logging.INFO, logger="lightkeeper.gate.bootstrap"):
        interval = paired_bootstrap(
            "roc_auc", y, y, y, candidate_proba=proba, champion_proba=proba[::-1]
        )
    assert 500 < interval.resamples < 1000
    assert "roc_auc is undefined on" in caplog.text


def test_custom_metrics_fall_back_to_capped_index_resampling(
    caplog: pytest.LogCaptureFixture,
) -> None:
    case = CASES["regression"]()
    worst = custom_metric(
        "worst",
        lambda y, p: float(np.max(np.abs(y - p))),
        task="regression",
        higher_is_better=False,
    )
    with caplog.at_level(logging.INFO, logger="lightkeeper.gate.bootstrap"):
        interval = paired_bootstrap(worst, case.y, case.a, case.b)
    assert interval.resamples == CUSTOM_MAX_RESAMPLES
    assert interval.champion == float(np.max(np.abs(case.y - case.b)))
    assert interval.low <= interval.improvement <= interval.high
    assert f"worst is not built in: {CUSTOM_MAX_RESAMPLES} resamples instead of 1000" in caplog.text


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("accuracy", [0, 1, 1], [0, 1], [0, 1, 1]), {}, "y_true has 3 rows but y_pred has 2"),
        (("accuracy", [1], [1], [0]), {}, "at least two rows"),
        (("accuracy", [0, 1], [0, 1], [0, 1]), {"confidence": 1.0}, "confidence must be"),
        (("accuracy", [0, 1], [0, 1], [0, 1]), {"confidence": 0}, "confidence must be"),
        (("accuracy", [0, 1], [0, 1], [0, 1]), {"resamples": 99}, "resamples must be an integer"),
        (("accuracy", [0, 1], [0, 1], [0, 1]), {"resamples": 500.0}, "resamples must be"),
        (("auc", [0, 1], [0, 1], [0, 1]), {}, "unknown metric 'auc'"),
        (("roc_auc", [0, 1], [0, 1], [0, 1]), {}, "roc_auc needs class probabilities"),
        (
            ("roc_auc", [1, 1], [0, 1], [0, 1]),
            {"candidate_proba": [[0.5, 0.5]] * 2, "champion_proba": [[0.5, 0.5]] * 2},
            "single class",
        ),
        (("rmse", [1.0, 2.0], [1.0, 2.0], ["a", "b"]), {}, "y_pred must be numeric"),
    ],
)
def test_invalid_inputs_are_rejected(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        paired_bootstrap(*args, **kwargs)


def _interval(**changes: Any) -> Interval:
    values: dict[str, Any] = {
        "metric": "accuracy",
        "candidate": 0.812,
        "champion": 0.805,
        "improvement": 0.007,
        "low": -0.004,
        "high": 0.018,
        "confidence": 0.95,
        "resamples": 1000,
    }
    return Interval(**{**values, **changes})


def test_decision_passes_and_says_why_in_plain_words() -> None:
    assert decide(_interval(), 0.02) == (
        True,
        "accuracy 0.812 vs champion 0.805: +0.007 (95% CI -0.004 to +0.018), "
        "allowed drop 0.020: non-inferior",
    )
    assert NonInferiority(0.02).decide(_interval()) == decide(_interval(), 0.02)


def test_decision_fails_when_the_drop_may_be_too_large() -> None:
    ok, message = decide(_interval(low=-0.031, improvement=-0.015, high=0.001), 0.02)
    assert not ok
    assert message.endswith("the candidate may be up to 0.031 worse, more than allowed")
    assert decide(_interval(low=-0.02), 0.02)[0]  # the margin itself is allowed


def test_decision_names_the_direction_of_losses_and_small_scales() -> None:
    interval = _interval(
        metric="log_loss", candidate=0.4012, champion=0.4020, improvement=0.0008,
        low=-0.0003, high=0.0019, confidence=0.9, higher_is_better=False,
    )  # fmt: skip
    ok, message = decide(interval, 0.001)
    assert ok
    assert message == (
        "log_loss 0.4012 vs champion 0.4020 (lower is better): +0.0008 (90% CI -0.0003 to "
        "+0.0019), allowed drop 0.0010: non-inferior"
    )
    with pytest.raises(InvalidInput, match="max_drop must be >= 0"):
        decide(interval, -0.1)


def test_interval_to_dict() -> None:
    assert _interval().to_dict() == {
        "metric": "accuracy",
        "candidate": 0.812,
        "champion": 0.805,
        "improvement": 0.007,
        "low": -0.004,
        "high": 0.018,
        "confidence": 0.95,
        "resamples": 1000,
        "higher_is_better": True,
    }
