"""``lightkeeper monitor drift``: drift over a window of prediction logs, stored per window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from lightkeeper import Lightkeeper
from lightkeeper.errors import DeploymentNotFound, InvalidInput, PermissionDenied, ReleaseRefused
from lightkeeper.testing import OPERATOR, OWNER, credit_gold
from lightkeeper.web.api import build_api
from support import log_rows, shifted

END = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def test_a_shifted_feature_is_found_with_the_output_and_stored(lk: Lightkeeper) -> None:
    log_rows(lk, shifted(3000, 5), at=END - timedelta(hours=5))
    log_rows(lk, credit_gold(500, seed=6), at=END - timedelta(days=3))  # outside the window
    result = lk.drift.run("credit-online", end=END, by=OPERATOR)
    assert (result.status, result.rows, result.version) == ("drift", 3000, 1)
    assert result.window_start == END - timedelta(days=1) and result.window_end == END
    features = result.result["features"]
    assert features["drifted"] == ["income"]
    assert result.value == pytest.approx(1 / 3)
    income = next(f for f in features["features"] if f["feature"] == "income")
    assert income["method"] == "wasserstein" and income["value"] > 0.5
    output = result.result["outputs"]["1"]
    assert output["reference"] == "predictions on the training rows" and output["drifted"]
    assert result.result["versions"] == {"1": 3000}
    assert lk.stores.monitors.get(result.id) == result
    [event] = lk.audit_entries(kind="drift.checked")
    assert event.payload["status"] == "drift" and event.payload["drifted"] == ["income"]
    assert event.payload["output_drifted"] == [1] and event.actor == "olga"


def test_unchanged_traffic_is_quiet_and_a_rerun_replaces_the_window(lk: Lightkeeper) -> None:
    log_rows(lk, credit_gold(2500, seed=7), at=END - timedelta(hours=2))
    log_rows(lk, shifted(400, seed=8), at=END - timedelta(hours=3), arm="shadow")  # not served
    first = lk.drift.run("credit-online", window="6h", end=END, by=OPERATOR)
    assert (first.status, first.rows) == ("ok", 2500)
    assert first.result["features"]["drifted"] == [] and not first.result["outputs"]["1"]["drifted"]
    again = lk.drift.run("credit-online", window="6h", end=END, by=OPERATOR)
    other = lk.drift.run("credit-online", window="1h", end=END, by=OPERATOR)
    assert other.status == "no data" and other.rows == 0 and other.value is None
    assert [r.id for r in lk.monitor_results("credit-online")] == [other.id, again.id]


def test_each_served_version_is_compared_with_its_own_reference(lk: Lightkeeper) -> None:
    log_rows(lk, credit_gold(800, seed=9), at=END - timedelta(hours=4), version=1)
    log_rows(lk, credit_gold(800, seed=10), at=END - timedelta(hours=3), version=2)
    result = lk.drift.run("credit-online", end=END, by=OPERATOR)
    assert result.result["versions"] == {"1": 800, "2": 800}
    assert set(result.result["outputs"]) == {"1", "2"} and result.status == "ok"


def test_bad_requests_are_refused_and_nothing_is_stored(lk: Lightkeeper) -> None:
    with pytest.raises(InvalidInput, match="'1x' is not a duration"):
        lk.drift.run("credit-online", window="1x", by=OPERATOR)
    with pytest.raises(DeploymentNotFound, match="nowhere"):
        lk.drift.run("nowhere", by=OPERATOR)
    lk.releases.create("credit-empty", model="credit", kind="online", by=OPERATOR)
    with pytest.raises(ReleaseRefused, match="no release yet"):
        lk.drift.run("credit-empty", by=OPERATOR)
    with pytest.raises(PermissionDenied, match="may not monitor run"):
        lk.drift.run("credit-online", by=OWNER)
    assert lk.monitor_results("credit-online") == []


def test_the_cli_prints_stores_and_writes_a_report(cli, lk: Lightkeeper, tmp_path: Path) -> None:
    log_rows(lk, shifted(1500, 11), at=END - timedelta(hours=1))
    report = tmp_path / "drift.html"
    args = ("monitor", "drift", "credit-online", "--window", "1d", "--end", END.isoformat())
    code, text, _ = cli(*args, "--html", str(report))
    assert code == 1 and "DRIFT" in text and "income" in text and "report written" in text
    page = report.read_text()
    assert page.count("<svg") == 4 and "income" in page and "<script" not in page
    code, text, _ = cli("monitor", "results", "credit-online", "--json")
    [stored] = json.loads(text)["results"]
    assert code == 0 and stored["status"] == "drift" and stored["rows"] == 1500
    code, text, _ = cli("monitor", "show", str(stored["id"]), "--json")
    assert code == 0 and json.loads(text)["result"]["features"]["drifted"] == ["income"]
    code, _, err = cli("monitor", "show", "999")
    assert code == 2 and "LK-MONITOR-RESULT-NOT-FOUND" in err
    code, _, err = cli("monitor", "drift", "credit-online", "--end", "yesterday")
    assert code == 2 and "not an ISO 8601" in err
    code, _, err = cli(*args, "--html", str(tmp_path))
    assert code == 2 and "is a folder" in err


def test_the_api_checks_lists_and_renders(lk: Lightkeeper, serve) -> None:
    log_rows(lk, credit_gold(600, seed=12), at=END - timedelta(hours=1))
    base = serve(build_api(lk))
    with httpx.Client(base_url=f"{base}/api/v1", timeout=30) as http:
        made = http.post(
            "/deployments/credit-online/monitor-results",
            json={"window": "2h", "end": END.isoformat()},
        )
        assert made.status_code == 201, made.text
        assert made.json()["status"] == "ok" and made.json()["rows"] == 600
        listed = http.get("/deployments/credit-online/monitor-results").json()["results"]
        assert [r["id"] for r in listed] == [made.json()["id"]]
        page = http.get(f"/monitor-results/{made.json()['id']}/report")
        assert page.status_code == 200 and "None of the 3 features drifted" in page.text
        missing = http.get("/monitor-results/999")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "LK-MONITOR-RESULT-NOT-FOUND"
        bad = http.post("/deployments/credit-online/monitor-results", json={"window": "soon"})
        assert bad.status_code == 422 and "not a duration" in bad.text
