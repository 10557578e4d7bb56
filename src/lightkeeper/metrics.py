"""Metrics of predictions against true values, computed through scikit-learn: shared by
the acceptance gate (on gold rows) and the performance monitor (on labelled traffic).

Conventions (scikit-learn's defaults): the classes are the sorted union of the given
``classes``, ``y_true`` and ``y_pred``, and a task with at most two is binary; ``proba``
columns follow ``classes`` as given (a class without a column gets zeros). ``precision``,
``recall`` and ``f1`` are for ``positive_class`` in binary tasks and macro averages
otherwise; averages run over the labels present in ``y_true`` or ``y_pred``, and a zero
division counts as 0. Custom metrics are plain ``fn(y_true, y_pred) -> float`` callables.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

import numpy as np
from sklearn import metrics as skm

from lightkeeper.errors import InvalidInput, LightkeeperError

Task = Literal["classification", "regression"]
TASKS: tuple[Task, ...] = ("classification", "regression")

#: Largest distance of a probability row's sum from 1 that is accepted (float32 models).
PROBA_SUM_TOLERANCE = 1e-6

CustomFn = Callable[[Any, Any], float]


@dataclass(frozen=True)
class MetricInputs:
    """One model's validated predictions on the gold rows (:func:`metric_inputs`).

    ``proba`` has one column per class of ``classes`` (sorted; classification only).
    """

    task: Task
    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None = None
    classes: np.ndarray | None = None
    positive_class: Any = None

    @property
    def binary(self) -> bool:
        """Classification with at most two classes."""
        return self.classes is not None and len(self.classes) <= 2

    @property
    def positive_index(self) -> int:
        """Column of the positive class in ``proba``."""
        return int(np.searchsorted(cast(np.ndarray, self.classes), self.positive_class))

    def take(self, rows: np.ndarray) -> MetricInputs:
        """The same inputs restricted to (or resampled at) ``rows``."""
        proba = None if self.proba is None else self.proba[rows]
        return replace(self, y_true=self.y_true[rows], y_pred=self.y_pred[rows], proba=proba)


@dataclass(frozen=True)
class Metric:
    """A metric: ``fn`` computes it from :class:`MetricInputs`; losses are not
    ``higher_is_better``; ``needs_proba`` metrics use class probabilities."""

    name: str
    task: Task
    higher_is_better: bool
    needs_proba: bool
    fn: Callable[[MetricInputs], float]


def _binary_or_macro(score: Callable[..., float]) -> Callable[[MetricInputs], float]:
    def fn(x: MetricInputs) -> float:
        if x.binary:
            return score(x.y_true, x.y_pred, pos_label=x.positive_class, zero_division=0.0)
        return score(x.y_true, x.y_pred, average="macro", zero_division=0.0)

    return fn


def _averaged(score: Callable[..., float], average: str) -> Callable[[MetricInputs], float]:
    return lambda x: score(x.y_true, x.y_pred, average=average, zero_division=0.0)


def _balanced_accuracy(x: MetricInputs) -> float:
    present = np.unique(x.y_true)
    if np.isin(x.y_pred, present).all():
        return float(skm.balanced_accuracy_score(x.y_true, x.y_pred))
    # Same definition (mean recall over the classes in y_true) without sklearn's warning
    # about predicted classes that are absent from y_true.
    return float(
        skm.recall_score(x.y_true, x.y_pred, labels=present, average="macro", zero_division=0.0)
    )


def _proba(x: MetricInputs) -> np.ndarray:
    return cast(np.ndarray, x.proba)


def _roc_auc(x: MetricInputs) -> float:
    if x.binary:
        return float(
            skm.roc_auc_score(x.y_true == x.positive_class, _proba(x)[:, x.positive_index])
        )
    return float(
        skm.roc_auc_score(x.y_true, _proba(x), multi_class="ovr", average="macro", labels=x.classes)
    )


def _log_loss(x: MetricInputs) -> float:
    return float(skm.log_loss(x.y_true, _proba(x), labels=x.classes))


def _brier(x: MetricInputs) -> float:
    if x.binary:
        positive = (x.y_true == x.positive_class).astype(np.int64)
        return float(skm.brier_score_loss(positive, _proba(x)[:, x.positive_index]))
    # three or more classes: mean over rows of sum over classes of (proba - onehot) ** 2
    return float(skm.brier_score_loss(x.y_true, _proba(x), labels=x.classes))


def _regression(score: Callable[..., float]) -> Callable[[MetricInputs], float]:
    return lambda x: float(score(x.y_true, x.y_pred))


def _accuracy(x: MetricInputs) -> float:
    return float(skm.accuracy_score(x.y_true, x.y_pred))


_CLS: Task = "classification"
_REG: Task = "regression"
# (name, task, higher_is_better, needs_proba, fn)
_BUILTINS: tuple[tuple[str, Task, bool, bool, Callable[[MetricInputs], float]], ...] = (
    ("accuracy", _CLS, True, False, _accuracy),
    ("precision", _CLS, True, False, _binary_or_macro(skm.precision_score)),
    ("recall", _CLS, True, False, _binary_or_macro(skm.recall_score)),
    ("f1", _CLS, True, False, _binary_or_macro(skm.f1_score)),
    ("precision_macro", _CLS, True, False, _averaged(skm.precision_score, "macro")),
    ("recall_macro", _CLS, True, False, _averaged(skm.recall_score, "macro")),
    ("f1_macro", _CLS, True, False, _averaged(skm.f1_score, "macro")),
    ("f1_weighted", _CLS, True, False, _averaged(skm.f1_score, "weighted")),
    ("balanced_accuracy", _CLS, True, False, _balanced_accuracy),
    ("roc_auc", _CLS, True, True, _roc_auc),
    ("log_loss", _CLS, False, True, _log_loss),
    ("brier", _CLS, False, True, _brier),
    ("mae", _REG, False, False, _regression(skm.mean_absolute_error)),
    ("rmse", _REG, False, False, _regression(skm.root_mean_squared_error)),
    ("mape", _REG, False, False, _regression(skm.mean_absolute_percentage_error)),
    ("r2", _REG, True, False, _regression(skm.r2_score)),
    ("mse", _REG, False, False, _regression(skm.mean_squared_error)),
)

#: Every built-in metric by name.
METRICS: dict[str, Metric] = {row[0]: Metric(*row) for row in _BUILTINS}


def metric_names(task: Task) -> list[str]:
    """Names of the built-in metrics of ``task``, in registry order."""
    return [name for name, m in METRICS.items() if m.task == task]


def metric(name: str) -> Metric:
    """The built-in metric called ``name``; :class:`InvalidInput` listing them if none."""
    try:
        return METRICS[name]
    except KeyError:
        known = "; ".join(f"{task}: {', '.join(metric_names(task))}" for task in TASKS)
        raise InvalidInput(
            f"unknown metric {name!r}; built-in metrics are {known}",
            hint="use a built-in name or declare a custom metric",
        ) from None


def custom_metric(name: str, fn: CustomFn, *, task: Task, higher_is_better: bool = True) -> Metric:
    """Wrap ``fn(y_true, y_pred) -> float`` as a :class:`Metric` (for the paired bootstrap)."""
    label = f"custom metric {name!r}"
    return Metric(
        name, task, higher_is_better, False, lambda x: call_custom(label, fn, x.y_true, x.y_pred)
    )


def unavailable_reason(m: Metric, inputs: MetricInputs) -> str | None:
    """Why ``m`` cannot be computed on ``inputs``, or ``None`` when it can."""
    if m.task != inputs.task:
        return f"{m.name} is a {m.task} metric"
    if m.needs_proba and inputs.proba is None:
        return f"{m.name} needs class probabilities (proba)"
    if m.name == "roc_auc":
        present = np.unique(inputs.y_true)
        if len(present) < 2:
            return "roc_auc needs both classes in y_true, which has a single class"
        if not inputs.binary and len(present) < len(cast(np.ndarray, inputs.classes)):
            return "one-vs-rest roc_auc needs every class in y_true"
    if m.name == "r2" and len(inputs.y_true) < 2:
        return "r2 needs at least two rows"
    return None


def compute_metrics(
    task: Task | str,
    y_true: Any,
    y_pred: Any,
    *,
    proba: Any = None,
    classes: Any = None,
    positive_class: Any = None,
    names: Iterable[str] | None = None,
    custom: dict[str, CustomFn] | None = None,
) -> dict[str, float]:
    """Metrics of one model's predictions, equal to scikit-learn's.

    Args:
        task: ``"classification"`` or ``"regression"``.
        y_true: gold values.
        y_pred: the model's predictions for the same rows.
        proba: class probabilities, one column per class of ``classes``.
        classes: the order of the ``proba`` columns (default: the sorted labels).
        positive_class: positive class of a binary task (default: the second sorted class).
        names: built-in or custom metrics to compute. ``None``: every custom metric and
            every built-in of the task that can be computed (probability metrics need
            ``proba``, ``roc_auc`` two classes in ``y_true``). Named metrics that cannot be
            computed on these inputs are left out.
        custom: extra metrics by name, called as ``fn(y_true, y_pred)``.

    Raises:
        InvalidInput: malformed inputs, an unknown metric name, or a failing custom metric.
    """
    inputs = metric_inputs(
        task, y_true, y_pred, proba=proba, classes=classes, positive_class=positive_class
    )
    task, extra = inputs.task, dict(custom or {})
    clash = sorted(set(extra) & set(METRICS))
    if clash:
        raise InvalidInput(
            f"custom metric names {clash} are built-in metric names",
            hint="give custom metrics names of their own",
        )
    if names is None:
        wanted = [*metric_names(task), *extra]
    else:
        wanted = list(names)
        own = set(metric_names(task)) | set(extra)
        unknown = [n for n in wanted if n not in own]
        if unknown:
            known = ", ".join([*metric_names(task), *extra])
            raise InvalidInput(
                f"unknown {task} metric {unknown[0]!r}; known {task} metrics: {known}",
                hint="pick one of the known names or add a custom metric",
            )
    values: dict[str, float] = {}
    for name in wanted:
        if name in extra:
            label = f"custom metric {name!r}"
            values[name] = call_custom(label, extra[name], inputs.y_true, inputs.y_pred)
        elif unavailable_reason(METRICS[name], inputs) is None:
            values[name] = evaluate(METRICS[name], inputs)
    return values


def evaluate(m: Metric, inputs: MetricInputs) -> float:
    """Value of ``m`` on ``inputs``; scikit-learn's errors become :class:`InvalidInput`."""
    try:
        return float(m.fn(inputs))
    except LightkeeperError:
        raise
    except (ValueError, TypeError) as exc:
        raise InvalidInput(
            f"metric {m.name!r} failed: {exc}", hint="check the predictions and gold labels"
        ) from exc


