"""Render one acceptance-gate run as a self-contained HTML report, plus its JSON twin.

The page reads offline and prints well: inline CSS, charts drawn here as inline SVG, no
scripts, fonts, images or network references. Every value taken from the run is escaped:
the page goes through Jinja2 autoescaping and the SVG through :class:`markupsafe.Markup`
formatting, so a check named ``<script>`` shows up as text. Any optional part of the run
may be missing (a model that failed to load leaves only checks); its section is left out.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from lightkeeper.files import write_atomic
from lightkeeper.gate.champions import describe_champions
from lightkeeper.svg import chart as _svg
from lightkeeper.svg import element as _el

if TYPE_CHECKING:
    import jinja2

logger = logging.getLogger(__name__)

__all__ = ["render_html", "write_report"]

_STATUS_ORDER = {"failed": 0, "error": 1, "skipped": 2, "passed": 3}
_STATUS_ICON = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "\u2013"}
_OK, _BAD, _INK, _MUTED, _LINE = "#1a7f37", "#cf222e", "#1f2328", "#57606a", "#d0d7de"
_MAX_POINTS = 4000  # a residual plot stays readable and the file small beyond this
_MAX_NAMES = 5  # names listed in the one-line summary before "and N more"
_DASHED = {"stroke_width": 1.5, "stroke_dasharray": "5 4"}
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
    context = {
        "css": Markup(_CSS),
        "title": f"Gate {verdict.upper()}: {model}",
        "verdict": verdict,
        "verdict_icon": _STATUS_ICON.get(verdict, "?"),
        "run_id": _text(run.get("id")),
        "model": model,
        "summary": _summary(checks),
        "facts": _facts(run, gold),
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
            ("Gate run", f"#{_text(run.get('id')) or '—'}"),
            ("Gold dataset hash", _text(gold.get("hash")) or "—"),
            ("Finished", _fmt_when(run.get("finished_at"))),
            ("Predict time", _fmt_seconds(timings.get("predict_s"))),
            ("Total time", _fmt_seconds(timings.get("total_s") or run.get("duration_s"))),
            ("lightkeeper", _text(run.get("lightkeeper_version")) or "—"),
        ],
    }
    return _template().render(context)


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


def _fmt_tick(value: float, step: float) -> str:
    decimals = len(f"{step:.9f}".rstrip("0").partition(".")[2])
    text = f"{value:.{decimals}f}"
    return ("0" if float(text) == 0 else text).replace("-", _MINUS)


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
        "svg": _forest_plot(comp, status),
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
                "bar": _latency_bar(value, budget, status),
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
    matrix = _confusion_plot(_map(plots.get("confusion_matrix")))
    if matrix is not None:
        return {"title": "Confusion matrix", "svg": matrix, "caption": _MATRIX_CAPTION}
    residuals = _residual_plot(_map(plots.get("residuals")))
    if residuals is None:
        return None
    svg, shown, total = residuals
    sample = f" Showing {shown:,} of {total:,} points." if shown < total else ""
    return {"title": "Predicted against actual", "svg": svg, "caption": _SCATTER_CAPTION + sample}


_MATRIX_CAPTION = (
    "Rows are the true class, columns the model's prediction; the diagonal counts correct "
    "predictions. Shading shows the share of each true class."
)
_SCATTER_CAPTION = (
    "Each dot is one gold row. Dots on the dashed diagonal are exact; above it the model "
    "predicts too high, below it too low."
)


# Inline SVG charts, built from escaped elements.


def _text_at(x: float, y: float, text: str, anchor: str = "middle", cls: str = "") -> Markup:
    return _el("text", text, x=x, y=y, text_anchor=anchor, class_=f"halo {cls}".strip())


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, **attrs: object) -> Markup:
    return _el("line", x1=x1, y1=y1, x2=x2, y2=y2, stroke=stroke, **attrs)


def _turned(x: float, y: float, text: str, angle: int, **attrs: object) -> Markup:
    turn = f"translate({x:.1f} {y:.1f}) rotate({angle})"
    return _el("text", text, transform=turn, **attrs)


def _nice_ticks(low: float, high: float, count: int = 5) -> tuple[list[float], float]:
    span = high - low
    if span <= 0:
        return [low], 1.0
    magnitude = 10 ** math.floor(math.log10(span / count))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= span / count)
    first = math.ceil(low / step - 1e-9) * step
    return [first + i * step for i in range(math.floor((high - first) / step + 1e-9) + 1)], step


def _scale(low: float, high: float, start: float, end: float) -> Callable[[float], float]:
    span = (high - low) or 1.0
    return lambda value: start + (value - low) / span * (end - start)


def _forest_plot(comp: Mapping[str, Any], status: str) -> Markup | None:
    improvement, low, high = (_num(comp.get(key)) for key in ("improvement", "low", "high"))
    drop = _num(comp.get("max_drop"))
    shown = [value for value in (improvement, low, high) if value is not None]
    if not shown:
        return None
    limit = -abs(drop) if drop is not None else None
    values = [*shown, 0.0] + ([limit] if limit is not None else [])
    pad = (max(values) - min(values)) * 0.08 or 0.01
    lo, hi = min(values) - pad, max(values) + pad
    width, axis = 640.0, 82.0
    x = _scale(lo, hi, 100, width - 100)
    colour = {"passed": _OK, "failed": _BAD}.get(status, "#0969da")
    parts: list[Markup] = []
    if limit is not None:
        parts.append(
            _el("rect", x=x(lo), y=24, width=x(limit) - x(lo), height=axis - 24, fill="#ffebe9")
        )
        parts.append(_line(x(limit), 22, x(limit), axis, _BAD, **_DASHED))
        parts.append(_text_at(x(limit) - 5, 16, f"limit {_fmt(limit, signed=True)}", "end"))
    parts.append(_line(x(0.0), 22, x(0.0), axis, _MUTED))
    parts.append(_text_at(x(0.0) + 5, 16, "no change", "start"))
    if low is not None and high is not None:
        ends = f"M{x(low):.1f} 50 H{x(high):.1f} M{x(low):.1f} 44 V56 M{x(high):.1f} 44 V56"
        parts.append(_el("path", d=ends, stroke=colour, stroke_width=3, fill="none"))
        parts.append(_text_at(x(low) - 8, 54, _fmt(low, signed=True), "end"))
        parts.append(_text_at(x(high) + 8, 54, _fmt(high, signed=True), "start"))
    if improvement is not None:
        dot = {"cx": x(improvement), "cy": 50, "r": 6.5, "stroke": "#fff", "stroke_width": 2}
        parts.append(_el("circle", fill=colour, **dot))
        parts.append(_text_at(x(improvement), 36, _fmt(improvement, signed=True), cls="strong"))
    ticks, step = _nice_ticks(lo, hi)
    parts.append(_line(100, axis, width - 100, axis, _LINE))
    for tick in ticks:
        parts.append(_line(x(tick), axis, x(tick), axis + 5, _LINE))
        parts.append(_text_at(x(tick), axis + 18, _fmt_tick(tick, step)))
    return _svg(width, 104, "Improvement over the champion with its confidence interval", parts)


def _latency_bar(value: float | None, budget: float | None, status: str) -> Markup | None:
    if value is None or budget is None or budget <= 0:
        return None
    x = _scale(0, max(value, budget) * 1.05, 0, 180)
    fill = _OK if status == "passed" else _BAD
    body = (
        _el("rect", width=180, height=14, rx=3, fill="#f6f8fa", stroke=_LINE)
        + _el("rect", width=max(x(value), 2.0), height=14, rx=3, fill=fill)
        + _line(x(budget), 0, x(budget), 14, _INK, stroke_width=2)
    )
    size = {"viewBox": "0 0 180 14", "width": 180, "height": 14}
    return _el("svg", body, class_="bar", aria_hidden="true", **size)


def _confusion_plot(cm: Mapping[str, Any]) -> Markup | None:
    rows = [[_num(value) or 0.0 for value in _seq(row)] for row in _seq(cm.get("matrix"))]
    n = len(rows)
    if n == 0 or any(len(row) != n for row in rows):
        return None
    labels = [str(label) for label in _seq(cm.get("labels"))]
    labels = labels if len(labels) == n else [str(i) for i in range(n)]
    short = [label if len(label) <= 16 else label[:15] + "\u2026" for label in labels]
    cell = max(24, min(72, 480 // n))
    longest = max(len(label) for label in short) * 7.0
    left, level = 40 + longest, all(len(label) * 7.0 <= cell - 6 for label in short)
    top = 44.0 if level else 34 + longest * 0.72
    parts = [
        _text_at(left + n * cell / 2, 14, "predicted", cls="axis-title"),
        _turned(14, top + n * cell / 2, "actual", -90, text_anchor="middle", class_="axis-title"),
    ]
    for j, label in enumerate(short):
        cx = left + j * cell + cell / 2
        parts.append(_text_at(cx, top - 8, label) if level else _turned(cx, top - 6, label, -45))
    for i, row in enumerate(rows):
        parts.append(_text_at(left - 8, top + i * cell + cell / 2 + 4, short[i], "end"))
        for j, count in enumerate(row):
            share = count / (sum(row) or 1.0)
            tip = f"actual {labels[i]}, predicted {labels[j]}: {_fmt_count(count)} ({share:.0%})"
            parts.append(_cell(left + j * cell, top + i * cell, cell, count, share, tip))
    size = left + n * cell + 12, top + n * cell + 12
    return _svg(*size, "Confusion matrix of the candidate on the gold set", parts)


def _cell(x: float, y: float, side: float, count: float, share: float, tip: str) -> Markup:
    shade = ",".join(
        str(round(a + (b - a) * share)) for a, b in zip((246, 248, 250), (9, 80, 170), strict=True)
    )
    box = _el("rect", x=x, y=y, width=side, height=side, fill=f"rgb({shade})", stroke="#fff")
    font = {"font_size": round(min(14, side * 0.4)), "text_anchor": "middle"}
    colour = f"fill:{'#fff' if share > 0.5 else _INK}"
    number = _el(
        "text", _fmt_count(count), x=x + side / 2, y=y + side / 2 + 4.5, style=colour, **font
    )
    return _el("g", _el("title", tip) + box + number)


def _fmt_count(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:.2f}"


def _residual_plot(res: Mapping[str, Any]) -> tuple[Markup, int, int] | None:
    actual, predicted = map(_num, _seq(res.get("actual"))), map(_num, _seq(res.get("predicted")))
    pairs = [
        (a, p) for a, p in zip(actual, predicted, strict=False) if a is not None and p is not None
    ]
    if not pairs:
        return None
    total = len(pairs)
    pairs = pairs[:: math.ceil(total / _MAX_POINTS)]
    values = [value for pair in pairs for value in pair]
    pad = (max(values) - min(values)) * 0.04 or 1.0
    lo, hi = min(values) - pad, max(values) + pad
    left, top, side = 64.0, 16.0, 420.0
    x, y = _scale(lo, hi, left, left + side), _scale(lo, hi, top + side, top)
    ticks, step = _nice_ticks(lo, hi)
    parts = [_el("rect", x=left, y=top, width=side, height=side, fill="#fff", stroke=_LINE)]
    for tick in ticks:
        grid = f"M{x(tick):.1f} {top} V{top + side} M{left} {y(tick):.1f} H{left + side}"
        parts.append(_el("path", d=grid, stroke="#eaeef2"))
        parts.append(_text_at(x(tick), top + side + 18, _fmt_tick(tick, step)))
        parts.append(_text_at(left - 8, y(tick) + 4, _fmt_tick(tick, step), "end"))
    dots = Markup("").join(_el("circle", cx=x(a), cy=y(p), r=2.5) for a, p in pairs)
    parts.append(_el("g", dots, fill="#0969da", fill_opacity=0.45))
    parts.append(_line(x(lo), y(lo), x(hi), y(hi), _INK, **_DASHED))  # on top of dense clouds
    parts.append(_text_at(left + side / 2, top + side + 40, "actual", cls="axis-title"))
    title = {"text_anchor": "middle", "class_": "axis-title"}
    parts.append(_turned(14, top + side / 2, "predicted", -90, **title))
    svg = _svg(left + side + 16, top + side + 52, "Predicted against actual values", parts)
    return svg, len(pairs), total


@functools.cache
def _template() -> jinja2.Template:
    import jinja2  # imported here so importing the gate stays cheap

    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    return env.from_string(_PAGE)


_CSS = """
:root { --ok: #1a7f37; --ok-bg: #dafbe1; --bad: #cf222e; --bad-bg: #ffebe9; --warn: #9a6700;
  --warn-bg: #fff8c5; --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--ink); font: 15px/1.55 var(--sans); }
main { max-width: 1080px; margin: 0 auto; padding: 36px 32px 48px; }
h1 { font-size: 26px; line-height: 1.25; margin: 2px 0 6px; }
h2 { font-size: 19px; margin: 0 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
section { margin: 0 0 40px; }
.muted { color: var(--muted); } p { margin: 0 0 10px; }
.eyebrow { color: var(--muted); font-size: 13px; text-transform: uppercase;
  letter-spacing: .06em; margin: 0; }
.banner { display: flex; gap: 20px; align-items: center; padding: 22px 26px; margin-bottom: 20px;
  border-radius: 12px; border: 1px solid var(--line); background: var(--soft); }
.banner.passed, .badge.passed { background: var(--ok-bg); border-color: #aceebb; }
.banner.failed, .badge.failed { background: var(--bad-bg); border-color: #ffcecb; }
.mark { flex: none; width: 56px; height: 56px; border-radius: 50%; display: grid;
  place-items: center; font-size: 30px; font-weight: 700; color: #fff; background: var(--muted); }
.passed .mark, .tick.passed { background: var(--ok); }
.failed .mark, .tick.failed { background: var(--bad); }
.verdict { font-weight: 800; letter-spacing: .05em; margin-right: 10px; }
.passed .verdict { color: var(--ok); } .failed .verdict { color: var(--bad); }
.summary { font-size: 16px; margin: 0; } h3 { font-size: 15px; margin: 0 0 8px; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr));
  gap: 14px 28px; margin: 0 0 36px; padding: 0 4px; }
dt { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
table.compact { width: auto; min-width: 60%; }
th, td { text-align: left; vertical-align: top; padding: 8px 10px;
  border-bottom: 1px solid var(--line); }
thead th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted);
  border-bottom: 2px solid var(--line); vertical-align: bottom; }
thead th .muted { text-transform: none; letter-spacing: 0; font-weight: 400; }
tbody th { font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px;
  overflow-wrap: anywhere; }
td.hint { color: var(--muted); }
tr.failed td, tr.error td { background: #fffafa; }
.badge { display: inline-block; white-space: nowrap; font-size: 12px; font-weight: 600;
  padding: 1px 9px; border-radius: 999px; border: 1px solid var(--line);
  background: var(--soft); color: var(--muted); }
.badge.passed { color: var(--ok); } .badge.failed { color: var(--bad); }
.badge.error { background: var(--warn-bg); color: var(--warn); border-color: #f5e0a0; }
td.below { background: var(--bad-bg); color: var(--bad); font-weight: 600; }
.comparison { display: grid; grid-template-columns: minmax(220px, 300px) 1fr; gap: 12px 32px;
  align-items: start; margin-top: 24px; }
.comparison dl { display: grid; grid-template-columns: auto 1fr; gap: 4px 16px; margin: 0; }
.comparison dt { align-self: center; } .comparison dd { font-variant-numeric: tabular-nums; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 4px 0 8px; }
svg.chart text { font: 12px var(--sans); fill: var(--muted); }
svg.chart text.strong { fill: var(--ink); font-weight: 700; }
svg.chart text.axis-title { fill: var(--ink); font-weight: 600; }
svg.chart text.halo { paint-order: stroke; stroke: #fff; stroke-width: 3px; }
svg.bar { vertical-align: middle; }
ul.checklist { list-style: none; padding: 0; margin: 0; }
ul.checklist li { display: flex; gap: 12px; padding: 10px 0; border-bottom: 1px solid var(--line); }
.tick { flex: none; width: 24px; height: 24px; border-radius: 50%; display: grid;
  place-items: center; color: #fff; font-weight: 700; background: var(--muted); font-size: 14px; }
.tick.error { background: var(--warn); }
footer { border-top: 1px solid var(--line); padding-top: 16px; color: var(--muted); }
footer dl.facts { display: flex; flex-wrap: wrap; gap: 10px 36px; margin: 0; font-size: 13px; }
@media (max-width: 720px) { .comparison { grid-template-columns: 1fr; } }
@media print { body { font-size: 12px; } main { max-width: none; padding: 0; }
  section { margin-bottom: 24px; } thead { display: table-header-group; }
  tr, li, svg, .comparison { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
"""

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ css }}</style>
</head>
<body>
<main>
{% macro badge(status, icon, word) %}
<span class="badge {{ status }}">
{%- if icon %}<span aria-hidden="true">{{ icon }}</span> {% endif %}{{ word }}</span>
{%- endmacro %}
<section class="banner {{ verdict }}" aria-label="Verdict">
  <div class="mark" aria-hidden="true">{{ verdict_icon }}</div>
  <div>
    <p class="eyebrow">Acceptance gate{% if run_id %} · run #{{ run_id }}{% endif %}</p>
    <h1><span class="verdict">{{ verdict | upper }}</span> {{ model }}</h1>
    <p class="summary">{{ summary }}</p>
  </div>
</section>
<dl class="facts">
{% for label, value in facts %}
  <div><dt>{{ label }}</dt><dd>{{ value }}</dd></div>
{% endfor %}
</dl>
<section aria-labelledby="checks-title">
<h2 id="checks-title">Checks</h2>
{% if checks %}
<table>
<thead><tr><th scope="col">Status</th><th scope="col">Check</th><th scope="col">Category</th>
<th scope="col">Result</th><th scope="col">What to do</th><th scope="col" class="num">Time</th>
</tr></thead>
<tbody>
{% for c in checks %}
<tr class="{{ c.status }}"><td>{{ badge(c.status, c.icon, c.status) }}</td>
<td class="name">{{ c.name }}</td><td>{{ c.category }}</td><td>{{ c.message }}</td>
<td class="hint">{{ c.hint }}</td><td class="num">{{ c.duration }}</td></tr>
{% endfor %}
</tbody>
</table>
{% else %}
<p class="muted">No checks ran.</p>
{% endif %}
</section>
<section aria-labelledby="metrics-title">
<h2 id="metrics-title">Metrics on the gold set</h2>
{% if metrics %}
<table class="compact">
<thead><tr><th scope="col">Metric</th><th scope="col" class="num">Candidate {{ candidate }}</th>
{% if champion %}
<th scope="col" class="num">Champion {{ champion }}</th>
<th scope="col" class="num">Difference<br><span class="muted">candidate &minus; champion</span></th>
{% endif %}
</tr></thead>
<tbody>
{% for m in metrics %}
<tr><th scope="row">{{ m.name }}</th><td class="num">{{ m.candidate }}</td>
{% if champion %}
<td class="num">{{ m.champion }}</td><td class="num">{{ m.difference }}</td>
{% endif %}
</tr>
{% endfor %}
</tbody>
</table>
{% else %}
<p class="muted">No metrics were computed in this run; the checks above say why.</p>
{% endif %}
{% if comparison %}
<div class="comparison">
  <div>
    <h3>Non-inferiority against champion {{ comparison.champion }}
    {%- if comparison.deployments %} ({{ comparison.deployments }}){% endif %}
    {% if comparison.status %}{{ badge(comparison.status, comparison.icon, comparison.status) }}
    {% endif %}</h3>
    <dl>
    {% for label, value in comparison.facts %}<dt>{{ label }}</dt><dd>{{ value }}</dd>
    {% endfor %}
    </dl>
  </div>
  <div>
    {% if comparison.svg %}{{ comparison.svg }}{% endif %}
    <p class="muted">The dot is the candidate's improvement over the champion, the bar its
    confidence interval. The candidate is acceptable when the whole bar stays right of the
    dashed limit.</p>
    {% if comparison.message %}<p>{{ comparison.message }}</p>{% endif %}
  </div>
</div>
{% if comparison.others %}
<h3>Other deployments' champions</h3>
<p class="muted">Compared as well; the strictest comparison, above, decides.</p>
<table class="compact">
<thead><tr><th scope="col">Champion</th><th scope="col">Deployments</th>
<th scope="col">Status</th><th scope="col" class="num">Improvement</th>
<th scope="col" class="num">Interval</th></tr></thead>
<tbody>
{% for o in comparison.others %}
<tr><th scope="row">{{ o.version }}</th><td>{{ o.deployments }}</td>
<td>{{ badge(o.status, o.icon, o.status) if o.status else "—" }}</td>
<td class="num">{{ o.improvement }}</td><td class="num">{{ o.interval }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{% endif %}
</section>
{% if segments %}
<section aria-labelledby="segments-title">
<h2 id="segments-title">Segments by {{ segments.column }}</h2>
<table class="compact">
<thead><tr><th scope="col">{{ segments.column }}</th><th scope="col" class="num">Rows</th>
{% for name, floor in segments.headers %}
<th scope="col" class="num">{{ name }}
{%- if floor %}<br><span class="muted">{{ floor }}</span>{% endif %}</th>
{% endfor %}
</tr></thead>
<tbody>
{% for r in segments.rows %}
<tr><th scope="row">{{ r.value }}</th><td class="num">{{ r.rows }}</td>
{% for cell in r.cells %}
<td class="num{{ ' below' if cell.below }}">{{ cell.text }}
{%- if cell.below %} <span class="badge failed">below</span>{% endif %}</td>
{% endfor %}
</tr>
{% endfor %}
</tbody>
</table>
</section>
{% endif %}
{% if latency %}
<section aria-labelledby="latency-title">
<h2 id="latency-title">Latency</h2>
<table class="compact">
<thead><tr><th scope="col">Percentile</th><th scope="col" class="num">Measured</th>
<th scope="col" class="num">Budget</th><th scope="col">Status</th>
<th scope="col">Against the budget</th></tr></thead>
<tbody>
{% for r in latency.rows %}
<tr><th scope="row">{{ r.label }}</th><td class="num">{{ r.value }}</td>
<td class="num">{{ latency.budget }}</td>
<td>{{ badge(r.status, r.icon, r.word) if r.status else "—" }}</td>
<td>{{ r.bar if r.bar else "" }}</td></tr>
{% endfor %}
</tbody>
</table>
{% if latency.rounds %}
<p>p99 of each of the {{ latency.rounds }} rounds: {{ latency.round_p99s }}
{%- if latency.spread %} (
{%- for key, value in latency.spread %}{{ key }} {{ value }}{{ ", " if not loop.last }}
{%- endfor %}){% endif %}.</p>
{% endif %}
<p class="muted">Measured over {{ latency.samples }} single-row predictions
{%- if latency.rounds %} in {{ latency.rounds }} rounds, with the model's math libraries on one
thread; the median round's p99 is held to the budget{% else %}; the gate holds p99 to the
budget{% endif %}. The black mark on each bar is the budget.</p>
</section>
{% endif %}
{% if plot %}
<section aria-labelledby="plot-title">
<h2 id="plot-title">{{ plot.title }}</h2>
{{ plot.svg }}
<p class="muted">{{ plot.caption }}</p>
</section>
{% endif %}
{% if handover %}
<section aria-labelledby="handover-title">
<h2 id="handover-title">Hand-over checklist</h2>
<ul class="checklist">
{% for c in handover %}
<li><span class="tick {{ c.status }}" aria-hidden="true">{{ c.icon }}</span>
<div><strong>{{ c.name }}</strong> {{ badge(c.status, "", c.status) }}
{% if c.message %}<br>{{ c.message }}{% endif %}
{% if c.hint and c.status != "passed" %}
<br><span class="muted">What to do: {{ c.hint }}</span>
{% endif %}
</div></li>
{% endfor %}
</ul>
</section>
{% endif %}
<footer>
<dl class="facts">
{% for label, value in footer %}
  <div><dt>{{ label }}</dt><dd>{{ value }}</dd></div>
{% endfor %}
</dl>
</footer>
</main>
</body>
</html>
"""
