"""The gate's named checks. Each says what is missing and how to add it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from lightkeeper.manifest import Manifest

Status = Literal["passed", "failed", "skipped", "error"]
Category = Literal[
    "smoke", "contract", "quality", "comparison", "segment", "latency", "handover", "gold"
]


@dataclass
class Check:
    """One named check of a gate run."""

    name: str
    category: Category
    status: Status
    message: str
    hint: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def passed(
    name: str, category: Category, message: str, details: dict[str, Any] | None = None
) -> Check:
    """A passed check."""
    return Check(name, category, "passed", message, details=details or {})


def failed(
    name: str,
    category: Category,
    message: str,
    hint: str,
    details: dict[str, Any] | None = None,
) -> Check:
    """A failed check with what to do."""
    return Check(name, category, "failed", message, hint, details=details or {})


def skipped(
    name: str,
    category: Category,
    message: str,
    hint: str = "",
    details: dict[str, Any] | None = None,
) -> Check:
    """A check that did not apply, with the reason."""
    return Check(name, category, "skipped", message, hint, details=details or {})


@contextlib.contextmanager
def timed(checks: list[Check], extra_s: float = 0.0) -> Iterator[None]:
    """Give the checks appended to ``checks`` inside the block the time the block took.

    ``extra_s`` adds work done for them elsewhere (in the scoring process, say). When one
    piece of work decides several checks (every metric from one computation), they share
    its time evenly, so the durations of a run add up to the time it spent.
    """
    first = len(checks)
    started = time.perf_counter()
    try:
        yield
    finally:
        added = checks[first:]
        if added:
            share = (time.perf_counter() - started + extra_s) / len(added)
            for check in added:
                check.duration_s += share


def handover_checks(manifest: Manifest) -> list[Check]:
    """The operations hand-over checklist: owner, support plan, runbook, alarms, logging."""
    checks = []
    if manifest.owner:
        checks.append(passed("handover:owner", "handover", f"business owner: {manifest.owner}"))
    else:
        checks.append(
            failed(
                "handover:owner",
                "handover",
                "the manifest names no business owner",
                "add `owner: team-or-person@example.com` to lightkeeper.yaml",
            )
        )
    support = manifest.support
    if support is not None:
        checks.append(
            passed(
                "handover:support-plan",
                "handover",
                f"supported by {support.team}, on call {support.on_call}, {support.hours}",
            )
        )
    else:
        checks.append(
            failed(
                "handover:support-plan",
                "handover",
                "the manifest has no support plan",
                "add a `support:` section with team, on_call and hours to lightkeeper.yaml",
            )
        )
    if manifest.runbook:
        codes = ", ".join(entry.code for entry in manifest.runbook)
        checks.append(
            passed(
                "handover:runbook", "handover", f"{len(manifest.runbook)} error type(s): {codes}"
            )
        )
    else:
        checks.append(
            failed(
                "handover:runbook",
                "handover",
                "the manifest has no runbook: operations would not know what an error means",
                "add a `runbook:` list with at least one error type (code, meaning, "
                "first_action) to lightkeeper.yaml",
            )
        )
    rules = manifest.alarms.rules
    if rules:
        names = ", ".join(rule.name for rule in rules)
        checks.append(passed("handover:alarms", "handover", f"{len(rules)} alarm rule(s): {names}"))
    else:
        checks.append(
            failed(
                "handover:alarms",
                "handover",
                "no alarms are configured: nobody would hear of a problem",
                "add `alarms: {rules: [...]}` to lightkeeper.yaml, for example a drift rule "
                "with a sink where operations works",
            )
        )
    if manifest.logging.predictions:
        checks.append(
            passed(
                "handover:logging",
                "handover",
                f"predictions logged (sample {manifest.logging.sample:g}), level "
                f"{manifest.logging.level}",
            )
        )
    else:
        checks.append(
            failed(
                "handover:logging",
                "handover",
                "prediction logging is off: drift, labels and audits need the prediction log",
                "set `logging: {predictions: true}` in lightkeeper.yaml (use `sample` to log a "
                "share)",
            )
        )
    return checks


def threshold_check(name: str, value: float, low: float | None, high: float | None) -> Check:
    """A metric against its absolute minimum and/or maximum."""
    bounds = []
    if low is not None:
        bounds.append(f">= {low:g}")
    if high is not None:
        bounds.append(f"<= {high:g}")
    ok = (low is None or value >= low) and (high is None or value <= high)
    message = f"{name} {value:.4f} (required {' and '.join(bounds)})"
    if ok:
        return passed(
            f"metric:{name}", "quality", message, {"value": value, "min": low, "max": high}
        )
    return failed(
        f"metric:{name}",
        "quality",
        message,
        "improve the model on the gold set, or have the business owner revise the threshold "
        "in gate.metrics",
        {"value": value, "min": low, "max": high},
    )


def latency_check(
    rounds_ms: list[list[float]], budget_ms: float | None
) -> tuple[Check, dict[str, Any]]:
    """The median round's p99 of single-row predict against the budget.

    Each round is judged by its own p99; the median round decides, so one round disturbed
    by the machine (another process, a page fault storm) neither fails nor passes a model.
    The summary keeps every round's p50 and p99 and the spread of the p99s.
    """
    import numpy as np

    measured = [np.asarray(r, dtype="float64") for r in rounds_ms if len(r)]
    if not measured:
        raise ValueError("latency_check needs at least one round with a sample")
    per_round = [
        {
            "p50_ms": float(np.percentile(r, 50)),
            "p99_ms": float(np.percentile(r, 99)),
            "samples": len(r),
        }
        for r in measured
    ]
    p99s = [r["p99_ms"] for r in per_round]
    p50 = float(np.median([r["p50_ms"] for r in per_round]))
    p99 = float(np.median(p99s))
    spread = {"min": min(p99s), "median": p99, "max": max(p99s)}
    summary = {
        "p50_ms": p50,
        "p99_ms": p99,
        "max_ms": float(max(r.max() for r in measured)),
        "samples": sum(len(r) for r in measured),
        "rounds": per_round,
        "p99_spread_ms": spread,
        "budget_ms": budget_ms,
        "threads": 1,
    }
    text = (
        f"single-row p50 {p50:.2f} ms, p99 {p99:.2f} ms (median of {len(per_round)} rounds; "
        f"round p99s {spread['min']:.2f} to {spread['max']:.2f} ms)"
    )
    details = {"rounds": per_round, "p99_spread_ms": spread, "budget_ms": budget_ms}
    if budget_ms is None:
        return skipped(
            "latency:p99", "latency", text + "; no budget set", "set gate.latency_p99_ms", details
        ), summary
    if p99 <= budget_ms:
        return passed(
            "latency:p99", "latency", f"{text} <= budget {budget_ms:g} ms", details
        ), summary
    return (
        failed(
            "latency:p99",
            "latency",
            f"{text} > budget {budget_ms:g} ms",
            "make single-row predict faster (smaller model, fewer features, no per-call set-up) "
            "or agree a larger gate.latency_p99_ms with operations",
            details,
        ),
        summary,
    )
