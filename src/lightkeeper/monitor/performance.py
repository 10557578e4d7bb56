"""Performance over a window: measured from labels, and for classifiers also estimated
from the model's confidence when labels are late or missing.

Measured: the gate's metrics (:mod:`lightkeeper.metrics`, equal to scikit-learn's) on the
labelled predictions made in the window, overall and per version. The headline metric
and its level are the manifest's ``monitoring.metric`` / ``monitoring.min``, else the
gate's first metric and its ``min``.

Estimated (confidence-based, after NannyML's CBPE): the champion's class probabilities
on the window's logged inputs, each row's top probability mapped to the chance of being
right by an isotonic calibration fitted on the gold dataset; their mean is the expected
accuracy. It is reported as ``estimated``, never mixed with measured values.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from lightkeeper.errors import InvalidInput
from lightkeeper.events import PerformanceChecked
from lightkeeper.monitor.monitors import Window, champion

if TYPE_CHECKING:
    from datetime import datetime

    from lightkeeper.auth import Principal, Whoami
    from lightkeeper.clock import Clock
    from lightkeeper.events import EventBus
    from lightkeeper.logstore import LogStore
    from lightkeeper.manifest import Manifest
    from lightkeeper.registry import Registry
    from lightkeeper.store.deploy import DeployStore
    from lightkeeper.store.gold import GoldStore
    from lightkeeper.store.labels import LabelStore
    from lightkeeper.store.monitors import MonitorResult, MonitorStore

log = logging.getLogger(__name__)


class PerformanceMonitor:
    """Measure (and estimate), store and announce a deployment's performance.

    ``gold`` holds the approved gold datasets the confidence estimate is calibrated on.
    """

    def __init__(
        self,
        *,
        deployments: DeployStore,
        labels: LabelStore,
        predictions: LogStore,
        monitors: MonitorStore,
        gold: GoldStore,
        registry: Registry,
        bus: EventBus,
        clock: Clock,
        whoami: Whoami,
    ) -> None:
        self._whoami = whoami
        self.deployments = deployments
        self.labels = labels
        self.predictions = predictions
        self.monitors = monitors
        self.gold = gold
        self.registry = registry
        self.bus = bus
        self.clock = clock

    def run(
        self,
        deployment: str,
        *,
        window: str | None = None,
        end: datetime | None = None,
        by: Principal | None = None,
    ) -> MonitorResult:
        """Performance of the predictions made in the window ending at ``end`` (now).

        Raises:
            InvalidInput: the model has no target (nothing to measure against).
        """
        by = by or self._whoami()
        from lightkeeper.metrics import compute_metrics

        by.require("monitor.run")
        target, version, manifest = champion(
            self.deployments, self.registry, deployment, "nothing to measure"
        )
        if manifest.target is None:
            raise InvalidInput(
                f"{target.model} version {version} has no target in its manifest",
                hint="performance needs to know what the model predicts: add target: to it",
            )
        task = manifest.target.task
        span = Window.ending(end or self.clock.now(), window or manifest.monitoring.window)
        truth: dict[int, list[Any]] = {}
        predicted: dict[int, list[Any]] = {}
        for chunk in self.labels.window(deployment, start=span.start, end=span.end):
            for served, output, label in chunk:
                truth.setdefault(served, []).append(label)
                predicted.setdefault(served, []).append(_scalar(output))
        metric, level, higher = _headline(manifest, task)
        positive = manifest.target.positive_class
        measured: dict[str, Any] = {}
        if truth:
            all_true = [v for values in truth.values() for v in values]
            all_pred = [v for values in predicted.values() for v in values]
            measured["all"] = _metrics(compute_metrics, task, all_true, all_pred, positive)
            for served in sorted(truth):
                measured[str(served)] = _metrics(
                    compute_metrics, task, truth[served], predicted[served], positive
                )
        estimated = (
            self._estimate(target.model, version, manifest, deployment, span)
            if (task == "classification")
            else None
        )
        labelled = sum(len(v) for v in truth.values())
        # the champion's own labels judge it (a canary's are reported beside, not mixed in)
        headline = measured.get(str(version)) or measured.get("all") or {}
        value = headline.get("metrics", {}).get(metric)
        is_estimate = False
        usable = estimated is not None and "accuracy" in estimated and metric == "accuracy"
        if not truth and usable:
            assert estimated is not None
            value, is_estimate = estimated["accuracy"], True
        if headline.get("error"):
            status = "error"  # labels there, but not comparable: say so, never estimate
        elif value is None:
            status = "no data"
        elif level is not None and (value < level if higher else value > level):
            status = "degraded"
        else:
            status = "ok"
        result = {
            "window": span.text,
            "model": target.model,
            "version": version,
            "metric": metric,
            "level": level,
            "higher_is_better": higher,
            "labelled": labelled,
            "measured": measured,
            "estimated": estimated,
            "value_is_estimate": is_estimate,
        }
        saved = self.monitors.save(
            deployment,
            "performance",
            window_start=span.start,
            window_end=span.end,
            version=version,
            rows=labelled,
            status=status,
            value=value,
            result=result,
            actor=by.name,
        )
        log.info("performance of %s over %s: %s", deployment, span.text, status)
        self.bus.publish(
            PerformanceChecked(
                actor=by.name,
                deployment=deployment,
                model=target.model,
                version=version,
                result_id=saved.id,
                window=span.text,
                metric=metric,
                value=value,
                level=level,
                higher_is_better=higher,
                estimated=is_estimate,
                status=status,
            )
        )
        return saved

    def _estimate(
        self, model: str, version: int, manifest: Manifest, deployment: str, span: Window
    ) -> dict[str, Any] | None:
        """Expected accuracy of the window from the champion's calibrated confidence."""
        try:
            return self._calibrated_accuracy(model, version, manifest, deployment, span)
        except Exception as exc:  # the measured part of the check stands on its own
            log.warning("no performance estimate for %s: %s", deployment, exc)
            return {"error": f"{type(exc).__name__}: {exc}"}

    def _calibrated_accuracy(
        self, model: str, version: int, manifest: Manifest, deployment: str, span: Window
    ) -> dict[str, Any] | None:
        import pandas as pd
        from sklearn.isotonic import IsotonicRegression

        predictor = self.registry.load(model, version)
        estimator = predictor.model
        classes_ = getattr(estimator, "classes_", None)
        if not hasattr(estimator, "predict_proba") or classes_ is None or manifest.gate is None:
            return None
        gold_version = self.gold.latest_approved(manifest.gate.gold)
        if gold_version is None:
            return None
        gold = pd.read_parquet(gold_version.path)
        features = predictor.feature_names or manifest.feature_names  # the order it was fitted in
        proba = np.asarray(estimator.predict_proba(gold[features]))
        classes = np.asarray(classes_)
        picked = pd.Series(classes[proba.argmax(axis=1)])
        truth = pd.Series(gold[gold_version.label_column].to_numpy())
        if picked.dtype.kind in "iufb" and truth.dtype.kind in "iufb":
            right = (picked.astype(float) == truth.astype(float)).to_numpy(dtype=float)
        else:
            right = (picked.astype(str) == truth.astype(str)).to_numpy(dtype=float)
        calibration = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        calibration.fit(proba.max(axis=1), right)
        total, rows = 0.0, 0
        for frame in self.predictions.served_frames(
            deployment, start=span.start, end=span.end, features=list(features)
        ):
            frame = frame[frame[list(features)].notna().any(axis=1)]  # rows that logged them
            if frame.empty:
                continue
            confidence = np.asarray(estimator.predict_proba(frame[features])).max(axis=1)
            total += float(calibration.predict(confidence).sum())
            rows += len(frame)
        if rows == 0:
            return None
        return {
            "accuracy": total / rows,
            "rows": rows,
            "method": "confidence-based (CBPE): mean calibrated top-class probability",
            "calibrated_on": f"{gold_version.name} v{gold_version.version} ({len(gold):,} rows)",
            "gold_accuracy": float(right.mean()),
        }


