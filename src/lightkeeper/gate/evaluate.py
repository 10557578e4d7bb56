"""Quality, comparison and segment checks from the predictions the worker wrote."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lightkeeper.errors import InvalidInput
from lightkeeper.gate.checks import Check, failed, passed, threshold_check
from lightkeeper.manifest import Gate

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MAX_PLOT_POINTS = 2000


@dataclass
class Scored:
    """One version's predictions on the gold rows."""

    version: int
    predictions: np.ndarray
    proba: np.ndarray | None
    classes: list[Any] | None

    @classmethod
    def read(cls, path: Path, version: int, classes: list[Any] | None) -> Scored:
        """Read the worker's Parquet output."""
        import pandas as pd

        frame = pd.read_parquet(path)
        proba_columns = [c for c in frame.columns if c.startswith("proba_")]
        proba = frame[proba_columns].to_numpy() if proba_columns and classes else None
        return cls(
            version, frame["prediction"].to_numpy(), proba, classes if proba is not None else None
        )


def align_labels(y_true: pd.Series, predictions: np.ndarray) -> np.ndarray:
    """Gold labels in the predictions' type (a CSV may read ``1`` where the model says ``"1"``)."""
    import numpy as np

    values: np.ndarray = y_true.to_numpy()
    if predictions.dtype.kind in "OUS" and values.dtype.kind not in "OUS":
        return values.astype(str).astype(object)
    if predictions.dtype.kind in "iub" and values.dtype.kind in "OUS":
        try:
            return np.asarray(values, dtype=predictions.dtype)
        except ValueError:
            return values
    return values


def quality(
    gate: Gate,
    task: str,
    y_true: np.ndarray,
    candidate: Scored,
    *,
    positive_class: Any,
    custom: dict[str, Any],
) -> tuple[dict[str, float], list[Check]]:
    """Every computable metric on the gold set, and the threshold checks of the policy."""
    from lightkeeper.metrics import compute_metrics, metric

    checks: list[Check] = []
    values = compute_metrics(
        task,
        y_true,
        candidate.predictions,
        proba=candidate.proba,
        classes=candidate.classes,
        positive_class=positive_class,
        custom=custom,
    )
    for rule in gate.metrics:
        if rule.name not in values:
            try:
                known = metric(rule.name)
                reason = _why_not(known, task, y_true, candidate, positive_class)
            except InvalidInput as exc:
                reason = exc.message
            checks.append(
                failed(
                    f"metric:{rule.name}",
                    "quality",
                    f"{rule.name} could not be computed: {reason}",
                    "use a built-in metric name or declare it under gate.custom_metrics",
                )
            )
            continue
        checks.append(threshold_check(rule.name, values[rule.name], rule.min, rule.max))
    return values, checks


def _why_not(known: Any, task: str, y_true: Any, candidate: Scored, positive_class: Any) -> str:
    from lightkeeper.metrics import metric_inputs, unavailable_reason

    if known.task != task:
        return f"{known.name} is a {known.task} metric and this is a {task} model"
    inputs = metric_inputs(
        task,
        y_true,
        candidate.predictions,
        proba=candidate.proba,
        classes=candidate.classes,
        positive_class=positive_class,
    )
    return unavailable_reason(known, inputs) or "it is not defined on these rows"


def comparison(
    gate: Gate,
    task: str,
    y_true: np.ndarray,
    candidate: Scored,
    champion: Scored,
    *,
    positive_class: Any,
    custom: dict[str, Any] | None = None,
) -> tuple[dict[str, Any] | None, dict[str, float] | None, Check | None]:
    """Non-inferiority against one champion, on a paired bootstrap interval.

    Returns the interval with its decision (``None`` when it cannot be computed), the
    champion's metrics and the check; all ``None`` when the policy asks no comparison.
    """
    from lightkeeper.gate.bootstrap import decide, paired_bootstrap
    from lightkeeper.metrics import compute_metrics, custom_metric

    policy = gate.non_inferiority
    if policy is None:
        return None, None, None
    name = f"non-inferiority:{policy.metric}"
    champion_metrics = compute_metrics(
        task,
        y_true,
        champion.predictions,
        proba=champion.proba,
        classes=champion.classes,
        positive_class=positive_class,
    )
    try:
        chosen: Any = policy.metric
        if custom and policy.metric in custom:  # higher is better for custom metrics
            chosen = custom_metric(policy.metric, custom[policy.metric], task=task)  # type: ignore[arg-type]
        interval = paired_bootstrap(
            chosen,
            y_true,
            candidate.predictions,
            champion.predictions,
            candidate_proba=candidate.proba,
            champion_proba=_in_order(champion, candidate.classes),
            classes=candidate.classes,
            positive_class=positive_class,
            resamples=policy.resamples,
            confidence=policy.confidence,
        )
    except InvalidInput as exc:
        return (
            None,
            champion_metrics,
            failed(
                name, "comparison", f"cannot compare on {policy.metric}: {exc.message}", exc.hint
            ),
        )
    ok, message = decide(interval, policy.max_drop)
    data = {
        **interval.to_dict(),
        "max_drop": policy.max_drop,
        "passed": ok,
        "message": message,
        "champion_version": champion.version,
    }
    if ok:
        return data, champion_metrics, passed(name, "comparison", message, data)
    return (
        data,
        champion_metrics,
        failed(
            name,
            "comparison",
            message,
            f"the candidate may be worse than champion version {champion.version} by more than "
            f"{policy.max_drop:g}; improve it, or have the business owner widen max_drop",
            data,
        ),
    )


