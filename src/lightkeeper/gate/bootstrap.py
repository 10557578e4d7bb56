"""Paired bootstrap interval of a metric difference between a candidate and the champion.

Both models are scored on the same resampled gold rows, and the percentile interval of
the resampled improvements is reported. A resample with replacement is a vector of
multinomial counts over the rows, and every built-in metric is a cheap function of those
counts, so no resample calls scikit-learn:

* label metrics (accuracy, precision, recall, F1, balanced accuracy) read per-class
  true-positive, predicted and true counts from a count-weighted indicator matrix;
* log loss, Brier score, MAE, MSE, RMSE and MAPE are count-weighted means of per-row
  losses, R2 comes from weighted sums;
* ROC AUC is the Mann-Whitney statistic from cumulative negative counts along the
  sorted scores (ties count half).

When rows fall into few distinct cells (labels are (true, candidate, champion) triples:
at most k**3 cells), the counts are drawn as one multinomial over the cells, which has
exactly the distribution of resampling the rows. Metrics that are not built in (custom
metrics) fall back to resampling indices and calling the metric, at most
:data:`CUSTOM_MAX_RESAMPLES` times.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, cast

import numpy as np
from scipy import sparse

from lightkeeper.errors import InvalidInput
from lightkeeper.gate.metrics import (
    METRICS,
    Metric,
    MetricInputs,
    evaluate,
    metric,
    metric_inputs,
    unavailable_reason,
)

log = logging.getLogger(__name__)

#: Fewest resamples accepted.
MIN_RESAMPLES = 100
#: Resamples used at most for metrics that are not built in (each calls the metric twice).
CUSTOM_MAX_RESAMPLES = 200
_CHUNK = 1 << 16  # count-matrix entries per chunk: keeps the working set in cache
_CELL_RATIO = 8  # resample distinct cells instead of rows when cells <= rows / 8

_Values = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Interval:
    """Bootstrap interval of the candidate's improvement over the champion.

    Attributes:
        metric: metric name.
        candidate: metric of the candidate on all rows.
        champion: metric of the champion on all rows.
        improvement: positive when the candidate is better (champion - candidate for
            losses).
        low: lower bound of the two-sided interval of ``improvement`` at ``confidence``.
        high: upper bound.
        confidence: for example 0.95.
        resamples: resamples the interval was computed from.
        higher_is_better: direction of the metric itself.
    """

    metric: str
    candidate: float
    champion: float
    improvement: float
    low: float
    high: float
    confidence: float
    resamples: int
    higher_is_better: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The interval as JSON-ready values."""
        return asdict(self)


