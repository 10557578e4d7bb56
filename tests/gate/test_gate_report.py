"""The gate report: self-contained, escaped, robust to runs that stopped early."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from lightkeeper.gate.report import render_html, write_report

HOSTILE = '<script>alert("x")</script>'
RUNBOOK_HINT = "add a runbook: section with at least one error type (code, meaning, first_action)"


def _check(name: str, category: str, status: str, message: str = "", hint: str = "") -> dict:
    return {
        "name": name,
        "category": category,
        "status": status,
        "message": message,
        "hint": hint,
        "duration_s": 0.002,
    }


@pytest.fixture
def passed_run() -> dict[str, Any]:
    """A realistic passed classification run, consistent with how the runner decides."""
    return {
        "id": 12,
        "model": "seattle-weather",
        "version": 3,
        "verdict": "passed",
        "triggered_by": "ana",
        "started_at": "2026-11-27T08:00:00+00:00",
        "finished_at": "2026-11-27T08:00:04.200000+00:00",
        "duration_s": 4.2,
        "lightkeeper_version": "0.1.0",
        "gold": {
            "name": "seattle-weather-gold",
            "version": 2,
            "hash": "sha256:ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12",
            "rows": 365,
            "approved_by": "weather-desk",
            "label_column": "weather",
            "segment_column": "season",
        },
        "task": "classification",
        "deployment": None,
        "deployments": [
            {"name": "weather-batch", "champion": 2},
            {"name": "weather-eu", "champion": 1},
            {"name": "weather-new", "champion": None},
        ],
        "champions": [
            {
                "version": 1,
                "deployments": ["weather-eu"],
                "compared": True,
                "status": "passed",
                "comparison": {"improvement": 0.05, "low": 0.02, "high": 0.08},
            },
            {"version": 2, "deployments": ["weather-batch"], "compared": True, "status": "passed"},
        ],
        "metrics": {"accuracy": 0.81, "f1_macro": 0.55, "log_loss": 0.512},
        "champion_metrics": {"accuracy": 0.79, "f1_macro": 0.52, "log_loss": 0.538},
        "comparison": {
            "metric": "accuracy",
            "candidate": 0.81,
            "champion": 0.79,
            "improvement": 0.02,
            "low": -0.005,
            "high": 0.045,
            "confidence": 0.95,
            "resamples": 1000,
            "max_drop": 0.02,
            "passed": True,
            "message": "accuracy is not worse than the champion's by more than 0.020",
            "champion_version": 2,
            "deployments": ["weather-batch"],
        },
        "segments": {
            "column": "season",
            "minimums": {"accuracy": 0.6},
            "values": {
                "winter": {"rows": 90, "metrics": {"accuracy": 0.7, "f1_macro": 0.51}},
                "spring": {"rows": 92, "metrics": {"accuracy": 0.78, "f1_macro": 0.56}},
                "summer": {"rows": 92, "metrics": {"accuracy": 0.64, "f1_macro": 0.47}},
                "autumn": {"rows": 91, "metrics": {"accuracy": 0.83, "f1_macro": 0.6}},
            },
        },
        "latency": {
            "p50_ms": 1.2,
            "p99_ms": 3.4,
            "budget_ms": 50,
            "samples": 1000,
            "rounds": [
                {"p50_ms": 1.2, "p99_ms": p99, "samples": 200} for p99 in (3.1, 3.4, 9.8, 3.3, 3.6)
            ],
            "p99_spread_ms": {"min": 3.1, "median": 3.4, "max": 9.8},
        },
        "checks": [
            _check("smoke:load", "smoke", "passed", "model loaded and predicted 365 rows"),
            _check("contract:schema", "contract", "passed", "6 input columns match the contract"),
            _check("metric:accuracy", "quality", "passed", "accuracy 0.810 >= 0.600"),
            _check("metric:f1_macro", "quality", "passed", "f1_macro 0.550 >= 0.500"),
            _check(
                "non-inferiority:accuracy",
                "comparison",
                "passed",
                "improvement +0.020, 95% CI [-0.005, +0.045] stays above -0.020",
            ),
            _check(
                "segment:season:accuracy", "segment", "passed", "accuracy >= 0.6 in all 4 segments"
            ),
            _check("latency:p99", "latency", "passed", "single-row p50 1.20 ms, p99 3.40 ms"),
            _check("handover:owner", "handover", "passed", "business owner: weather-desk"),
            _check("handover:support-plan", "handover", "passed", "on call: data-platform"),
            _check("handover:runbook", "handover", "passed", "2 error type(s): LK-1, LK-2"),
            _check("handover:alarms", "handover", "passed", "1 alarm rule(s): drift"),
            _check(
                "handover:logging",
                "handover",
                "skipped",
                "no structured logging declared; advisory for batch models",
            ),
        ],
        "plots": {
            "confusion_matrix": {
                "labels": ["drizzle", "fog", "rain", "snow", "sun"],
                "matrix": [
                    [2, 0, 1, 0, 8],
                    [0, 3, 1, 0, 21],
                    [1, 0, 150, 2, 7],
                    [0, 0, 4, 2, 1],
                    [3, 4, 6, 0, 149],
                ],
            }
        },
        "timings": {"predict_s": 0.8, "total_s": 4.2},
    }


@pytest.fixture
def failed_run(passed_run: dict[str, Any]) -> dict[str, Any]:
    """The same run, failed: no runbook, summer below its segment minimum."""
    run = json.loads(json.dumps(passed_run))
    run["verdict"] = "failed"
    run["segments"]["values"]["summer"]["metrics"]["accuracy"] = 0.55
    for check in run["checks"]:
        if check["name"] == "handover:runbook":
            check.update(status="failed", message="the manifest has no runbook", hint=RUNBOOK_HINT)
        if check["name"] == "segment:season:accuracy":
            check.update(
                status="failed", message="accuracy below 0.6 in 1 segment(s): summer 0.550"
            )
    return run


@pytest.fixture
def unloadable_run() -> dict[str, Any]:
    """A failed run whose model did not load: checks only, hostile names, nulls elsewhere."""
    return {
        "id": 13,
        "model": f"weather{HOSTILE}",
        "version": 4,
        "verdict": "failed",
        "triggered_by": f"<b>{HOSTILE}</b>",
        "started_at": "2026-11-27T09:00:00+00:00",
        "finished_at": None,
        "duration_s": 0.4,
        "lightkeeper_version": "0.1.0",
        "gold": {"name": f"gold{HOSTILE}", "version": 1, "hash": None},
        "task": None,
        "champions": [],
        "metrics": None,
        "champion_metrics": None,
        "comparison": None,
        "segments": None,
        "latency": None,
        "checks": [
            _check(
                "smoke:load",
                "smoke",
                "error",
                f"ModuleNotFoundError: no module named {HOSTILE}",
                "install the model's dependencies",
            ),
            _check(f"handover:{HOSTILE}", "handover", "failed", "missing", f"add {HOSTILE}"),
            _check("metric:accuracy", "quality", "skipped", "no predictions"),
        ],
        "plots": None,
        "timings": None,
    }


@pytest.fixture
def regression_run(passed_run: dict[str, Any]) -> dict[str, Any]:
    """A failed regression run with residuals, no champion and no segments."""
    actual = [10 + i * 0.5 for i in range(200)]
    predicted = [a + ((i * 37) % 11 - 5) * 0.6 for i, a in enumerate(actual)]
    return {
        **passed_run,
        "model": "bike-demand",
        "verdict": "failed",
        "task": "regression",
        "champions": [],
        "deployments": [],
        "metrics": {"rmse": 3.2, "mae": 2.4, "r2": float("nan")},
        "champion_metrics": None,
        "comparison": None,
        "segments": None,
        "latency": {"p50_ms": 12.0, "p99_ms": 71.5, "budget_ms": 50, "samples": 300},
        "checks": [
            _check("metric:rmse", "quality", "passed", "rmse 3.200 <= 4.000"),
            _check("latency:p99", "latency", "failed", "p99 71.5 ms > 50 ms", "profile predict"),
        ],
        "plots": {"residuals": {"predicted": [*predicted, None], "actual": [*actual, 1.0]}},
    }


def _assert_self_contained(html: str) -> None:
    assert "http://" not in html
    assert "https://" not in html
    assert not re.search(r"\b(src|href)\s*=", html)
    assert "<script" not in html
    assert "<link" not in html
    assert "@import" not in html and "url(" not in html


def test_passed_run_shows_verdict_checks_metrics_and_charts(passed_run: dict[str, Any]) -> None:
    html = render_html(passed_run)

    _assert_self_contained(html)
    assert "PASSED" in html and "FAILED" not in html
    assert "11 of 12 checks passed; skipped: handover:logging" in html
    for check in passed_run["checks"]:
        assert check["name"] in html
    assert "Champion v2" in html and "+0.020" in html
    assert "seattle-weather-gold v2 · 365 rows · approved by weather-desk" in html
    assert "2026-11-27 08:00 UTC" in html
    assert html.count("<svg") == 4  # the interval, two latency bars, the confusion matrix
    assert 'aria-label="Improvement over the champion with its confidence interval"' in html
    assert 'aria-label="Confusion matrix of the candidate on the gold set"' in html
    assert "within budget" in html and ">below<" not in html
    assert "Hand-over checklist" in html
    assert "sha256:ab12cd34" in html and "800 ms" in html
    assert (
        "champion v1 of weather-eu; champion v2 of weather-batch; weather-new: no champion yet"
    ) in html
    assert "Non-inferiority against champion v2 (weather-batch)" in html
    others = html[html.index("Other deployments' champions") : html.index('id="latency-title"')]
    assert "weather-eu" in others and "+0.050" in others and "+0.020 to +0.080" in others
    assert "weather-batch" not in others  # the decisive comparison is shown above, once
    assert "p99 of each of the 5 rounds: 3.1 ms, 3.4 ms, 9.8 ms, 3.3 ms, 3.6 ms" in html
    assert "(min 3.1 ms, median 3.4 ms, max 9.8 ms)" in html
    assert "in 5 rounds, with the model's math libraries on one" in html
    table = html[html.index('id="checks-title"') : html.index('id="metrics-title"')]
    assert table.count('<td class="num">2.0 ms</td>') == 12  # each check's own time


def test_check_durations_read_at_every_scale(passed_run: dict[str, Any]) -> None:
    times = [0.00004, 0.0004, 0.004, 0.04, 4.0, 0.0]
    for check, seconds in zip(passed_run["checks"], times, strict=False):
        check["duration_s"] = seconds
    html = render_html(passed_run)
    for shown in ("&lt;0.1 ms", "0.4 ms", "4.0 ms", "40 ms", "4.0 s", "—"):
        assert f'<td class="num">{shown}</td>' in html


def test_failed_run_lists_failures_first_with_hints_and_below_segments(
    failed_run: dict[str, Any],
) -> None:
    html = render_html(failed_run)

    _assert_self_contained(html)
    assert "FAILED" in html
    assert (
        "9 of 12 checks passed; failed: segment:season:accuracy, handover:runbook; "
        "skipped: handover:logging"
    ) in html
    table = html[html.index('id="checks-title"') : html.index('id="metrics-title"')]
    order = [table.index(name) for name in ("handover:runbook", "handover:logging", "smoke:load")]
    assert order == sorted(order)
    assert RUNBOOK_HINT in table
    assert re.search(r'0\.550 <span class="badge failed">below</span>', html)
    checklist = html[html.index('id="handover-title"') :]
    assert f"What to do: {RUNBOOK_HINT}" in checklist


def test_unloadable_model_renders_checks_only_and_escapes_hostile_names(
    unloadable_run: dict[str, Any],
) -> None:
    html = render_html(unloadable_run)

    _assert_self_contained(html)
    assert "FAILED" in html
    assert "0 of 3 checks passed; failed: handover:" in html
    assert "errors: smoke:load" in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert "No metrics were computed" in html
    assert "<svg" not in html
    for missing in ("Segments by", "Latency", "Confusion matrix", "Predicted against"):
        assert missing not in html


def test_regression_run_draws_residuals_and_tolerates_bad_numbers(
    regression_run: dict[str, Any],
) -> None:
    html = render_html(regression_run)

    _assert_self_contained(html)
    assert "FAILED" in html
    assert 'aria-label="Predicted against actual values"' in html
    assert html.count("<circle") == 200  # the None pair is dropped
    assert "n/a" in html  # r2 was NaN
    assert "over budget" in html
    assert "Champion" not in html


def test_nearly_empty_run_still_renders() -> None:
    html = render_html({"verdict": None, "checks": [{"status": "passed"}], "plots": {}})

    assert "UNKNOWN" in html
    assert "(unnamed check)" in html
    assert "1 of 1 check passed" in html


def test_write_report_writes_both_files_and_json_round_trips(
    tmp_path: Path, passed_run: dict[str, Any], unloadable_run: dict[str, Any]
) -> None:
    folder = tmp_path / "gate" / "13"
    html_path, json_path = write_report(unloadable_run, folder)

    assert (html_path, json_path) == (folder / "report.html", folder / "report.json")
    assert json.loads(json_path.read_text()) == unloadable_run
    assert "FAILED" in html_path.read_text()

    write_report(passed_run, folder)  # overwrites in place, no temporary files left over
    assert json.loads(json_path.read_text()) == passed_run
    assert sorted(path.name for path in folder.iterdir()) == ["report.html", "report.json"]


def test_write_report_turns_nan_into_null(tmp_path: Path, regression_run: dict[str, Any]) -> None:
    _, json_path = write_report(regression_run, tmp_path)

    assert json.loads(json_path.read_text())["metrics"] == {"rmse": 3.2, "mae": 2.4, "r2": None}
