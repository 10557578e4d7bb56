"""Render one acceptance-gate run as a self-contained HTML report, plus its JSON twin.

This module only turns a run (the dict of its JSON report) into plain values: texts,
rows and charts from :mod:`lightkeeper.charts`. ``templates/gate_report.html`` lays them
out, and :mod:`lightkeeper.render` inlines the stylesheet, so the page reads offline and
prints well: no scripts, fonts, images or network references. Every value taken from the
run is escaped (Jinja autoescaping, Markup formatting in the charts), so a check named
``<script>`` shows up as text. Any optional part of the run may be missing (a model that
failed to load leaves only checks); its section is left out.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from lightkeeper import charts
from lightkeeper.files import write_atomic
from lightkeeper.gate.champions import describe_champions
from lightkeeper.render import render

logger = logging.getLogger(__name__)

__all__ = ["render_html", "write_report"]

_STATUS_ORDER = {"failed": 0, "error": 1, "skipped": 2, "passed": 3}
_STATUS_ICON = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "\u2013"}
_TONE: dict[str, charts.Tone] = {"passed": "good", "failed": "bad"}
_MAX_POINTS = 4000  # a residual plot stays readable and the file small beyond this
_MAX_NAMES = 5  # names listed in the one-line summary before "and N more"
_MINUS = "\u2212"  # a real minus sign: as wide as the plus, so signed columns line up


def render_html(run: Mapping[str, Any]) -> str:
    """Render a gate run (the dict of its JSON report) as one self-contained HTML page."""
    checks = _checks(run)
    handover = [check for check in checks if check["category"] == "handover"]
    verdict = str(run.get("verdict") or "unknown").lower()
    gold, timings = _map(run.get("gold")), _map(run.get("timings"))
    model = f"{_text(run.get('model')) or 'unnamed model'}{_version(run.get('version'))}"
    comparison = _map(run.get("comparison"))
    champion = _version(comparison.get("champion_version")).strip()
    run_id = _text(run.get("id"))
    context = {
        "title": f"Gate {verdict.upper()}: {model}",
        "verdict": verdict,
        "verdict_icon": _STATUS_ICON.get(verdict, "?"),
        "eyebrow": f"Acceptance gate · run #{run_id}" if run_id else "Acceptance gate",
        "model": model,
        "summary": _summary(checks),
        "run_facts": _facts(run, gold),
        "checks": sorted(checks, key=lambda c: _STATUS_ORDER.get(c["status"], 4)),
        "champion": champion,
        "candidate": _version(run.get("version")).strip(),
        "metrics": _metric_rows(run),
        "comparison": _comparison(comparison, _seq(run.get("champions"))),
        "segments": _segments(_map(run.get("segments"))),
        "latency": _latency(_map(run.get("latency"))),
        "plot": _plot(_map(run.get("plots"))),
        "handover": handover,
        "footer": [
            ("Gate run", f"#{run_id or '—'}"),
            ("Gold dataset hash", _text(gold.get("hash")) or "—"),
            ("Finished", _fmt_when(run.get("finished_at"))),
            ("Predict time", _fmt_seconds(timings.get("predict_s"))),
            ("Total time", _fmt_seconds(timings.get("total_s") or run.get("duration_s"))),
            ("lightkeeper", _text(run.get("lightkeeper_version")) or "—"),
        ],
    }
    return render("gate_report.html", **context)


def write_report(run: Mapping[str, Any], folder: Path) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.json`` into ``folder``, each atomically.

    Returns:
        The paths of the HTML and the JSON file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    html_path, json_path = folder / "report.html", folder / "report.json"
    write_atomic(html_path, render_html(run))
    # NaN and infinity are not JSON; they become null so any JSON reader can load the twin.
    text = json.dumps(_finite(run), indent=2, sort_keys=False, default=str, allow_nan=False)
    write_atomic(json_path, text + "\n")
    logger.info("wrote gate report %s", html_path)
    return html_path, json_path


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


# Reading a run that may hold nulls or missing keys anywhere.


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _seq(value: object) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else []


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _version(value: object) -> str:
    return f" v{value}" if value is not None and value != "" else ""


# Formatting numbers, times and durations for people.


def _fmt(value: object, *, signed: bool = False) -> str:
    number = _num(value)
    if number is None:
        if isinstance(value, float):
            return "n/a"
        return "—" if value is None else str(value)
    if isinstance(value, int) and not signed:
        text = f"{value:,}"
    elif number != 0 and abs(number) < 0.001:
        text = f"{number:+.2e}" if signed else f"{number:.2e}"
    else:
        text = f"{number:+,.3f}" if signed else f"{number:,.3f}"
    return text.replace("-", _MINUS)


def _fmt_signed(value: float) -> str:
    return _fmt(value, signed=True)


def _fmt_seconds(value: object) -> str:
    seconds = _num(value)
    if seconds is None:
        return "—"
    if seconds < 0.0001:
        return "<0.1 ms"
    if seconds < 0.01:  # a check that reads the manifest takes a fraction of a millisecond
        return f"{seconds * 1000:.1f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes:.0f} min {rest:.0f} s"


def _fmt_ms(value: object) -> str:
    number = _num(value)
    return "—" if number is None else f"{number:,.1f} ms"


def _fmt_when(value: object) -> str:
    if not value:
        return "—"
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    offset = moment.utcoffset()
    text = moment.strftime("%Y-%m-%d %H:%M")
    if offset is None:
        return text
    return f"{text} UTC" if offset == timedelta(0) else f"{text} UTC{moment.strftime('%z')}"


# The sections, as plain values the template lays out.


def _checks(run: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []
    for item in _seq(run.get("checks")):
        check = _map(item)
        status = _text(check.get("status")).lower() or "unknown"
        rows.append(
            {
                "name": _text(check.get("name")) or "(unnamed check)",
                "category": _text(check.get("category")),
                "status": status,
                "icon": _STATUS_ICON.get(status, "?"),
                "message": _text(check.get("message")),
                "hint": _text(check.get("hint")),
                # 0 is "not measured" (a check timed at all takes some nanoseconds)
                "duration": _fmt_seconds(check.get("duration_s") or None),
            }
        )
    return rows


def _summary(checks: list[dict[str, str]]) -> str:
    if not checks:
        return "No checks ran."
    passed = sum(check["status"] == "passed" for check in checks)
    parts = [f"{passed} of {len(checks)} check{'' if len(checks) == 1 else 's'} passed"]
    for status, label in (("failed", "failed"), ("error", "errors"), ("skipped", "skipped")):
        names = [check["name"] for check in checks if check["status"] == status]
        if names:
            more = f" and {len(names) - _MAX_NAMES} more" if len(names) > _MAX_NAMES else ""
            parts.append(f"{label}: {', '.join(names[:_MAX_NAMES])}{more}")
    return "; ".join(parts)


def _facts(run: Mapping[str, Any], gold: Mapping[str, Any]) -> list[tuple[str, str]]:
    dataset = [f"{_text(gold.get('name')) or '—'}{_version(gold.get('version'))}"]
    if gold.get("rows") is not None:
        dataset.append(f"{_fmt(gold.get('rows'))} rows")
    if gold.get("approved_by"):
        dataset.append(f"approved by {gold['approved_by']}")
    columns = [
        f"{role} {gold[key]}"
        for role, key in (("label", "label_column"), ("segments", "segment_column"))
        if gold.get(key)
    ]
    return [
        ("Compared with", describe_champions(run)),
        ("Gold dataset", " · ".join(dataset)),
        ("Columns", ", ".join(columns) or "—"),
        ("Task", _text(run.get("task")) or "—"),
        ("Started", _fmt_when(run.get("started_at"))),
        ("Triggered by", _text(run.get("triggered_by")) or "—"),
        ("Duration", _fmt_seconds(run.get("duration_s"))),
    ]


def _metric_rows(run: Mapping[str, Any]) -> list[dict[str, str]]:
    candidate, champion = _map(run.get("metrics")), _map(run.get("champion_metrics"))
    names = [*candidate, *(name for name in champion if name not in candidate)]
    rows = []
    for name in names:
        ours, theirs = _num(candidate.get(name)), _num(champion.get(name))
        difference = "—" if ours is None or theirs is None else _fmt(ours - theirs, signed=True)
        rows.append(
            {
                "name": str(name),
                "candidate": _fmt(candidate.get(name)),
                "champion": _fmt(champion.get(name)),
                "difference": difference,
            }
        )
    return rows


def _comparison(comp: Mapping[str, Any], champions: Sequence[Any]) -> dict[str, Any] | None:
    if not comp:
        return None
    passed = comp.get("passed")
    status = "passed" if passed is True else "failed" if passed is False else ""
    confidence = _num(comp.get("confidence"))
    level = f"{confidence * 100:g}%" if confidence is not None else "confidence"
    drop = _num(comp.get("max_drop"))
    interval = f"{_fmt(comp.get('low'), signed=True)} to {_fmt(comp.get('high'), signed=True)}"
    facts = [
        ("Metric", _text(comp.get("metric")) or "—"),
        ("Candidate", _fmt(comp.get("candidate"))),
        ("Champion", _fmt(comp.get("champion"))),
        ("Improvement", _fmt(comp.get("improvement"), signed=True)),
        (f"{level} interval", interval),
        ("Bootstrap resamples", _fmt(comp.get("resamples"))),
        ("Largest drop allowed", "—" if drop is None else _fmt(-abs(drop), signed=True)),
    ]
    others = []
    for item in map(_map, champions):
        if item.get("version") == comp.get("champion_version"):
            continue
        other = _map(item.get("comparison"))
        other_status = _text(item.get("status"))
        others.append(
            {
                "version": _version(item.get("version")).strip(),
                "deployments": ", ".join(map(str, _seq(item.get("deployments")))) or "—",
                "status": other_status,
                "icon": _STATUS_ICON.get(other_status, ""),
                "improvement": _fmt(other.get("improvement"), signed=True),
                "interval": f"{_fmt(other.get('low'), signed=True)} to "
                f"{_fmt(other.get('high'), signed=True)}"
                if other
                else _text(item.get("error")) or "not compared",
            }
        )
    deployments = ", ".join(map(str, _seq(comp.get("deployments"))))
    return {
        "status": status,
        "icon": _STATUS_ICON.get(status, ""),
        "champion": _version(comp.get("champion_version")).strip(),
        "deployments": deployments,
        "facts": facts,
        "message": _text(comp.get("message")),
        "svg": charts.interval(
            _num(comp.get("improvement")),
            _num(comp.get("low")),
            _num(comp.get("high")),
            title="Improvement over the champion with its confidence interval",
            limit=None if drop is None else -abs(drop),
            tone=_TONE.get(status, "neutral"),
            fmt=_fmt_signed,
        ),
        "others": others,
    }


def _segments(seg: Mapping[str, Any]) -> dict[str, Any] | None:
    values = _map(seg.get("values"))
    if not values:
        return None
    minimums = _map(seg.get("minimums"))
    names = list(minimums)
    for item in values.values():
        names += [name for name in _map(_map(item).get("metrics")) if name not in names]
    rows = []
    for value, item in values.items():
        metrics = _map(_map(item).get("metrics"))
        cells = []
        for name in names:
            number, floor = _num(metrics.get(name)), _num(minimums.get(name))
            below = number is not None and floor is not None and number < floor
            cells.append({"text": _fmt(metrics.get(name)), "below": below})
        rows.append({"value": str(value), "rows": _fmt(_map(item).get("rows")), "cells": cells})
    headers = [
        (name, f"minimum {_fmt(minimums[name])}" if name in minimums else "") for name in names
    ]
    return {"column": _text(seg.get("column")) or "segment", "headers": headers, "rows": rows}


def _latency(lat: Mapping[str, Any]) -> dict[str, Any] | None:
    if not lat:
        return None
    budget = _num(lat.get("budget_ms"))
    rows = []
    for label, key in (("p50 (median)", "p50_ms"), ("p99 (slowest 1%, median round)", "p99_ms")):
        value = _num(lat.get(key))
        status = "" if value is None or budget is None else ("failed", "passed")[value <= budget]
        rows.append(
            {
                "label": label,
                "value": _fmt_ms(value),
                "status": status,
                "icon": _STATUS_ICON.get(status, ""),
                "word": {"passed": "within budget", "failed": "over budget"}.get(status, "—"),
                "bar": charts.bullet(value, budget, tone=_TONE.get(status, "neutral")),
            }
        )
    rounds = [_num(_map(item).get("p99_ms")) for item in _seq(lat.get("rounds"))]
    spread = _map(lat.get("p99_spread_ms"))
    return {
        "rows": rows,
        "budget": _fmt_ms(budget),
        "samples": _fmt(lat.get("samples")),
        "rounds": len(rounds),
        "round_p99s": ", ".join(_fmt_ms(value) for value in rounds),
        "spread": [(key, _fmt_ms(spread.get(key))) for key in ("min", "median", "max")]
        if spread
        else [],
    }


def _plot(plots: Mapping[str, Any]) -> dict[str, Any] | None:
    cm = _map(plots.get("confusion_matrix"))
    matrix = charts.heatmap(
        [[_num(value) or 0.0 for value in _seq(row)] for row in _seq(cm.get("matrix"))],
        [str(label) for label in _seq(cm.get("labels"))],
        title="Confusion matrix of the candidate on the gold set",
        x_title="predicted",
        y_title="actual",
    )
    if matrix is not None:
        return {"title": "Confusion matrix", "svg": matrix, "caption": _MATRIX_CAPTION}
    residuals = _map(plots.get("residuals"))
    actual = map(_num, _seq(residuals.get("actual")))
    predicted = map(_num, _seq(residuals.get("predicted")))
    pairs = [
        (a, p) for a, p in zip(actual, predicted, strict=False) if a is not None and p is not None
    ]
    if not pairs:
        return None
    shown = pairs[:: math.ceil(len(pairs) / _MAX_POINTS)]
    svg = charts.scatter(
        shown, title="Predicted against actual values", x_title="actual", y_title="predicted"
    )
    more = f" Showing {len(shown):,} of {len(pairs):,} points." if len(shown) < len(pairs) else ""
    return {"title": "Predicted against actual", "svg": svg, "caption": _SCATTER_CAPTION + more}


_MATRIX_CAPTION = (
    "Rows are the true class, columns the model's prediction; the diagonal counts correct "
    "predictions. Shading shows the share of each true class."
)
_SCATTER_CAPTION = (
    "Each dot is one gold row. Dots on the dashed diagonal are exact; above it the model "
    "predicts too high, below it too low."
)