def metric_inputs(
    task: Task | str,
    y_true: Any,
    y_pred: Any,
    *,
    proba: Any = None,
    classes: Any = None,
    positive_class: Any = None,
) -> MetricInputs:
    """Validate one model's predictions on the gold rows (conventions: module docstring).

    Raises:
        InvalidInput: unknown task, no rows, lengths differ, non-finite regression
            values, or ``proba`` that is not one probability row per gold row.
    """
    if task not in TASKS:
        raise InvalidInput(f"unknown task {task!r}", hint=f"use one of {', '.join(TASKS)}")
    truth, pred = _vector(y_true, "y_true"), _vector(y_pred, "y_pred")
    if len(truth) != len(pred):
        raise InvalidInput(
            f"y_true has {len(truth)} rows but y_pred has {len(pred)}",
            hint="predict every gold row exactly once",
        )
    if len(truth) == 0:
        raise InvalidInput("no rows to compute metrics on", hint="use a non-empty gold set")
    if task == "regression":
        if proba is not None:
            raise InvalidInput("proba was given for a regression task", hint="drop proba")
        return MetricInputs(task, _numeric(truth, "y_true"), _numeric(pred, "y_pred"))
    given = None if classes is None else _vector(classes, "classes")
    try:
        parts = [truth, pred] if given is None else [truth, pred, given]
        labels = np.unique(np.concatenate(parts))
    except TypeError as exc:
        raise InvalidInput(
            f"class labels cannot be compared: {exc}", hint="use labels of one type"
        ) from exc
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        raise InvalidInput("class labels contain NaN", hint="drop rows without a label")
    if given is not None and len(np.unique(given)) != len(given):
        raise InvalidInput(f"classes has duplicates: {list(given)}", hint="list each class once")
    if not (np.isin(truth, labels).all() and np.isin(pred, labels).all()):
        raise InvalidInput(  # concatenating turned 1 into "1": the label types differ
            "y_true, y_pred and classes mix label types, e.g. 1 and '1'",
            hint="give gold labels in the model's label type",
        )
    columns = _proba_matrix(truth, proba, given, labels) if proba is not None else None
    if positive_class is None:
        positive_class = labels[min(1, len(labels) - 1)]
    elif positive_class not in set(labels.tolist()):
        raise InvalidInput(
            f"positive_class {positive_class!r} is not one of the classes {labels.tolist()}",
            hint="name a class that occurs in the gold labels or the model's classes",
        )
    return MetricInputs(task, truth, pred, columns, labels, positive_class)


