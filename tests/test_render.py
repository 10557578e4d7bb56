"""The one Jinja environment: autoescaped, strict, with the stylesheet inlined."""

from __future__ import annotations

import jinja2
import pytest

from lightkeeper import render


def test_pages_inline_the_stylesheet_and_escape_values() -> None:
    page = render.render(
        "drift_report.html",
        title="<b>x</b>",
        report_facts=[],
        verdict="nodata",
        verdict_icon="-",
        summary="nothing",
        features=[],
        outputs=[],
        unreferenced=[],
    )

    assert page.startswith("<!doctype html>")
    assert (render.STATIC / "report.css").read_text() in page
    assert "<link" not in page and "&lt;b&gt;x&lt;/b&gt;" in page and "<b>" not in page


def test_one_cached_environment_refuses_missing_values() -> None:
    assert render.environment() is render.environment()
    with pytest.raises(jinja2.UndefinedError, match="'title' is undefined"):
        render.render("drift_report.html")
