"""Inline SVG for the self-contained HTML reports, built from escaped elements.

Charts are drawn in Python rather than by a script library, so a report reads offline,
prints well and carries no JavaScript; every value passes through
:class:`markupsafe.Markup` formatting, so a feature named ``<script>`` is only text.
"""

from __future__ import annotations

from markupsafe import Markup


def element(tag: str, content: str = "", /, **attrs: object) -> Markup:
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


def chart(width: float, height: float, label: str, parts: list[Markup]) -> Markup:
    """An ``<svg class="chart">`` of the given size with an accessible title."""
    body = element("title", label) + Markup("").join(parts)
    size = {"width": round(width), "height": round(height)}
    box = f"0 0 {size['width']} {size['height']}"
    return element("svg", body, class_="chart", viewBox=box, role="img", aria_label=label, **size)