def _in_order(scored: Scored, classes: list[Any] | None) -> np.ndarray | None:
    """``scored``'s probabilities with columns in ``classes``' order (None if they differ)."""
    if scored.proba is None or scored.classes is None or classes is None:
        return None
    if list(scored.classes) == list(classes):
        return scored.proba
    if set(map(str, scored.classes)) != set(map(str, classes)):
        return None
    position = {str(c): i for i, c in enumerate(scored.classes)}
    return scored.proba[:, [position[str(c)] for c in classes]]


def segments(
    gate: Gate,
    task: str,
    y_true: np.ndarray,
    candidate: Scored,
    segment_values: pd.Series | None,
    *,
    positive_class: Any,
) -> tuple[dict[str, Any] | None, list[Check]]:
    """Metrics per segment value and the per-segment minimums of the policy."""
    from lightkeeper.metrics import compute_metrics

    policy = gate.segments
    if segment_values is None:
        if policy is None:
            return None, []
        return None, [
            failed(
                f"segment:{policy.column}",
                "segment",
                f"the gold dataset has no column {policy.column!r} to segment by",
                f"add the gold set again with a {policy.column!r} column "
                f"(--segment-column {policy.column})",
            )
        ]
    values = segment_values.astype(str).to_numpy()
    table: dict[str, Any] = {}
    checks: list[Check] = []
    basic = {"accuracy"} if task == "classification" else {"mae", "rmse"}
    names = sorted(basic | set(policy.metrics if policy else {}))
    for value in sorted(set(values)):
        mask = values == value
        try:
            metrics = compute_metrics(
                task,
                y_true[mask],
                candidate.predictions[mask],
                proba=None if candidate.proba is None else candidate.proba[mask],
                classes=candidate.classes,
                positive_class=positive_class,
                names=names,
            )
        except InvalidInput as exc:
            column = policy.column if policy else str(segment_values.name)
            return None, [failed(f"segment:{column}", "segment", exc.message, exc.hint)]
        table[value] = {"rows": int(mask.sum()), "metrics": metrics}
    if policy:
        for metric_name, minimum in policy.metrics.items():
            below = {
                v: row["metrics"].get(metric_name)
                for v, row in table.items()
                if row["metrics"].get(metric_name) is not None
                and row["metrics"][metric_name] < minimum
            }
            name = f"segment:{policy.column}:{metric_name}"
            absent = sorted(v for v, row in table.items() if metric_name not in row["metrics"])
            if absent:
                checks.append(
                    failed(
                        name,
                        "segment",
                        f"{metric_name} could not be computed in segment(s) {', '.join(absent)} "
                        "(for example a single class, or no class probabilities)",
                        "choose a metric every segment supports, or have the business owner "
                        "revise gate.segments",
                    )
                )
                continue
            if below:
                worst = ", ".join(f"{k} {v:.3f}" for k, v in sorted(below.items()))
                checks.append(
                    failed(
                        name,
                        "segment",
                        f"{metric_name} below {minimum:g} in {len(below)} segment(s): {worst}",
                        "improve the model for these segments or have the business owner "
                        "revise gate.segments",
                        {"below": below},
                    )
                )
            else:
                checks.append(
                    passed(
                        name,
                        "segment",
                        f"{metric_name} >= {minimum:g} in all {len(table)} segments",
                    )
                )
    out = {
        "column": segment_values.name,
        "minimums": dict(policy.metrics) if policy else {},
        "values": table,
    }
    return out, checks


def plots(task: str, y_true: np.ndarray, candidate: Scored) -> dict[str, Any]:
    """Confusion matrix (classification) or a residual sample (regression)."""
    import numpy as np

    if task == "classification":
        labels = sorted({*map(str, y_true), *map(str, candidate.predictions)})
        index = {label: i for i, label in enumerate(labels)}
        matrix = np.zeros((len(labels), len(labels)), dtype=int)
        for actual, predicted in zip(
            map(str, y_true), map(str, candidate.predictions), strict=True
        ):
            matrix[index[actual], index[predicted]] += 1
        return {"confusion_matrix": {"labels": labels, "matrix": matrix.tolist()}}
    rng = np.random.default_rng(0)
    take = np.arange(len(y_true))
    if len(take) > MAX_PLOT_POINTS:
        take = np.sort(rng.choice(take, MAX_PLOT_POINTS, replace=False))
    return {
        "residuals": {
            "predicted": candidate.predictions[take].astype(float).tolist(),
            "actual": np.asarray(y_true)[take].astype(float).tolist(),
        }
    }
