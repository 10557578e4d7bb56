"""Inline SVG charts for the package's HTML reports and pages.

Charts are drawn here rather than by a script library, so a page reads offline, prints
well and carries no JavaScript. Every value goes through :class:`markupsafe.Markup`
formatting, so a feature named ``<script>`` is only text. Each function takes plain
numbers and labels and returns ``Markup`` to drop into a template, or None when there is
nothing to draw. Colours are set on the elements, so a chart keeps them on any page; the
text styles come from ``svg.chart`` in ``static/report.css``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple

from markupsafe import Markup

__all__ = [
    "ACCENT",
    "BAD",
    "GOOD",
    "NEUTRAL",
    "Series",
    "Tone",
    "bullet",
    "heatmap",
    "histogram",
    "interval",
    "scatter",
]

# The same colours as --ok, --bad and the legend keys of static/report.css.
GOOD, BAD, ACCENT, NEUTRAL = "#1a7f37", "#cf222e", "#0969da", "#8c959f"
_INK, _MUTED, _LINE, _GRID = "#1f2328", "#57606a", "#d0d7de", "#eaeef2"
_DASHED = {"stroke_width": 1.5, "stroke_dasharray": "5 4"}
_MINUS = "\u2212"  # a real minus sign: as wide as the plus, so signed labels line up

Tone = Literal["good", "bad", "neutral"]
_TONE_COLOUR = {"good": GOOD, "bad": BAD, "neutral": ACCENT}


class Series(NamedTuple):
    """One named row of values (one per label), drawn in one colour."""

    name: str
    values: Sequence[float]
    colour: str


def interval(
    estimate: float | None,
    low: float | None,
    high: float | None,
    *,
    title: str,
    limit: float | None = None,
    tone: Tone = "neutral",
    fmt: Callable[[float], str] | None = None,
) -> Markup | None:
    """A difference as a dot, its confidence interval as a bar, against zero and a limit.

    Args:
        estimate: the measured difference (the dot).
        low: the lower end of the interval.
        high: the upper end of the interval.
        title: the accessible name of the chart.
        limit: the lowest acceptable difference, drawn dashed with a shaded region left of it.
        tone: colours the dot and the bar.
        fmt: formats the value labels; signed with three decimals by default.
    """
    shown = [value for value in (estimate, low, high) if value is not None]
    if not shown:
        return None
    label = fmt or _signed
    values = [*shown, 0.0] + ([limit] if limit is not None else [])
    pad = (max(values) - min(values)) * 0.08 or 0.01
    lo, hi = min(values) - pad, max(values) + pad
    width, axis = 640.0, 82.0
    x = _scale(lo, hi, 100, width - 100)
    colour = _TONE_COLOUR[tone]
    parts: list[Markup] = []
    if limit is not None:
        parts.append(
            _el("rect", x=x(lo), y=24, width=x(limit) - x(lo), height=axis - 24, fill="#ffebe9")
        )
        parts.append(_line(x(limit), 22, x(limit), axis, BAD, **_DASHED))
        parts.append(_text_at(x(limit) - 5, 16, f"limit {label(limit)}", "end"))
    parts.append(_line(x(0.0), 22, x(0.0), axis, _MUTED))
    parts.append(_text_at(x(0.0) + 5, 16, "no change", "start"))
    if low is not None and high is not None:
        ends = f"M{x(low):.1f} 50 H{x(high):.1f} M{x(low):.1f} 44 V56 M{x(high):.1f} 44 V56"
        parts.append(_el("path", d=ends, stroke=colour, stroke_width=3, fill="none"))
        parts.append(_text_at(x(low) - 8, 54, label(low), "end"))
        parts.append(_text_at(x(high) + 8, 54, label(high), "start"))
    if estimate is not None:
        dot = {"cx": x(estimate), "cy": 50, "r": 6.5, "stroke": "#fff", "stroke_width": 2}
        parts.append(_el("circle", fill=colour, **dot))
        parts.append(_text_at(x(estimate), 36, label(estimate), cls="strong"))
    ticks, step = _nice_ticks(lo, hi)
    parts.append(_line(100, axis, width - 100, axis, _LINE))
    for tick in ticks:
        parts.append(_line(x(tick), axis, x(tick), axis + 5, _LINE))
        parts.append(_text_at(x(tick), axis + 18, _fmt_tick(tick, step)))
    return _frame(width, 104, title, parts)


def bullet(value: float | None, target: float | None, *, tone: Tone) -> Markup | None:
    """A small bar of ``value`` with a black mark at ``target``, to sit in a table cell."""
    if value is None or target is None or target <= 0:
        return None
    x = _scale(0, max(value, target) * 1.05, 0, 180)
    body = (
        _el("rect", width=180, height=14, rx=3, fill="#f6f8fa", stroke=_LINE)
        + _el("rect", width=max(x(value), 2.0), height=14, rx=3, fill=_TONE_COLOUR[tone])
        + _line(x(target), 0, x(target), 14, _INK, stroke_width=2)
    )
    size = {"viewBox": "0 0 180 14", "width": 180, "height": 14}
    return _el("svg", body, class_="bar", aria_hidden="true", **size)


def heatmap(
    matrix: Sequence[Sequence[float]],
    labels: Sequence[str],
    *,
    title: str,
    x_title: str,
    y_title: str,
) -> Markup | None:
    """A square matrix of counts, each cell shaded by its share of the row.

    Args:
        matrix: counts, one row per label, one column per label (a confusion matrix).
        labels: the names of the rows and columns; their positions when the count differs.
        title: the accessible name of the chart.
        x_title: what the columns are, e.g. ``"predicted"``.
        y_title: what the rows are, e.g. ``"actual"``.
    """
    n = len(matrix)
    if n == 0 or any(len(row) != n for row in matrix):
        return None
    names = [str(label) for label in labels] if len(labels) == n else [str(i) for i in range(n)]
    short = [name if len(name) <= 16 else name[:15] + "\u2026" for name in names]
    cell = max(24, min(72, 480 // n))
    longest = max(len(name) for name in short) * 7.0
    left, level = 40 + longest, all(len(name) * 7.0 <= cell - 6 for name in short)
    top = 44.0 if level else 34 + longest * 0.72
    axis_title = {"text_anchor": "middle", "class_": "axis-title"}
    parts = [
        _text_at(left + n * cell / 2, 14, x_title, cls="axis-title"),
        _turned(14, top + n * cell / 2, y_title, -90, **axis_title),
    ]
    for j, name in enumerate(short):
        cx = left + j * cell + cell / 2
        parts.append(_text_at(cx, top - 8, name) if level else _turned(cx, top - 6, name, -45))
    for i, row in enumerate(matrix):
        parts.append(_text_at(left - 8, top + i * cell + cell / 2 + 4, short[i], "end"))
        for j, count in enumerate(row):
            share = count / (sum(row) or 1.0)
            where = f"{y_title} {names[i]}, {x_title} {names[j]}"
            tip = f"{where}: {_fmt_count(count)} ({share:.0%})"
            parts.append(_cell(left + j * cell, top + i * cell, cell, count, share, tip))
    return _frame(left + n * cell + 12, top + n * cell + 12, title, parts)


def scatter(
    points: Sequence[tuple[float, float]],
    *,
    title: str,
    x_title: str,
    y_title: str,
    diagonal: bool = True,
) -> Markup | None:
    """Points on two axes sharing one scale, with the dashed ``y = x`` line when ``diagonal``."""
    if not points:
        return None
    values = [value for point in points for value in point]
    pad = (max(values) - min(values)) * 0.04 or 1.0
    lo, hi = min(values) - pad, max(values) + pad
    left, top, side = 64.0, 16.0, 420.0
    x, y = _scale(lo, hi, left, left + side), _scale(lo, hi, top + side, top)
    ticks, step = _nice_ticks(lo, hi)
    parts = [_el("rect", x=left, y=top, width=side, height=side, fill="#fff", stroke=_LINE)]
    for tick in ticks:
        grid = f"M{x(tick):.1f} {top} V{top + side} M{left} {y(tick):.1f} H{left + side}"
        parts.append(_el("path", d=grid, stroke=_GRID))
        parts.append(_text_at(x(tick), top + side + 18, _fmt_tick(tick, step)))
        parts.append(_text_at(left - 8, y(tick) + 4, _fmt_tick(tick, step), "end"))
    dots = Markup("").join(_el("circle", cx=x(a), cy=y(b), r=2.5) for a, b in points)
    parts.append(_el("g", dots, fill=ACCENT, fill_opacity=0.45))
    if diagonal:  # drawn after the dots so it stays visible over a dense cloud
        parts.append(_line(x(lo), y(lo), x(hi), y(hi), _INK, **_DASHED))
    parts.append(_text_at(left + side / 2, top + side + 40, x_title, cls="axis-title"))
    axis_title = {"text_anchor": "middle", "class_": "axis-title"}
    parts.append(_turned(14, top + side / 2, y_title, -90, **axis_title))
    return _frame(left + side + 16, top + side + 52, title, parts)


def histogram(
    labels: Sequence[str], series: Sequence[Series], *, title: str, max_bars: int = 24
) -> Markup | None:
    """Shares (0 to 1) per bin or category, one bar per series side by side in each slot.

    Bins beyond ``max_bars`` are summed into the last slot, labelled "N more".
    """
    if not labels or not series:
        return None
    names = [str(label) for label in labels]
    rows = [[float(value) for value in item.values] for item in series]
    if len(names) > max_bars:
        keep = max_bars - 1
        names = [*names[:keep], f"{len(names) - keep} more"]
        rows = [[*row[:keep], sum(row[keep:])] for row in rows]
    top = max([value for row in rows for value in row] + [1e-9])
    slot = max(16.0, min(34.0, 400.0 / len(names)))
    bar, height, base, left = slot * 0.76 / len(rows), 150.0, 176.0, 44.0
    every = max(1, round(24 / slot))  # label every bin while they fit, else every n-th
    width = left + slot * len(names) + 12
    parts: list[Markup] = []
    for tick in (0.0, top / 2, top):
        y = base - tick / top * height
        parts.append(_el("line", x1=left, y1=y, x2=width - 8, y2=y, stroke=_GRID))
        parts.append(_el("text", f"{tick:.0%}", x=left - 6, y=y + 4, text_anchor="end"))
    for i, name in enumerate(names):
        x = left + i * slot + slot * 0.1
        for k, (item, row) in enumerate(zip(series, rows, strict=True)):
            h = row[i] / top * height
            tip = _el("title", f"{name}: {item.name} {row[i]:.1%}")
            box = {"x": x + k * (bar + 1), "y": base - h, "width": bar, "height": max(h, 0.5)}
            parts.append(_el("rect", tip, **box, fill=item.colour))
        if i % every == 0 or i == len(names) - 1:
            short = name if len(name) <= 12 else name[:11] + "\u2026"
            at = {"x": x + bar, "y": base + 12, "text_anchor": "end"}
            turn = f"rotate(-40 {x + bar:.1f} {base + 12:.1f})"
            parts.append(_el("text", short, **at, transform=turn))
    return _frame(width, base + 78, title, parts, kind="histogram")


# Escaped SVG elements and the small pieces the charts share.


def _el(tag: str, content: str = "", /, **attrs: object) -> Markup:
    """One SVG element: ``stroke_width=2`` becomes ``stroke-width="2"``; all escaped."""
    rendered = Markup("").join(
        Markup(' {}="{}"').format(
            name.rstrip("_").replace("_", "-"),
            f"{value:.1f}".removesuffix(".0") if isinstance(value, float) else value,
        )
        for name, value in attrs.items()
        if value is not None
    )
    if not content:
        return Markup("<{}{}/>").format(Markup(tag), rendered)
    return Markup("<{0}{1}>{2}</{0}>").format(Markup(tag), rendered, content)


def _frame(width: float, height: float, title: str, parts: list[Markup], kind: str = "") -> Markup:
    """An ``<svg class="chart">`` of the given size with an accessible title."""
    body = _el("title", title) + Markup("").join(parts)
    size = {"width": round(width), "height": round(height)}
    box = f"0 0 {size['width']} {size['height']}"
    css = f"chart {kind}".strip()
    return _el("svg", body, class_=css, viewBox=box, role="img", aria_label=title, **size)


def _text_at(x: float, y: float, text: str, anchor: str = "middle", cls: str = "") -> Markup:
    return _el("text", text, x=x, y=y, text_anchor=anchor, class_=f"halo {cls}".strip())


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, **attrs: object) -> Markup:
    return _el("line", x1=x1, y1=y1, x2=x2, y2=y2, stroke=stroke, **attrs)


def _turned(x: float, y: float, text: str, angle: int, **attrs: object) -> Markup:
    turn = f"translate({x:.1f} {y:.1f}) rotate({angle})"
    return _el("text", text, transform=turn, **attrs)


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


def _fmt_tick(value: float, step: float) -> str:
    decimals = len(f"{step:.9f}".rstrip("0").partition(".")[2])
    text = f"{value:.{decimals}f}"
    return ("0" if float(text) == 0 else text).replace("-", _MINUS)


def _fmt_count(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:.2f}"


def _signed(value: float) -> str:
    return f"{value:+,.3f}".replace("-", _MINUS)