def _scalar(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _headline(manifest: Manifest, task: str) -> tuple[str, float | None, bool]:
    """The metric the status is judged by, its level, and whether higher is better.

    Labels give predicted values, not probabilities: metrics that need probabilities
    (roc_auc, log_loss...) cannot be the headline.

    Raises:
        InvalidInput: ``monitoring.metric`` names a metric labels cannot measure.
    """
    from lightkeeper.metrics import METRICS, metric_names

    measurable = [n for n in metric_names(task) if not METRICS[n].needs_proba]  # type: ignore[arg-type]
    monitoring, gate = manifest.monitoring, manifest.gate
    if monitoring.metric is not None and monitoring.metric not in measurable:
        raise InvalidInput(
            f"monitoring.metric {monitoring.metric!r} cannot be measured from labels",
            hint=f"labels give predicted values; pick one of {', '.join(measurable)}",
        )
    bounds = {m.name: m for m in gate.metrics} if gate is not None else {}
    gated = [name for name in bounds if name in measurable]
    metric = monitoring.metric or next(iter(gated), measurable[0])
    higher = METRICS[metric].higher_is_better
    level = monitoring.min
    if level is None and metric in bounds:
        level = bounds[metric].min if higher else bounds[metric].max
    return metric, level, higher


def _metrics(
    compute: Any, task: str, y_true: list[Any], y_pred: list[Any], positive: Any
) -> dict[str, Any]:
    try:
        values = compute(task, y_true, y_pred, positive_class=positive)
    except InvalidInput as exc:  # one class only, a label the model never predicts...
        return {"rows": len(y_true), "metrics": {}, "error": str(exc)}
    return {"rows": len(y_true), "metrics": values}
