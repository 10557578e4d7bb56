"""Paired bootstrap interval of a metric difference between a candidate and the champion.

Both models are scored on the same resampled gold rows; the interval is the percentile
interval of the resampled improvements. A resample is a vector of multinomial counts over
the rows and every built-in metric is a cheap function of it: label metrics of per-class
count sums, losses of count-weighted means, ROC AUC of cumulative negative counts along
the sorted scores. When rows fall into few distinct cells (labels: at most k**3
(true, candidate, champion) triples), one multinomial over the cells is drawn instead,
which is exactly row resampling. Other (custom) metrics resample indices and call the
metric, at most :data:`CUSTOM_MAX_RESAMPLES` times.
"""

from __future__ import annotations

import contextlib
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, cast

import numpy as np
from scipy import sparse

from lightkeeper.errors import InvalidInput
from lightkeeper.metrics import (
    METRICS,
    Metric,
    MetricInputs,
    evaluate,
    metric_inputs,
    unavailable_reason,
)
from lightkeeper.metrics import metric as builtin_metric

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

    ``candidate`` and ``champion`` are the metric on all rows; ``improvement`` is positive
    when the candidate is better (champion - candidate for losses); ``low`` and ``high``
    bound its two-sided interval at ``confidence``, from ``resamples`` resamples.
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
        metric: a built-in metric name, or a :class:`Metric` from
            :func:`lightkeeper.metrics.custom_metric`.
        y_true: gold values.
        candidate_pred: candidate predictions for the gold rows.
        champion_pred: champion predictions for the same rows.
        candidate_proba: candidate class probabilities, columns in ``classes`` order.
        champion_proba: champion class probabilities, same columns.
        classes: order of the probability columns (default: the sorted labels).
        positive_class: positive class of a binary task (default: second sorted class).
        resamples: at least :data:`MIN_RESAMPLES`.
        confidence: two-sided confidence level, between 0 and 1.
        seed: the same seed gives the same interval.

    Raises:
        InvalidInput: bad arguments, inputs of different lengths, fewer than two rows,
            or a metric that cannot be computed on these inputs.
    """
    m = metric if isinstance(metric, Metric) else builtin_metric(metric)
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


def _fast(
    name: str, cand: MetricInputs, champ: MetricInputs, resamples: int, rng: np.random.Generator
) -> _Values:
    kernel, _ = _plan(name, cand, champ)
    n = len(cand.y_true)
    chunk = max(1, min(resamples, _CHUNK // kernel.units))
    out, counts = np.empty((2, resamples)), None
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        # drawn while the previous counts still exist: the allocator can reuse memory
        # instead of returning it to the system and faulting it in again
        counts = _draw(rng, kernel.weights, n, size)
        out[:, start : start + size] = kernel(counts)
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


_EPS = float(np.finfo(np.float64).eps)
_ROW_LOSSES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "mae": lambda y, p: np.abs(p - y),
    "mse": lambda y, p: (y - p) ** 2,
    "rmse": lambda y, p: (y - p) ** 2,
    "mape": lambda y, p: np.abs(p - y) / np.maximum(np.abs(y), _EPS),
}


def _plan(name: str, cand: MetricInputs, champ: MetricInputs) -> tuple[_Kernel, np.ndarray]:
    """The kernel of a built-in metric, and the unit of every row."""
    same = np.array_equal(cand.y_pred, champ.y_pred) and np.array_equal(
        np.asarray(cand.proba), np.asarray(champ.proba)
    )
    if cand.task == "regression":
        y, a, b = cand.y_true, cand.y_pred, champ.y_pred
        if name == "r2":
            ra, rb = (y - a) ** 2, (y - b) ** 2
            return _on_units([y, a, b], lambda r: _R2Kernel(ra[r], rb[r], same, y[r]))
        la, lb = _ROW_LOSSES[name](y, a), _ROW_LOSSES[name](y, b)
        kind = _RootMeanKernel if name == "rmse" else _MeanKernel
        return _on_units([la, lb], lambda r: kind(la[r], lb[r], same))
    classes = cast(np.ndarray, cand.classes)
    t, a, b = (np.searchsorted(classes, v) for v in (cand.y_true, cand.y_pred, champ.y_pred))
    if name in ("log_loss", "brier"):
        la, lb = _proba_losses(name, cand, t), _proba_losses(name, champ, t)
        return _on_units([la, lb], lambda r: _MeanKernel(la[r], lb[r], same))
    if name == "roc_auc":
        pa, pb = cast(np.ndarray, cand.proba), cast(np.ndarray, champ.proba)
        columns = [cand.positive_index] if cand.binary else range(len(classes))

        def rankings(p: np.ndarray, r: np.ndarray) -> list[_Ranking]:
            return [_Ranking(p[r, c], t[r] == c) for c in columns]

        build = lambda r: _AucKernel(rankings(pa, r), rankings(pb, r), same)  # noqa: E731
        if not cand.binary:
            return _on_units([t, *pa.T, *pb.T], build)
        # negatives then positives, each by the candidate's score: its ranking needs no gather
        j = cand.positive_index
        return _on_units([t, pa[:, j], pb[:, j]], build, sort_by=(pa[:, j], t == j))
    k, positive = len(classes), cand.positive_index if cand.binary else None
    return _on_units([t, a, b], lambda r: _LabelKernel(name, t[r], a[r], b[r], same, k, positive))


def _proba_losses(name: str, x: MetricInputs, t: np.ndarray) -> np.ndarray:
    proba = cast(np.ndarray, x.proba)
    if name == "log_loss":
        return np.asarray(-np.log(np.clip(proba[np.arange(len(t)), t], _EPS, 1 - _EPS)))
    if x.binary:
        j = x.positive_index
        return np.asarray((proba[:, j] - (t == j)) ** 2)
    onehot = np.zeros_like(proba)
    onehot[np.arange(len(t)), t] = 1.0
    return np.asarray(((proba - onehot) ** 2).sum(axis=1))


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


class _Kernel(ABC):
    """A built-in metric of both models as a function of resample counts over units.

    The units are the rows, or cells of identical rows (``weights``: rows per cell);
    ``value`` maps counts of shape (resamples, units) to one model's metric values.
    """

    weights: np.ndarray | None = None
    units = 0

    def __init__(self, a: Any, b: Any, same: bool) -> None:
        self.a, self.b, self.same = a, b, same

    def __call__(self, counts: np.ndarray) -> _Values:
        a = self.value(counts, self.a)
        return a, a if self.same else self.value(counts, self.b)

    @abstractmethod
    def value(self, counts: np.ndarray, model: Any) -> np.ndarray:
        """One model's metric per resample."""


