"""Labels joined to predictions, and performance per window: measured and estimated."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import accuracy_score

from lightkeeper import Lightkeeper
from lightkeeper.errors import InvalidInput
from lightkeeper.testing import OPERATOR, credit_gold
from lightkeeper.web.api import build_api
from support import log_rows

END = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
AT = END - timedelta(hours=2)


def outcomes(frame: pd.DataFrame, *, flip: bool = False) -> pd.DataFrame:
    """The request ids log_rows gave the rows, with their true outcome."""
    truth = 1 - frame["defaulted"] if flip else frame["defaulted"]
    ids = [f"r{AT:%H%M}-{i}" for i in range(len(frame))]
    return pd.DataFrame({"request_id": ids, "defaulted": truth.to_numpy()})


def test_labels_by_request_id_give_the_measured_and_an_estimated_accuracy(
    lk: Lightkeeper,
) -> None:
    rows = credit_gold(900, seed=50)
    log_rows(lk, rows, at=AT)
    done = lk.labels.ingest("credit-online", outcomes(rows), by=OPERATOR)
    assert (done.joined_by, done.matched, done.unmatched) == ("request id", 900, 0)
    result = lk.performance.run("credit-online", end=END, by=OPERATOR)
    predicted = lk.load("credit", 1).predict(rows[["income", "age", "region"]])
    expected = accuracy_score(rows["defaulted"], predicted)
    measured = result.result["measured"]
    assert measured["all"]["metrics"]["accuracy"] == pytest.approx(expected, abs=1e-12)
    assert measured["1"]["rows"] == 900 and "f1" in measured["1"]["metrics"]
    assert (result.status, result.value, result.result["metric"]) == (
        "ok",
        pytest.approx(expected),
        "accuracy",
    )
    assert result.result["level"] == 0.6  # the gate's accuracy min
    estimated = result.result["estimated"]
    assert estimated["rows"] == 900 and abs(estimated["accuracy"] - expected) < 0.06
    assert estimated["calibrated_on"].startswith("credit-gold v1")
    [event] = lk.audit_entries(kind="performance.checked")
    assert event.payload["status"] == "ok" and not event.payload["estimated"]


def test_wrong_outcomes_degrade_and_labelling_again_replaces(lk: Lightkeeper) -> None:
    rows = credit_gold(600, seed=51)
    log_rows(lk, rows, at=AT)
    lk.labels.ingest("credit-online", outcomes(rows, flip=True), by=OPERATOR)
    worse = lk.performance.run("credit-online", end=END, by=OPERATOR)
    assert worse.status == "degraded" and worse.value is not None and worse.value < 0.5
    again = lk.labels.ingest("credit-online", outcomes(rows), by=OPERATOR)
    assert again.matched == 600 and lk.stores.labels.count("credit-online") == 600
    assert lk.performance.run("credit-online", end=END, by=OPERATOR).status == "ok"


def test_without_labels_the_estimate_is_the_value_and_says_so(lk: Lightkeeper) -> None:
    log_rows(lk, credit_gold(500, seed=52), at=AT)
    result = lk.performance.run("credit-online", end=END, by=OPERATOR)
    assert result.rows == 0 and result.result["value_is_estimate"]
    assert result.value == pytest.approx(result.result["estimated"]["accuracy"])
    empty = lk.performance.run("credit-online", window="30m", end=END, by=OPERATOR)
    assert (empty.status, empty.value) == ("no data", None)


def test_labels_that_cannot_be_joined_are_refused_or_counted(lk: Lightkeeper) -> None:
    rows = credit_gold(50, seed=53)
    log_rows(lk, rows, at=AT)
    labels = outcomes(rows)
    with pytest.raises(InvalidInput, match="no column 'outcome'"):
        lk.labels.ingest("credit-online", labels, label="outcome", by=OPERATOR)
    with pytest.raises(InvalidInput, match="no request_id column"):
        lk.labels.ingest("credit-online", labels.drop(columns="request_id"), by=OPERATOR)
    stray = labels.assign(request_id=[f"x{i}" for i in range(50)])
    with pytest.raises(InvalidInput, match="none of the 50 labels matched"):
        lk.labels.ingest("credit-online", stray, by=OPERATOR)
    partly = pd.concat([labels.iloc[:40], stray.iloc[40:]], ignore_index=True)
    partly.loc[0, "defaulted"] = None
    done = lk.labels.ingest("credit-online", partly, by=OPERATOR)
    assert (done.matched, done.unmatched, done.missing_label) == (39, 10, 1)
    assert done.examples[0] == "request x40 row 0"


def test_the_cli_ingests_a_file_and_reports_performance(
    cli, lk: Lightkeeper, tmp_path: Path
) -> None:
    rows = credit_gold(300, seed=54)
    log_rows(lk, rows, at=AT)
    path = tmp_path / "outcomes.csv"
    outcomes(rows).iloc[:250].assign(
        request_id=lambda f: f["request_id"].where(f.index < 240, "nobody")
    ).to_csv(path, index=False)
    code, text, _ = cli("labels", "ingest", "credit-online", str(path))
    assert code == 1 and "240 of 250 labels joined" in text and "10 matched no prediction" in text
    code, text, _ = cli(
        "monitor", "performance", "credit-online", "--end", END.isoformat(), "--json"
    )
    result = json.loads(text)
    assert code == 0 and result["kind"] == "performance" and result["rows"] == 240
    code, text, _ = cli("monitor", "performance", "credit-online", "--end", END.isoformat())
    assert code == 0 and "measured" in text and "estimated (confidence)" in text
    code, _, err = cli("labels", "ingest", "credit-online")
    assert code == 2 and "as a FILE or as --sql" in err


def test_the_api_takes_labels_and_checks_performance(lk: Lightkeeper, serve) -> None:
    import httpx

    rows = credit_gold(200, seed=55)
    log_rows(lk, rows, at=AT)
    base = serve(build_api(lk))
    with httpx.Client(base_url=f"{base}/api/v1/deployments/credit-online", timeout=30) as http:
        labels = outcomes(rows).to_dict(orient="records")
        made = http.post("/labels", json={"rows": labels})
        assert made.status_code == 201 and made.json()["matched"] == 200
        bad = http.post("/labels", json={"rows": [{"nobody": 1}]})
        assert bad.status_code == 422 and "no column 'defaulted'" in bad.text
        checked = http.post(
            "/monitor-results", json={"kind": "performance", "window": "1d", "end": END.isoformat()}
        )
        assert checked.status_code == 201 and checked.json()["kind"] == "performance"
        assert checked.json()["rows"] == 200


def test_labels_take_the_type_of_the_outputs_and_repeats_are_counted(lk: Lightkeeper) -> None:
    rows = credit_gold(120, seed=56)
    log_rows(lk, rows, at=AT)
    labels = outcomes(rows)
    labels["defaulted"] = labels["defaulted"].map({0: "0", 1: "1"})  # text from a CSV export
    repeated = pd.concat([labels, labels.iloc[:5]], ignore_index=True)
    done = lk.labels.ingest("credit-online", repeated, by=OPERATOR)
    assert (done.matched, done.unmatched, done.duplicates) == (120, 0, 5)
    result = lk.performance.run("credit-online", end=END, by=OPERATOR)
    assert result.status in ("ok", "degraded") and result.result["measured"]["all"]["metrics"]
    with pytest.raises(InvalidInput, match="cannot be compared with the model's outputs"):
        lk.labels.ingest("credit-online", labels.assign(defaulted="yes"), by=OPERATOR)


def test_date_keys_match_however_they_are_written() -> None:
    from datetime import datetime as dt

    from lightkeeper.logstore.store import key_text as _text

    forms = ["2015-01-01", "2015-01-01 00:00:00", "2015-01-01T00:00:00.000", dt(2015, 1, 1)]
    assert {_text(f) for f in forms} == {"2015-01-01T00:00:00"}
    assert {_text(7), _text(7.0), _text("7")} == {"7"}


def test_a_loss_is_judged_against_the_gates_max() -> None:
    from lightkeeper.manifest import parse_manifest
    from lightkeeper.monitor.performance import _headline
    from support import TINY_MANIFEST

    base = TINY_MANIFEST.format(name="m", module="x").replace("type: int\n", "type: float\n")
    gated = base + "gate:\n  gold: g\n  metrics:\n    - {name: roc_auc, min: 0.7}\n"
    assert _headline(parse_manifest(gated), "classification") == ("accuracy", None, True)
    regression = base + "gate:\n  gold: g\n  metrics:\n    - {name: rmse, max: 5}\n"
    assert _headline(parse_manifest(regression), "regression") == ("rmse", 5.0, False)
    wrong = gated + "monitoring:\n  metric: roc_auc\n"
    with pytest.raises(InvalidInput, match="cannot be measured from labels"):
        _headline(parse_manifest(wrong), "classification")