def paired_bootstrap(
    metric: str | Metric,
    y_true: Any,
    candidate_pred: Any,
    champion_pred: Any,
    *,
    candidate_proba: Any = None,
    champion_proba: Any = None,
    classes: Any = None,
    positive_class: Any = None,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap interval of the candidate's improvement on the same gold rows.

    Args:
        metric: a built-in metric name, or a :class:`Metric` (see
            :func:`lightkeeper.gate.metrics.custom_metric`).
        y_true: gold values.
        candidate_pred: candidate predictions for the gold rows.
        champion_pred: champion predictions for the same rows.
        candidate_proba: candidate class probabilities, columns in ``classes`` order.
        champion_proba: champion class probabilities, same columns.
        classes: order of the probability columns (default: the sorted labels).
        positive_class: positive class of a binary task (default: second sorted class).
        resamples: number of resamples, at least :data:`MIN_RESAMPLES`.
        confidence: two-sided confidence level, between 0 and 1.
        seed: seed of the random resampling; the same seed gives the same interval.

    Returns:
        The interval; ``improvement``, ``low`` and ``high`` are positive when the
        candidate is better.

    Raises:
        InvalidInput: bad arguments, inputs of different lengths, fewer than two rows,
            or a metric that cannot be computed on these inputs.
    """
    m = _as_metric(metric)
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < MIN_RESAMPLES:
        raise InvalidInput(
            f"resamples must be an integer >= {MIN_RESAMPLES}, got {resamples!r}",
            hint="1000 is usual",
        )
    if not 0 < confidence < 1:
        raise InvalidInput(f"confidence must be between 0 and 1, got {confidence!r}", hint="0.95")
    preds, probas = (candidate_pred, champion_pred), (candidate_proba, champion_proba)
    cand, champ = _pair(m, y_true, preds, probas, classes, positive_class)
    candidate, champion = evaluate(m, cand), evaluate(m, champ)
    rng = np.random.default_rng(seed)
    if METRICS.get(m.name) is m:
        cand_b, champ_b = _fast(m.name, cand, champ, resamples, rng)
    else:
        cand_b, champ_b = _slow(m, cand, champ, resamples, rng)
    sign = 1.0 if m.higher_is_better else -1.0
    diffs = sign * (cand_b - champ_b)
    diffs = diffs[np.isfinite(diffs)]
    if len(diffs) < len(cand_b):
        log.info(
            "%s is undefined on %d of %d resamples (one class missing); they are left out",
            m.name, len(cand_b) - len(diffs), len(cand_b),
        )  # fmt: skip
    if len(diffs) < len(cand_b) / 2:
        raise InvalidInput(
            f"{m.name} is undefined on most resamples of these {len(cand.y_true)} rows",
            hint="use a larger gold set, or a metric defined for every sample",
        )
    alpha = 100 * (1 - confidence) / 2
    low, high = np.percentile(diffs, [alpha, 100 - alpha])
    return Interval(
        m.name, candidate, champion, sign * (candidate - champion), float(low), float(high),
        float(confidence), len(diffs), m.higher_is_better,
    )  # fmt: skip


@dataclass(frozen=True)
class NonInferiority:
    """Non-inferiority rule: the candidate may be worse than the champion by at most ``max_drop``.

    It passes when the lower bound of the improvement's interval is ``>= -max_drop``.
    """

    max_drop: float

    def decide(self, interval: Interval) -> tuple[bool, str]:
        """Whether ``interval`` passes, and why in words a business owner understands."""
        if not math.isfinite(self.max_drop) or self.max_drop < 0:
            raise InvalidInput(f"max_drop must be >= 0, got {self.max_drop!r}", hint="e.g. 0.01")
        i = interval
        scale = max(abs(i.low), abs(i.high), abs(i.improvement), self.max_drop)
        digits = min(8, max(3, 1 - math.floor(math.log10(scale)))) if scale > 0 else 3
        f = f".{digits}f"
        direction = "" if i.higher_is_better else " (lower is better)"
        text = (
            f"{i.metric} {i.candidate:{f}} vs champion {i.champion:{f}}{direction}: "
            f"{i.improvement:+{f}} ({i.confidence * 100:g}% CI {i.low:+{f}} to {i.high:+{f}}), "
            f"allowed drop {self.max_drop:{f}}: "
        )
        if i.low >= -self.max_drop:
            return True, text + "non-inferior"
        return False, text + f"the candidate may be up to {-i.low:{f}} worse, more than allowed"


def decide(interval: Interval, max_drop: float) -> tuple[bool, str]:
    """Passes when ``interval.low >= -max_drop``; the message says why (:class:`NonInferiority`)."""
    return NonInferiority(max_drop).decide(interval)


def _as_metric(m: str | Metric) -> Metric:
    if isinstance(m, Metric):
        return m
    return metric(m)


def _pair(
    m: Metric, y_true: Any, preds: tuple[Any, Any], probas: tuple[Any, Any], classes: Any,
    positive_class: Any,
) -> tuple[MetricInputs, MetricInputs]:  # fmt: skip
    if m.needs_proba and (probas[0] is None or probas[1] is None):
        raise InvalidInput(
            f"{m.name} needs class probabilities of both models",
            hint="pass candidate_proba and champion_proba",
        )
    if m.task == "classification" and classes is None:
        # One class list for both models, so labels and columns mean the same thing.
        with contextlib.suppress(TypeError, ValueError):  # metric_inputs reports these
            classes = np.unique(np.concatenate([np.ravel(v) for v in (y_true, *preds)]))
    cand, champ = (
        metric_inputs(
            m.task, y_true, pred, proba=proba, classes=classes, positive_class=positive_class
        )
        for pred, proba in zip(preds, probas, strict=True)
    )
    if len(cand.y_true) < 2:
        raise InvalidInput("the paired bootstrap needs at least two rows", hint="add gold rows")
    for inputs in (cand, champ):
        reason = unavailable_reason(m, inputs)
        if reason:
            raise InvalidInput(f"cannot bootstrap {m.name}: {reason}", hint="pick another metric")
    return cand, champ


def _slow(
    m: Metric, cand: MetricInputs, champ: MetricInputs, resamples: int, rng: np.random.Generator
) -> _Values:
    used = min(resamples, CUSTOM_MAX_RESAMPLES)
    if used < resamples:
        log.info("%s is not built in: %d resamples instead of %d", m.name, used, resamples)
    n = len(cand.y_true)
    out = np.empty((2, used))
    for b in range(used):
        rows = rng.integers(0, n, size=n)
        out[0, b], out[1, b] = evaluate(m, cand.take(rows)), evaluate(m, champ.take(rows))
    return out[0], out[1]


class _Kernel:
    """Both models' metric as a function of resample counts over units (rows or cells)."""

    #: Multiplicity of each unit (cells); ``None`` when the units are the rows.
    weights: np.ndarray | None = None
    units = 0

    def __call__(self, counts: np.ndarray) -> _Values:  # counts: (resamples, units)
        raise NotImplementedError


def _fast(
    name: str, cand: MetricInputs, champ: MetricInputs, resamples: int, rng: np.random.Generator
) -> _Values:
    kernel, _ = _plan(name, cand, champ)
    n = len(cand.y_true)
    chunk = max(1, min(resamples, _CHUNK // kernel.units))
    out = np.empty((2, resamples))
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        out[:, start : start + size] = kernel(_draw(rng, kernel.weights, n, size))
    return out[0], out[1]


def _draw(rng: np.random.Generator, weights: np.ndarray | None, n: int, size: int) -> np.ndarray:
    """Resample counts: ``size`` draws of ``n`` rows with replacement, counted per unit."""
    if weights is not None:
        return rng.multinomial(n, weights / n, size=size)
    if size == 1:
        return np.bincount(rng.integers(0, n, size=n), minlength=n)[None, :]
    rows = rng.integers(0, n, size=(size, n))
    rows += np.arange(size)[:, None] * n
    return np.bincount(rows.ravel(), minlength=size * n).reshape(size, n)


def _resampled_values(
    name: str, cand: MetricInputs, champ: MetricInputs, row_counts: np.ndarray
) -> _Values:
    """The fast path's values of ``name`` for given per-row resample counts (for tests)."""
    kernel, unit_of_row = _plan(name, cand, champ)
    counts = [np.bincount(unit_of_row, weights=c, minlength=kernel.units) for c in row_counts]
    return kernel(np.rint(counts).astype(np.int64))


_EPS = float(np.finfo(np.float64).eps)
_ROW_LOSSES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "mae": lambda y, p: np.abs(p - y),
    "mse": lambda y, p: (y - p) ** 2,
    "rmse": lambda y, p: (y - p) ** 2,
    "mape": lambda y, p: np.abs(p - y) / np.maximum(np.abs(y), _EPS),
}


def _plan(name: str, cand: MetricInputs, champ: MetricInputs) -> tuple[_Kernel, np.ndarray]:
    """The kernel of a built-in metric, and the unit of every row."""
    if cand.task == "regression":
        y, a, b = cand.y_true, cand.y_pred, champ.y_pred
        if name == "r2":
            return _on_units([y, a, b], lambda r: _R2Kernel(y[r], a[r], b[r], y.mean()))
        la, lb = _ROW_LOSSES[name](y, a), _ROW_LOSSES[name](y, b)
        return _on_units([la, lb], lambda r: _MeanKernel(la[r], lb[r], root=name == "rmse"))
    classes = cast(np.ndarray, cand.classes)
    t, a, b = (np.searchsorted(classes, v) for v in (cand.y_true, cand.y_pred, champ.y_pred))
    if name in ("log_loss", "brier"):
        la, lb = _proba_losses(name, cand, t), _proba_losses(name, champ, t)
        return _on_units([la, lb], lambda r: _MeanKernel(la[r], lb[r]))
    if name == "roc_auc":
        pa, pb = cast(np.ndarray, cand.proba), cast(np.ndarray, champ.proba)
        if not cand.binary:
            cols = [t, *pa.T, *pb.T]
            return _on_units(cols, lambda r: _OvrAucKernel(t[r], pa[r], pb[r]))
        j = cand.positive_index
        sa, sb = pa[:, j], pb[:, j]
        build = lambda r: _AucKernel(t[r] == j, sa[r], sb[r])  # noqa: E731
        # negatives then positives, each by the candidate's score: its ranking needs no gather
        return _on_units([t, sa, sb], build, sort_by=(sa, t == j))
    k, binary, j = len(classes), cand.binary, cand.positive_index
    return _on_units([t, a, b], lambda r: _LabelKernel(name, t[r], a[r], b[r], k, binary, j))


def _proba_losses(name: str, x: MetricInputs, t: np.ndarray) -> np.ndarray:
    proba = cast(np.ndarray, x.proba)
    if name == "log_loss":
        return -np.log(np.clip(proba[np.arange(len(t)), t], _EPS, 1 - _EPS))
    if x.binary:
        j = x.positive_index
        return (proba[:, j] - (t == j)) ** 2
    onehot = np.zeros_like(proba)
    onehot[np.arange(len(t)), t] = 1.0
    return ((proba - onehot) ** 2).sum(axis=1)


def _on_units(
    columns: list[np.ndarray],
    build: Callable[[np.ndarray], _Kernel],
    sort_by: tuple[np.ndarray, ...] = (),
) -> tuple[_Kernel, np.ndarray]:
    """Build the kernel on the distinct cells of ``columns`` when few, else on the rows.

    ``build`` gets one representative row per unit; the units are sorted by the
    ``sort_by`` keys (:func:`numpy.lexsort` order: the last key is the primary one).
    Returns the kernel and the unit of every row.
    """
    n = len(columns[0])
    code: np.ndarray | None = np.zeros(n, dtype=np.int64)
    for column in columns:
        values, inverse = np.unique(column, return_inverse=True)
        _, code = np.unique(cast(np.ndarray, code) * len(values) + inverse, return_inverse=True)
        if code.max() + 1 > n // _CELL_RATIO:
            code = None
            break
    weights: np.ndarray | None = None
    if code is None:
        rep, unit = np.arange(n), np.arange(n)
    else:
        _, rep = np.unique(code, return_index=True)
        unit, weights = code, np.bincount(code)
    if sort_by:
        order = np.lexsort([key[rep] for key in sort_by])
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        rep, unit = rep[order], rank[unit]
        weights = None if weights is None else weights[order]
    kernel = build(rep)
    kernel.weights, kernel.units = weights, len(rep)
    return kernel, unit


class _MeanKernel(_Kernel):
    """Count-weighted means of per-row losses (root of them for RMSE)."""

    def __init__(self, a: np.ndarray, b: np.ndarray, *, root: bool = False) -> None:
        self.a, self.b, self.root = a, b, root
        self.same = np.array_equal(a, b)

    def __call__(self, counts: np.ndarray) -> _Values:
        w = counts.astype(np.float64)
        n = w.sum(axis=1)
        a = _dot(w, self.a) / n
        b = a if self.same else _dot(w, self.b) / n
        return (np.sqrt(a), np.sqrt(b)) if self.root else (a, b)


class _R2Kernel(_Kernel):
    """R2 from weighted sums of squared errors and of the centred target."""

    def __init__(self, y: np.ndarray, a: np.ndarray, b: np.ndarray, mean: float) -> None:
        self.centred = y - mean  # centring on the full-data mean keeps the sums well conditioned
        self.squared = self.centred**2
        self.a, self.b = (y - a) ** 2, (y - b) ** 2
        self.same = np.array_equal(a, b)

    def __call__(self, counts: np.ndarray) -> _Values:
        w = counts.astype(np.float64)
        square_sum = _dot(w, self.squared)
        total = square_sum - _dot(w, self.centred) ** 2 / w.sum(axis=1)
        varies = total > 1e-9 * square_sum  # else every resampled target is the same value

        def r2(residual: np.ndarray) -> np.ndarray:
            # scikit-learn's force_finite: 1 for a perfect fit of a constant, else 0.
            out = np.where(residual == 0, 1.0, 0.0)
            np.divide(residual, total, out=out, where=varies)
            return np.where(varies, 1 - out, out)

        a = r2(_dot(w, self.a))
        return a, a if self.same else r2(_dot(w, self.b))


def _dot(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """weights @ values without BLAS, whose thread start-up costs more than it saves here."""
    return np.einsum("ij,j->i", weights, values)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (scikit-learn's zero_division=0)."""
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


class _LabelKernel(_Kernel):
    """Label metrics from per-class true-positive, predicted and true counts."""

    def __init__(
        self, name: str, t: np.ndarray, a: np.ndarray, b: np.ndarray, k: int, binary: bool, j: int
    ) -> None:
        self.name, self.k, self.binary, self.positive = name, k, binary, j
        self.same = np.array_equal(a, b)
        rows = np.arange(len(t))
        hit_a, hit_b = a == t, b == t
        cells = [
            (rows, t),
            (rows[hit_a], k + a[hit_a]),
            (rows, 2 * k + a),
            (rows[hit_b], 3 * k + b[hit_b]),
            (rows, 4 * k + b),
        ]
        r, c = (np.concatenate(part) for part in zip(*cells, strict=True))
        self.indicator = sparse.csr_array((np.ones(len(r)), (r, c)), shape=(len(t), 5 * k))

    def __call__(self, counts: np.ndarray) -> _Values:
        s = np.asarray(counts.astype(np.float64) @ self.indicator)
        k = self.k
        true = s[:, :k]
        a = self._value(s[:, k : 2 * k], s[:, 2 * k : 3 * k], true)
        return a, a if self.same else self._value(s[:, 3 * k : 4 * k], s[:, 4 * k :], true)

    def _value(self, tp: np.ndarray, pred: np.ndarray, true: np.ndarray) -> np.ndarray:
        name = self.name
        if name == "accuracy":
            return tp.sum(axis=1) / true.sum(axis=1)
        if name == "balanced_accuracy":
            return _ratio(tp, true).sum(axis=1) / (true > 0).sum(axis=1)
        kind, _, average = name.partition("_")
        if not average and self.binary:
            j = self.positive
            tp, pred, true = tp[:, j], pred[:, j], true[:, j]
        if kind == "precision":
            score = _ratio(tp, pred)
        elif kind == "recall":
            score = _ratio(tp, true)
        else:
            score = _ratio(2 * tp, pred + true)
        if score.ndim == 1:
            return score
        if average == "weighted":
            return (score * true).sum(axis=1) / true.sum(axis=1)
        present = (true + pred) > 0  # scikit-learn averages over the labels that occur
        return (score * present).sum(axis=1) / present.sum(axis=1)


class _Ranking:
    """One model's scores for one positive class; the AUC of each resample from its counts.

    AUC = sum over positives of count * (weighted negatives scored below + half the tied
    ones) / (P * N). The negatives are gathered in score order and cumulated once per
    resample; each positive reads the cumulative count at its precomputed insertion points.
    """

    def __init__(self, scores: np.ndarray, positive: np.ndarray) -> None:
        negatives = np.flatnonzero(~positive)
        negatives = negatives[np.argsort(scores[negatives], kind="stable")]
        positives = np.flatnonzero(positive)
        self.neg, self.pos = _slice_if_contiguous(negatives), _slice_if_contiguous(positives)
        ranked = scores[negatives]
        self.lo = np.searchsorted(ranked, scores[positives], side="left")
        self.hi = np.searchsorted(ranked, scores[positives], side="right")
        self.ties = bool((self.lo != self.hi).any())

    def auc(self, counts: np.ndarray) -> np.ndarray:
        neg, pos = counts[:, self.neg], counts[:, self.pos]
        below = np.zeros((len(counts), neg.shape[1] + 1), dtype=np.int64)
        np.cumsum(neg, axis=1, out=below[:, 1:])
        if self.ties:
            twice = np.einsum("ij,ij->i", pos, below[:, self.lo] + below[:, self.hi])
        else:
            twice = 2 * np.einsum("ij,ij->i", pos, below[:, self.lo])
        denom = 2 * pos.sum(axis=1) * below[:, -1]
        return np.divide(twice, denom, out=np.full(len(twice), np.nan), where=denom > 0)


def _slice_if_contiguous(index: np.ndarray) -> np.ndarray | slice:
    """``index`` as a slice when it is a run of consecutive units (no gather needed)."""
    if len(index) and index[-1] - index[0] == len(index) - 1 and (np.diff(index) == 1).all():
        return slice(int(index[0]), int(index[-1]) + 1)
    return index


class _AucKernel(_Kernel):
    """Binary ROC AUC (units sorted by the candidate's score)."""

    def __init__(self, positive: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        self.same = np.array_equal(a, b)
        self.a, self.b = _Ranking(a, positive), _Ranking(b, positive)

    def __call__(self, counts: np.ndarray) -> _Values:
        a = self.a.auc(counts)
        return a, a if self.same else self.b.auc(counts)


class _OvrAucKernel(_Kernel):
    """One-vs-rest macro ROC AUC, over the classes present in the resample."""

    def __init__(self, t: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        self.same = np.array_equal(a, b)
        self.a = [_Ranking(a[:, j], t == j) for j in range(a.shape[1])]
        self.b = [_Ranking(b[:, j], t == j) for j in range(b.shape[1])]

    def __call__(self, counts: np.ndarray) -> _Values:
        a = self._macro(self.a, counts)
        return a, a if self.same else self._macro(self.b, counts)

    @staticmethod
    def _macro(rankings: list[_Ranking], counts: np.ndarray) -> np.ndarray:
        per_class = np.column_stack([r.auc(counts) for r in rankings])
        defined = np.isfinite(per_class)
        total = np.where(defined, per_class, 0.0).sum(axis=1)
        count = defined.sum(axis=1)
        return np.divide(total, count, out=np.full(len(total), np.nan), where=count > 0)