class _MeanKernel(_Kernel):
    """Count-weighted mean of per-row losses."""

    def value(self, counts: np.ndarray, model: Any) -> np.ndarray:
        return np.asarray(_dot(counts, model) / counts.sum(axis=1))


class _RootMeanKernel(_MeanKernel):
    def value(self, counts: np.ndarray, model: Any) -> np.ndarray:
        return np.asarray(np.sqrt(super().value(counts, model)))


class _R2Kernel(_Kernel):
    """R2 from weighted sums of squared residuals and of the centred target."""

    def __init__(self, a: np.ndarray, b: np.ndarray, same: bool, y: np.ndarray) -> None:
        super().__init__(a, b, same)
        self.centred = y - y.mean()  # any constant works; the mean keeps the sums accurate

    def value(self, counts: np.ndarray, model: Any) -> np.ndarray:
        squares = _dot(counts, self.centred**2)
        total = squares - _dot(counts, self.centred) ** 2 / counts.sum(axis=1)
        varies = total > 1e-9 * squares  # else every resampled target is the same value
        residual = _dot(counts, model)
        # scikit-learn's force_finite: 1 for a perfect fit of a constant target, else 0
        fraction = np.where(residual == 0, 0.0, 1.0)
        np.divide(residual, total, out=fraction, where=varies)
        return 1 - fraction


def _dot(counts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """counts @ values without BLAS (its threads cost more than they save at this size)."""
    return np.asarray(np.einsum("ij,j->i", counts, values))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (scikit-learn's zero_division=0)."""
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den > 0)
    return out


class _LabelKernel(_Kernel):
    """Label metrics from per-class true, true-positive and predicted counts."""

    def __init__(
        self, name: str, t: np.ndarray, a: np.ndarray, b: np.ndarray, same: bool, k: int,
        positive: int | None,
    ) -> None:  # fmt: skip
        super().__init__(self._indicator(t, a, k), self._indicator(t, b, k), same)
        self.name, self.k, self.positive = name, k, positive

    @staticmethod
    def _indicator(t: np.ndarray, p: np.ndarray, k: int) -> sparse.csr_array:
        rows, hit = np.arange(len(t)), p == t
        r = np.concatenate([rows, rows[hit], rows])
        c = np.concatenate([t, k + p[hit], 2 * k + p])
        return sparse.csr_array((np.ones(len(r)), (r, c)), shape=(len(t), 3 * k))

    def value(self, counts: np.ndarray, model: Any) -> np.ndarray:
        s, k = np.asarray(counts.astype(np.float64) @ model), self.k
        true, tp, pred = s[:, :k], s[:, k : 2 * k], s[:, 2 * k :]
        if self.name == "accuracy":
            return np.asarray(tp.sum(axis=1) / true.sum(axis=1))
        if self.name == "balanced_accuracy":
            return np.asarray(_ratio(tp, true).sum(axis=1) / (true > 0).sum(axis=1))
        kind, _, average = self.name.partition("_")
        if not average and self.positive is not None:  # binary: the positive class only
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
            return np.asarray((score * true).sum(axis=1) / true.sum(axis=1))
        present = (true + pred) > 0  # scikit-learn averages over the labels that occur
        return np.asarray((score * present).sum(axis=1) / present.sum(axis=1))


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
        below = np.empty((len(counts), neg.shape[1] + 1), dtype=np.int64)
        below[:, 0] = 0
        np.cumsum(neg, axis=1, out=below[:, 1:])
        if self.ties:
            twice = np.einsum("ij,ij->i", pos, below[:, self.lo] + below[:, self.hi])
        else:
            twice = 2 * np.einsum("ij,ij->i", pos, below[:, self.lo])
        denom = 2 * pos.sum(axis=1) * below[:, -1]
        out = np.full(len(twice), np.nan)
        np.divide(twice, denom, out=out, where=denom > 0)
        return out


def _slice_if_contiguous(index: np.ndarray) -> np.ndarray | slice:
    """``index`` as a slice when it is a run of consecutive units (no gather needed)."""
    if len(index) and (np.diff(index) == 1).all():
        return slice(int(index[0]), int(index[-1]) + 1)
    return index


class _AucKernel(_Kernel):
    """ROC AUC; one-vs-rest macro average over the classes defined in each resample."""

    def value(self, counts: np.ndarray, model: Any) -> np.ndarray:
        per_class = np.column_stack([ranking.auc(counts) for ranking in model])
        defined = np.isfinite(per_class)
        total, count = np.where(defined, per_class, 0.0).sum(axis=1), defined.sum(axis=1)
        out = np.full(len(total), np.nan)
        np.divide(total, count, out=out, where=count > 0)
        return out
