"""Prometheus metrics of one model server (a registry per app, so apps do not share counts)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ServingMetrics:
    """Requests, errors and latency per version and arm; log drops; swaps."""

    def __init__(self, deployment: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["deployment", "version", "arm"]
        self.deployment = deployment
        self.requests = Counter(
            "lightkeeper_requests",
            "Scoring requests answered, by version, arm and HTTP status",
            [*labels, "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "lightkeeper_prediction_errors",
            "Predictions that raised, by version and arm (challenger errors fall back)",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "lightkeeper_prediction_latency_seconds",
            "Time inside the model per request, by version and arm",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rejected = Counter(
            "lightkeeper_rejected_requests",
            "Requests refused before scoring (bad payload, not ready)",
            ["deployment", "code"],
            registry=self.registry,
        )
        self.log_dropped = Counter(
            "lightkeeper_prediction_log_dropped",
            "Prediction records dropped: the log buffer was full, or the database refused them",
            ["deployment"],
            registry=self.registry,
        )
        self.log_pending = Gauge(
            "lightkeeper_prediction_log_pending",
            "Prediction records waiting to be written",
            ["deployment"],
            registry=self.registry,
        )
        self.shadow_skipped = Counter(
            "lightkeeper_shadow_skipped",
            "Shadow scorings skipped because too many were in flight",
            ["deployment"],
            registry=self.registry,
        )
        self.swaps = Counter(
            "lightkeeper_swaps",
            "Desired-state changes applied (ok) or refused (failed)",
            ["deployment", "outcome"],
            registry=self.registry,
        )
        for metric in (self.log_dropped, self.log_pending, self.shadow_skipped):
            metric.labels(deployment)
        for outcome in ("ok", "failed"):
            self.swaps.labels(deployment, outcome)

    def observe(self, version: int, arm: str, seconds: float, *, failed: bool) -> None:
        """One prediction call of an arm."""
        labels = (self.deployment, str(version), arm)
        self.latency.labels(*labels).observe(seconds)
        if failed:
            self.errors.labels(*labels).inc()

    def answered(self, version: int | None, arm: str, status: int) -> None:
        """One answered scoring request."""
        self.requests.labels(self.deployment, str(version or ""), arm, str(status)).inc()

    def render(self) -> bytes:
        """The Prometheus exposition text."""
        return generate_latest(self.registry)
