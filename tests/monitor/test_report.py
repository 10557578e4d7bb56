"""The drift report: self-contained, escaped, a plot per feature and a verdict on top."""

from __future__ import annotations

import re

import pandas as pd

from lightkeeper.monitor.drift import drift_from_data
from lightkeeper.monitor.report import render_html

HOSTILE = '<script>alert("x")</script>'


def _report() -> dict:
    reference = pd.DataFrame(
        {"score": [float(i % 50) for i in range(400)], "city": ["a", "b"] * 200}
    )
    current = pd.DataFrame(
        {"score": [float(i % 50) + 30 for i in range(400)], "city": ["a", HOSTILE] * 200}
    )
    return drift_from_data(reference, current, categorical=["city"]).to_dict()


def _assert_self_contained(html: str) -> None:
    assert "<script" not in html and "<link" not in html
    assert not re.search(r"\b(src|href)\s*=", html)
    assert "http://" not in html and "https://" not in html and "url(" not in html


def test_drifted_features_are_named_on_top_and_plotted() -> None:
    html = render_html("Drift of today", [("rows", "400")], _report())

    _assert_self_contained(html)
    assert '<section class="banner drift" aria-label="Verdict">' in html
    assert "2 of 2 features drifted: score, city." in html
    assert html.count('<svg class="chart histogram"') == 2
    assert html.count('<span class="badge drift">drift</span>') == 4  # table and plot, twice
    assert "&lt;script&gt;" in html
    assert '<span class="key drifted"></span>' in html


def test_output_drift_and_unreferenced_versions_are_reported() -> None:
    report = _report()
    outputs = {"2": report["features"][0], "3": {"method": None}}
    html = render_html("Drift of today", [], report, outputs)

    assert "The model output drifted (output of v2)." in html
    assert html.count("<svg") == 3
    assert "No reference for the output of version(s) 3" in html


def test_an_empty_window_says_so_without_tables() -> None:
    html = render_html("Drift of nothing", [("window", "1h")], None)

    _assert_self_contained(html)
    assert '<section class="banner nodata"' in html
    assert "No predictions in this window: nothing to compare." in html
    assert "Features" not in html and "<svg" not in html