def _vector(values: Any, what: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidInput(f"{what} must be one-dimensional, got shape {array.shape}")
    return array


def _numeric(values: np.ndarray, what: str) -> np.ndarray:
    if values.dtype.kind not in "iuf":
        raise InvalidInput(
            f"{what} must be numeric for regression, got {values.dtype}",
            hint="is the task really regression?",
        )
    out = values.astype(np.float64)
    if not np.isfinite(out).all():
        raise InvalidInput(f"{what} has NaN or infinite values", hint="drop or fill them")
    return out


def _proba_matrix(
    truth: np.ndarray, proba: Any, given: np.ndarray | None, labels: np.ndarray
) -> np.ndarray:
    matrix = np.asarray(proba, dtype=np.float64)
    names = labels if given is None else given
    if matrix.ndim != 2 or matrix.shape != (len(truth), len(names)):
        raise InvalidInput(
            f"proba has shape {matrix.shape}, expected ({len(truth)}, {len(names)}): "
            f"one column per class of {names.tolist()}",
            hint="pass predict_proba output, and classes in its column order",
        )
    if not np.isfinite(matrix).all() or matrix.min() < -1e-9 or matrix.max() > 1 + 1e-9:
        raise InvalidInput("proba has values outside [0, 1]", hint="pass probabilities")
    sums = matrix.sum(axis=1)
    if np.abs(sums - 1).max() > PROBA_SUM_TOLERANCE:
        raise InvalidInput(
            f"proba rows must sum to 1; one sums to {sums[np.abs(sums - 1).argmax()]:.6g}",
            hint="pass probabilities, not scores",
        )
    if np.abs(sums - 1).max() > 1e-9:
        # float32 outputs: renormalise so scikit-learn's own, stricter check stays quiet.
        matrix = np.clip(matrix / sums[:, None], 0.0, 1.0)
    full = np.zeros((len(truth), len(labels)))
    full[:, np.searchsorted(labels, names)] = matrix
    return full


def call_custom(label: str, fn: Callable[..., Any], y_true: Any, y_pred: Any) -> float:
    """``fn(y_true, y_pred)`` as a finite float; ``label`` names the metric in errors."""
    try:
        value = fn(y_true, y_pred)
    except LightkeeperError:
        raise
    except Exception as exc:
        raise InvalidInput(
            f"{label} raised {type(exc).__name__}: {exc}",
            hint="fix the function; it is called as fn(y_true, y_pred)",
        ) from exc
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInput(
            f"{label} returned {type(value).__name__} {value!r:.60}, not a number",
            hint="return a float",
        )
    if not math.isfinite(float(value)):
        raise InvalidInput(
            f"{label} returned {value}, not a finite number",
            hint="guard against empty groups and division by zero in the metric",
        )
    return float(value)
