"""A drift report as one self-contained HTML page: a table of verdicts and a plot per feature.

The page reads offline: ``templates/drift_report.html`` with the stylesheet inlined, and
a :func:`lightkeeper.charts.histogram` per feature (reference and current share per bin
or category, side by side); no scripts or network references. It renders the JSON form
of a report (a stored monitor result or an ad-hoc comparison), so the JSON is the page's
twin. This module only prepares the plain values the template lays out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from lightkeeper import charts
from lightkeeper.render import render

if TYPE_CHECKING:
    from lightkeeper.store.monitors import MonitorResult

__all__ = ["render_html", "render_result"]

_ICON = {"ok": "✓", "drift": "!", "nodata": "\u2013"}


def render_html(
    title: str,
    facts: Sequence[tuple[str, str]],
    features: Mapping[str, Any] | None,
    outputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """Render a drift report.

    Args:
        title: the page heading, e.g. ``"Drift of credit-online"``.
        facts: (label, value) pairs shown under the heading (window, rows, reference).
        features: the JSON form of a :class:`~lightkeeper.monitor.drift.DriftReport`;
            None when the window had no rows.
        outputs: model output drift per version (the monitor's ``outputs``).
    """
    rows = list((features or {}).get("features", []))
    drifted = [f["feature"] for f in rows if f.get("drifted")]
    output_rows = [
        {**result, "feature": f"output of v{version}"}
        for version, result in (outputs or {}).items()
        if result.get("method")
    ]
    if not rows:
        verdict, summary = "nodata", "No predictions in this window: nothing to compare."
    elif drifted:
        verdict = "drift"
        summary = f"{len(drifted)} of {len(rows)} features drifted: {', '.join(drifted)}."
    else:
        verdict, summary = "ok", f"None of the {len(rows)} features drifted."
    output_drift = [r["feature"] for r in output_rows if r.get("drifted")]
    if output_drift:
        verdict = "drift"
        summary += f" The model output drifted ({', '.join(output_drift)})."
    context = {
        "title": title,
        "report_facts": list(facts),
        "verdict": verdict,
        "verdict_icon": _ICON[verdict],
        "summary": summary,
        "features": [_feature(f) for f in rows],
        "outputs": [_feature(f) for f in output_rows],
        "unreferenced": [v for v, r in (outputs or {}).items() if not r.get("method")],
    }
    return render("drift_report.html", **context)


def render_result(result: MonitorResult) -> str:
    """Render a stored drift monitor result."""
    window = (
        f"{result.result.get('window')}: {result.window_start:%Y-%m-%d %H:%M} to "
        f"{result.window_end:%Y-%m-%d %H:%M} UTC"
    )
    facts = [
        ("deployment", result.deployment),
        ("window", window),
        ("rows", f"{result.rows:,}"),
        ("reference", f"{result.result.get('model')} v{result.version}"),
        ("checked", f"{result.computed_at:%Y-%m-%d %H:%M:%S} UTC by {result.actor}"),
    ]
    return render_html(
        f"Drift of {result.deployment}",
        facts,
        result.result.get("features"),
        result.result.get("outputs"),
    )


def _feature(raw: Mapping[str, Any]) -> dict[str, Any]:
    stats = raw.get("statistics") or {}
    return {
        "name": str(raw.get("feature")),
        "kind": raw.get("kind"),
        "method": raw.get("method"),
        "value": _fmt(raw.get("value")),
        "threshold": _fmt(raw.get("threshold")),
        "drifted": bool(raw.get("drifted")),
        "verdict": "drift" if raw.get("drifted") else ("ok" if raw.get("method") else "no data"),
        "state": "drift" if raw.get("drifted") else ("ok" if raw.get("method") else "nodata"),
        "rows": f"{raw.get('reference_rows', 0):,} / {raw.get('current_rows', 0):,}",
        "psi": _fmt(stats.get("psi")),
        "missing": _fmt(stats.get("missing_share")),
        "plot": _histogram(str(raw.get("feature")), raw.get("histogram"), bool(raw.get("drifted"))),
        "reference": raw.get("reference"),
    }


def _fmt(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _histogram(name: str, histogram: Mapping[str, Any] | None, drifted: bool) -> Markup | None:
    """Reference (grey) and current (blue, red when drifted) share per bin, side by side."""
    if not histogram or not histogram.get("labels"):
        return None
    series = [
        charts.Series("reference", histogram["reference"], charts.NEUTRAL),
        charts.Series("current", histogram["current"], charts.BAD if drifted else charts.ACCENT),
    ]
    title = f"Share per bin of {name}: reference and current"
    return charts.histogram([str(v) for v in histogram["labels"]], series, title=title)
