"""A drift report as one self-contained HTML page: a table of verdicts and a plot per feature.

The page reads offline: inline CSS, charts as inline SVG (reference and current share
per bin or category, side by side), no scripts or network references. It renders the
JSON form of a report (a stored monitor result or an ad-hoc comparison), so the JSON is
the page's twin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from lightkeeper.svg import chart, element

if TYPE_CHECKING:
    import jinja2

    from lightkeeper.store.monitors import MonitorResult

__all__ = ["render_html", "render_result"]

_REFERENCE, _CURRENT, _DRIFTED = "#8c959f", "#0969da", "#cf222e"
_MAX_BARS = 24  # categories beyond this are summed into the last bar


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
        "css": Markup(_CSS),
        "title": title,
        "facts": facts,
        "verdict": verdict,
        "summary": summary,
        "features": [_feature(f) for f in rows],
        "outputs": [_feature(f) for f in output_rows],
        "unreferenced": [v for v, r in (outputs or {}).items() if not r.get("method")],
    }
    return _template().render(context)


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
        "rows": f"{raw.get('reference_rows', 0):,} / {raw.get('current_rows', 0):,}",
        "psi": _fmt(stats.get("psi")),
        "missing": _fmt(stats.get("missing_share")),
        "plot": _bars(str(raw.get("feature")), raw.get("histogram"), bool(raw.get("drifted"))),
        "reference": raw.get("reference"),
    }


def _fmt(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _bars(name: str, histogram: Mapping[str, Any] | None, drifted: bool) -> Markup | None:
    """Reference (grey) and current (blue, red when drifted) share per bin, side by side."""
    if not histogram or not histogram.get("labels"):
        return None
    labels = [str(v) for v in histogram["labels"]]
    reference = [float(v) for v in histogram["reference"]]
    current = [float(v) for v in histogram["current"]]
    if len(labels) > _MAX_BARS:
        keep = _MAX_BARS - 1
        labels = [*labels[:keep], f"{len(labels) - keep} more"]
        reference = [*reference[:keep], sum(reference[keep:])]
        current = [*current[:keep], sum(current[keep:])]
    top = max([*reference, *current, 1e-9])
    slot = max(16.0, min(34.0, 400.0 / len(labels)))
    bar, height, base, left = slot * 0.38, 150.0, 176.0, 44.0
    every = max(1, round(24 / slot))  # label every bin while they fit, else every n-th
    width = left + slot * len(labels) + 12
    parts: list[Markup] = []
    for tick in (0.0, top / 2, top):
        y = base - tick / top * height
        parts.append(element("line", x1=left, y1=y, x2=width - 8, y2=y, stroke="#eaeef2"))
        parts.append(element("text", f"{tick:.0%}", x=left - 6, y=y + 4, text_anchor="end"))
    colour = _DRIFTED if drifted else _CURRENT
    for i, (label, ref, cur) in enumerate(zip(labels, reference, current, strict=True)):
        x = left + i * slot + slot * 0.1
        sides = ((0.0, ref, _REFERENCE, "reference"), (bar + 1, cur, colour, "current"))
        for offset, share, fill, who in sides:
            h = share / top * height
            tip = element("title", f"{label}: {who} {share:.1%}")
            parts.append(
                element(
                    "rect", tip, x=x + offset, y=base - h, width=bar, height=max(h, 0.5), fill=fill
                )
            )
        if i % every == 0 or i == len(labels) - 1:
            short = label if len(label) <= 12 else label[:11] + "…"
            at = f"{x + bar:.1f} {base + 12:.1f}"
            parts.append(
                element(
                    "text",
                    short,
                    x=x + bar,
                    y=base + 12,
                    text_anchor="end",
                    transform=f"rotate(-40 {at})",
                )
            )
    return chart(width, base + 78, f"Share per bin of {name}: reference and current", parts)


def _template() -> jinja2.Template:
    import jinja2  # imported here so importing the monitor stays cheap

    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    return env.from_string(_PAGE)


_CSS = """
:root { --ok: #1a7f37; --ok-bg: #dafbe1; --bad: #cf222e; --bad-bg: #ffebe9; --ink: #1f2328;
  --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); font: 15px/1.55 var(--sans); }
main { max-width: 1080px; margin: 0 auto; padding: 36px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 6px; } h2 { font-size: 19px; margin: 32px 0 12px;
  padding-bottom: 6px; border-bottom: 1px solid var(--line); } h3 { font-size: 15px; margin: 0; }
.banner { padding: 18px 22px; margin: 16px 0 20px; border-radius: 12px;
  border: 1px solid var(--line); background: var(--soft); font-size: 16px; }
.banner.ok { background: var(--ok-bg); border-color: #aceebb; }
.banner.drift { background: var(--bad-bg); border-color: #ffcecb; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr));
  gap: 10px 28px; margin: 0; }
dt { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); }
thead th { font-size: 12px; text-transform: uppercase; color: var(--muted); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { font-size: 12px; font-weight: 600; padding: 1px 9px; border-radius: 999px;
  border: 1px solid var(--line); background: var(--soft); color: var(--muted); }
.badge.drift { color: var(--bad); background: var(--bad-bg); }
.badge.ok { color: var(--ok); background: var(--ok-bg); }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 28px; }
figure { margin: 0; } figcaption { display: flex; gap: 10px; align-items: baseline; }
.legend { color: var(--muted); font-size: 13px; }
.key { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg.chart text { font: 11px var(--sans); fill: var(--muted); }
@media print { tr, figure { break-inside: avoid; } }
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
<h1>{{ title }}</h1>
<dl class="facts">
{% for label, value in facts %}
<div><dt>{{ label }}</dt><dd>{{ value }}</dd></div>
{% endfor %}
</dl>
<div class="banner {{ verdict }}">{{ summary }}</div>
{% if features %}
<h2>Features</h2>
<table>
<thead><tr><th>feature</th><th>kind</th><th class="num">rows ref / cur</th><th>method</th>
<th class="num">value</th><th class="num">threshold</th><th>verdict</th><th class="num">PSI</th>
<th class="num">missing</th></tr></thead>
<tbody>
{% for f in features + outputs %}
<tr><th>{{ f.name }}</th><td>{{ f.kind }}</td><td class="num">{{ f.rows }}</td>
<td>{{ f.method }}</td><td class="num">{{ f.value }}</td><td class="num">{{ f.threshold }}</td>
<td><span class="badge {{ f.verdict }}">{{ f.verdict }}</span></td>
<td class="num">{{ f.psi }}</td><td class="num">{{ f.missing }}</td></tr>
{% endfor %}
</tbody>
</table>
<h2>Distributions</h2>
<p class="legend">Share of values per reference bin (numbers) or category:
<span class="key" style="background: #8c959f"></span>reference
<span class="key" style="background: #0969da"></span>current
<span class="key" style="background: #cf222e"></span>current, drifted</p>
<div class="plots">
{% for f in features + outputs %}
{% if f.plot %}
<figure><figcaption><h3>{{ f.name }}</h3>
<span class="badge {{ f.verdict }}">{{ f.verdict }}</span>
{% if f.reference %}<span class="legend">reference: {{ f.reference }}</span>{% endif %}
</figcaption>{{ f.plot }}</figure>
{% endif %}
{% endfor %}
</div>
{% endif %}
{% if unreferenced %}
<p class="legend">No reference for the output of version(s) {{ unreferenced | join(", ") }}:
they were registered without training predictions or labels.</p>
{% endif %}
</main>
</body>
</html>
"""
