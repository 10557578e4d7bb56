"""The shared charts: escaped inline SVG, None when there is nothing to draw, pinned shapes."""

from __future__ import annotations

import re

from markupsafe import Markup

from lightkeeper import charts

HOSTILE = '<script>alert("x")</script>'


def test_histogram_draws_one_bar_per_series_and_label_and_escapes_names() -> None:
    series = [
        charts.Series("reference", [0.5, 0.5], charts.NEUTRAL),
        charts.Series("current", [0.25, 0.75], charts.BAD),
    ]
    svg = charts.histogram(["low", HOSTILE], series, title=f"share of {HOSTILE}")

    assert isinstance(svg, Markup)
    assert svg.startswith('<svg class="chart histogram" viewBox="0 0 124 254"')
    assert svg.count("<rect") == 4
    assert svg.count(f'fill="{charts.BAD}"') == 2
    assert "<title>low: current 25.0%</title>" in svg
    assert "<script" not in svg and "&lt;script&gt;" in svg
    assert ">75%</text>" in svg  # the top tick is the largest share


def test_histogram_folds_labels_beyond_the_limit_into_one() -> None:
    labels = [f"c{i}" for i in range(30)]
    series = [charts.Series("current", [1 / 30] * 30, charts.ACCENT)]
    svg = charts.histogram(labels, series, title="many", max_bars=24)

    assert svg is not None and svg.count("<rect") == 24
    assert "<title>7 more: current 23.3%</title>" in svg


def test_interval_marks_the_limit_and_formats_with_the_given_function() -> None:
    svg = charts.interval(
        0.02, -0.005, 0.045, title="improvement", limit=-0.02, tone="good", fmt=lambda v: f"[{v}]"
    )

    assert svg is not None and 'aria-label="improvement"' in svg
    assert "limit [-0.02]" in svg and ">[0.02]</text>" in svg and "no change" in svg
    assert svg.count(f'fill="{charts.GOOD}"') == 1 and 'stroke-dasharray="5 4"' in svg
    assert charts.interval(None, None, None, title="nothing") is None


def test_bullet_puts_the_target_mark_where_it_belongs() -> None:
    svg = charts.bullet(25.0, 50.0, tone="bad")

    assert svg is not None and svg.startswith('<svg class="bar" aria-hidden="true"')
    assert '<rect width="85.7" height="14" rx="3" fill="#cf222e"/>' in svg
    assert '<line x1="171.4" y1="0" x2="171.4" y2="14"' in svg
    assert charts.bullet(None, 50.0, tone="good") is None
    assert charts.bullet(10.0, 0.0, tone="good") is None


def test_heatmap_shades_by_row_share_and_refuses_a_ragged_matrix() -> None:
    svg = charts.heatmap(
        [[3, 1], [0, 4]], ["no", "yes"], title="matrix", x_title="predicted", y_title="actual"
    )

    assert svg is not None and svg.count("<rect") == 4
    assert "<title>actual no, predicted yes: 1 (25%)</title>" in svg
    assert "rgb(9,80,170)" in svg  # the full row share is the darkest shade
    ragged = charts.heatmap([[1, 2], [3]], ["a", "b"], title="x", x_title="p", y_title="a")
    assert ragged is None
    unlabelled = charts.heatmap([[1]], [], title="x", x_title="p", y_title="a")
    assert unlabelled is not None and "<title>a 0, p 0: 1 (100%)</title>" in unlabelled


def test_scatter_draws_every_point_and_the_diagonal() -> None:
    points = [(float(i), float(i) + 0.5) for i in range(10)]
    svg = charts.scatter(points, title="fit", x_title="actual", y_title="predicted")

    assert svg is not None and svg.count("<circle") == 10
    assert 'stroke-dasharray="5 4"' in svg
    assert re.search(r">actual</text>", svg) and re.search(r">predicted</text>", svg)
    plain = charts.scatter(points, title="fit", x_title="a", y_title="b", diagonal=False)
    assert plain is not None and "stroke-dasharray" not in plain
    assert charts.scatter([], title="fit", x_title="a", y_title="b") is None
