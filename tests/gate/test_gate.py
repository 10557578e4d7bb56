"""The acceptance gate end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm

from lightkeeper import (
    DeploymentNotFound,
    GateNotAccepted,
    GateSignoffRefused,
    InvalidInput,
    Lightkeeper,
    PermissionDenied,
)
from lightkeeper.testing import ANALYST, OPERATOR, OWNER, credit_gold, credit_project


def add_gold(
    lk: Lightkeeper, project: Path, tmp_path: Path, *, approve: bool = True, frame=None
) -> None:
    """Add (from a CSV file, or the given frame) and approve the credit gold set."""
    data = frame
    if data is None:
        data = tmp_path / "gold.csv"
        credit_gold().to_csv(data, index=False)
    version, _ = lk.gold.add(
        "credit-gold",
        data,
        owner="risk-desk",
        label_column="defaulted",
        segment_column="region",
        project_dir=project,
        by=OWNER,
    )
    if approve:
        lk.gold.approve("credit-gold", version.version, by=OWNER)


def champion(lk: Lightkeeper, version: int, deployment: str = "credit-online") -> None:
    """Make ``version`` the champion of ``deployment`` (created when missing).

    The release record is written straight to the store (no gate run of its own needed):
    the gate reads each deployment's champion from its desired state.
    """
    if deployment not in {d.name for d in lk.stores.deployments.all()}:
        lk.releases.create(deployment, model="credit", kind="online", by=OPERATOR)
    newest = lk.stores.deployments.history(deployment, limit=1)
    lk.stores.deployments.add(
        deployment,
        based_on=newest[0].id if newest else None,
        action="release",
        champion=version,
        challenger=None,
        strategy="direct",
        percent=None,
        gate_run_id=None,
        actor="test",
        reason="a champion for the gate to compare with",
    )


def checks(run) -> dict[str, dict]:
    return {c["name"]: c for c in run.result["checks"]}


@pytest.mark.both_databases
def test_a_good_model_passes_and_an_operator_accepts(lk: Lightkeeper, tmp_path: Path) -> None:
    project = credit_project(tmp_path)
    add_gold(lk, project, tmp_path)
    first = lk.training.train(project, by=ANALYST)
    champion(lk, first.version)
    second = lk.training.train(project, by=ANALYST)

    run = lk.gate.run("credit", second.version, by=ANALYST)
    assert run.verdict == "passed", [c for c in run.result["checks"] if c["status"] == "failed"]
    by_name = checks(run)
    assert by_name["smoke:load-and-predict"]["status"] == "passed"
    assert by_name["contract:input-schema"]["status"] == "passed"
    mistakes = by_name["contract:input-schema"]["details"]["client_mistakes"]
    assert len(mistakes) == 3 * 8  # every field, every mistake: refused (all reject here)
    assert {m["outcome"] for m in mistakes if m["field"] != "region"} == {"refused"}
    assert by_name["non-inferiority:accuracy"]["status"] == "passed"
    assert by_name["segment:region:accuracy"]["status"] == "passed"
    assert by_name["latency:p99"]["status"] == "passed"
    assert by_name["gold:approved"]["status"] == "passed"
    assert {c["category"] for c in run.result["checks"]} >= {"handover", "quality", "smoke"}
    comparison = run.result["comparison"]
    assert comparison["improvement"] == pytest.approx(0.0, abs=1e-12)  # same training, same model
    [compared] = run.result["champions"]
    assert (compared["version"], compared["deployments"]) == (first.version, ["credit-online"])
    assert run.compared_with("credit-online", first.version)
    assert set(run.result["segments"]["values"]) == {"north", "south", "east"}
    timings = run.result["timings"]
    assert 0 < timings["predict_s"] < timings["total_s"]
    working = ["gold:approved", "smoke:load-and-predict", "contract:input-schema"]
    working += ["latency:p99", "metric:accuracy", "non-inferiority:accuracy"]
    working += ["segment:region:accuracy", "handover:owner"]
    assert all(by_name[name]["duration_s"] > 0 for name in working), by_name
    assert sum(c["duration_s"] for c in run.result["checks"]) < timings["total_s"]
    latency = run.result["latency"]
    assert len(latency["rounds"]) == 5 and all(r["samples"] > 0 for r in latency["rounds"])
    assert latency["p99_ms"] == sorted(r["p99_ms"] for r in latency["rounds"])[2]
    assert by_name["latency:p99"]["details"]["p99_spread_ms"] == latency["p99_spread_ms"]

    report = Path(run.report_path)
    assert report.is_file() and "PASSED" in report.read_text().upper()
    twin = json.loads((report.parent / "report.json").read_text())
    assert twin["verdict"] == "passed" and twin["id"] == run.id

    tags = lk.version("credit", second.version).tags
    assert tags["lightkeeper.gate.verdict"] == "passed"
    assert tags["lightkeeper.gate.run_id"] == str(run.id)

    with pytest.raises(GateNotAccepted, match="is not accepted"):
        lk.gate.require_accepted("credit", second.version)
    with pytest.raises(PermissionDenied, match="data-scientist, who may not gate accept"):
        lk.gate.accept("credit", second.version, by=ANALYST)
    accepted = lk.gate.accept("credit", second.version, by=OPERATOR)
    assert accepted.signoff is not None and accepted.signoff.decision == "accepted"
    assert lk.gate.require_accepted("credit", second.version).actor == "olga"
    kinds = [e.kind for e in lk.audit_entries(subject="model:credit")]
    assert kinds[:2] == ["gate.signed_off", "gate.passed"]


def test_metrics_equal_scikit_learn(lk: Lightkeeper, tmp_path: Path) -> None:
    project = credit_project(tmp_path)
    add_gold(lk, project, tmp_path)
    info = lk.training.train(project, by=ANALYST)
    run = lk.gate.run("credit", info.version, by=ANALYST)
    gold = credit_gold()
    predictor = lk.load("credit", info.version)
    predicted = predictor.predict(gold)
    proba = predictor.predict_proba(gold)[:, 1]
    y = gold["defaulted"].to_numpy()
    values = run.result["metrics"]
    assert values["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted), abs=1e-12)
    assert values["f1"] == pytest.approx(skm.f1_score(y, predicted), abs=1e-12)
    assert values["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba), abs=1e-12)
    assert values["log_loss"] == pytest.approx(skm.log_loss(y, proba), abs=1e-9)
    assert values["brier"] == pytest.approx(skm.brier_score_loss(y, proba), abs=1e-12)
    matrix = np.array(run.result["plots"]["confusion_matrix"]["matrix"])
    assert matrix.sum() == len(gold)


def test_a_model_worse_than_the_champion_fails(
    lk: Lightkeeper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = credit_project(tmp_path, min_accuracy=0.3, segment_min=0.0)
    add_gold(lk, project, tmp_path)
    champion(lk, lk.training.train(project, by=ANALYST).version)
    monkeypatch.setenv("CREDIT_LABEL_NOISE", "0.45")
    worse = lk.training.train(project, by=ANALYST)
    run = lk.gate.run("credit", worse.version, by=ANALYST)
    assert run.verdict == "failed"
    check = checks(run)["non-inferiority:accuracy"]
    assert check["status"] == "failed"
    assert check["details"]["low"] < -0.02
    assert "allowed drop 0.020" in check["message"] or "0.02" in check["message"]

    with pytest.raises(GateSignoffRefused, match=r"failed .*non-inferiority:accuracy"):
        lk.gate.accept("credit", worse.version, by=OPERATOR)
    with pytest.raises(GateSignoffRefused, match="an override needs a reason"):
        lk.gate.accept("credit", worse.version, override=True, by=OPERATOR)
    with pytest.raises(PermissionDenied):
        lk.gate.accept("credit", worse.version, override=True, reason="urgent", by=ANALYST)
    overridden = lk.gate.accept(
        "credit",
        worse.version,
        override=True,
        reason="regulator deadline; retrain Monday",
        by=OPERATOR,
    )
    assert overridden.signoff.decision == "overridden"
    assert lk.gate.require_accepted("credit", worse.version).reason.startswith("regulator deadline")
    [entry] = lk.audit_entries(kind="gate.signed_off")
    assert (entry.actor, entry.reason) == ("olga", "regulator deadline; retrain Monday")


def test_a_model_that_fails_in_a_fresh_process_fails_smoke_with_a_report(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    # The transformer raises on batches the size of the gold set only: it
    # predicts in the notebook and breaks on the gold set.
    extra = (
        "def fragile(X):\n"
        "        if 1000 <= len(X) <= 2000:\n"
        "            raise RuntimeError('feature store connection lost')\n"
        "        return X\n"
        "    steps.insert(0, FunctionTransformer(fragile))"
    )
    project = credit_project(tmp_path, extra=extra)
    add_gold(lk, project, tmp_path)
    info = lk.training.train(project, by=ANALYST)
    run = lk.gate.run("credit", info.version, by=ANALYST)
    assert run.verdict == "failed"
    smoke = checks(run)["smoke:load-and-predict"]
    assert smoke["status"] == "failed"
    assert "feature store connection lost" in smoke["message"]
    assert run.result["metrics"] is None
    assert Path(run.report_path).is_file()


def test_a_model_that_needs_notebook_state_fails_smoke(lk: Lightkeeper, tmp_path: Path) -> None:
    # The model uses a class from a helper module that only existed while training ran
    # (think: a notebook cell), so it cannot load anywhere else.
    helper = tmp_path / "scratch"
    extra = (
        "import importlib, pathlib, sys\n"
        f"    scratch = pathlib.Path({str(helper)!r})\n"
        "    scratch.mkdir(exist_ok=True)\n"
        "    (scratch / 'notebook_cell.py').write_text("
        "'class Clip:\\n    def fit(self, X, y=None):\\n        return self\\n"
        "    def transform(self, X):\\n        return X\\n')\n"
        "    sys.path.insert(0, str(scratch))\n"
        "    Clip = importlib.import_module('notebook_cell').Clip\n"
        "    steps.insert(0, Clip())"
    )
    project = credit_project(tmp_path, extra=extra)
    add_gold(lk, project, tmp_path)
    info = lk.training.train(project, by=ANALYST)
    (helper / "notebook_cell.py").unlink()
    run = lk.gate.run("credit", info.version, by=ANALYST)
    smoke = checks(run)["smoke:load-and-predict"]
    assert run.verdict == "failed" and smoke["status"] == "failed"
    assert "load failed" in smoke["message"] and "notebook_cell" in smoke["message"]
    assert Path(run.report_path).is_file()


def test_project_code_ships_with_the_model(lk: Lightkeeper, tmp_path: Path) -> None:
    """A transformer defined in the project's own module loads in the fresh process."""
    extra = "steps.insert(0, __import__('helpers').Identity())"
    project = credit_project(tmp_path, extra=extra)
    (project / "helpers.py").write_text(
        "class Identity:\n"
        "    def fit(self, X, y=None):\n        return self\n"
        "    def transform(self, X):\n        return X\n"
    )
    add_gold(lk, project, tmp_path)
    info = lk.training.train(project, by=ANALYST)
    run = lk.gate.run("credit", info.version, by=ANALYST)
    assert checks(run)["smoke:load-and-predict"]["status"] == "passed"


def test_a_project_without_runbook_fails_the_checklist(lk: Lightkeeper, tmp_path: Path) -> None:
    project = credit_project(tmp_path, drop=("runbook", "alarms"))
    add_gold(lk, project, tmp_path)
    info = lk.training.train(project, by=ANALYST)
    run = lk.gate.run("credit", info.version, by=ANALYST)
    assert run.verdict == "failed"
    runbook = checks(run)["handover:runbook"]
    assert runbook["status"] == "failed"
    assert "no runbook" in runbook["message"]
    assert "runbook:" in runbook["hint"] and "first_action" in runbook["hint"]
    assert checks(run)["handover:alarms"]["status"] == "failed"
    assert checks(run)["handover:support-plan"]["status"] == "passed"


def test_unapproved_gold_and_latency_budget_fail(lk: Lightkeeper, tmp_path: Path) -> None:
    project = credit_project(tmp_path, latency=0.000001)
    add_gold(lk, project, tmp_path, approve=False)
    info = lk.training.train(project, by=ANALYST)
    run = lk.gate.run("credit", info.version, by=ANALYST)
    assert checks(run)["gold:approved"]["status"] == "failed"
    assert "lightkeeper gold approve credit-gold 1" in checks(run)["gold:approved"]["hint"]
    assert checks(run)["latency:p99"]["status"] == "failed"
    assert run.result["latency"]["samples"] > 0


def test_missing_gold_dataset_is_a_failed_check(lk: Lightkeeper, tmp_path: Path) -> None:
    project = credit_project(tmp_path)
    info = lk.training.train(project, by=ANALYST)
    run = lk.gate.run("credit", info.version, by=ANALYST)
    assert run.verdict == "failed"
    assert "lightkeeper gold add credit-gold" in checks(run)["gold:dataset"]["hint"]


def test_a_newer_failed_run_withdraws_the_acceptance(lk: Lightkeeper, tmp_path: Path) -> None:
    project = credit_project(tmp_path)
    add_gold(lk, project, tmp_path)
    info = lk.training.train(project, by=ANALYST)
    lk.gate.run("credit", info.version, by=ANALYST)
    lk.gate.accept("credit", info.version, by=OPERATOR)
    assert lk.gate.require_accepted("credit", info.version).decision == "accepted"
    # the business corrects its gold set; the new labels make the model fail its threshold
    wrong = credit_gold().assign(defaulted=lambda f: 1 - f["defaulted"])
    add_gold(lk, project, tmp_path, frame=wrong)
    rerun = lk.gate.run("credit", info.version, by=ANALYST)
    assert rerun.verdict == "failed"
    with pytest.raises(GateNotAccepted, match=r"newest gate run .* failed\) .* is not accepted"):
        lk.gate.require_accepted("credit", info.version)


def test_a_champion_that_cannot_be_scored_fails_the_comparison(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    helper = tmp_path / "scratch"
    extra = (
        "import importlib, pathlib, sys\n"
        f"    scratch = pathlib.Path({str(helper)!r})\n"
        "    scratch.mkdir(exist_ok=True)\n"
        "    (scratch / 'cell2.py').write_text("
        "'class Keep:\\n    def fit(self, X, y=None):\\n        return self\\n"
        "    def transform(self, X):\\n        return X\\n')\n"
        "    sys.path.insert(0, str(scratch))\n"
        "    steps.insert(0, importlib.import_module('cell2').Keep())"
    )
    broken = credit_project(tmp_path / "a", extra=extra)
    add_gold(lk, broken, tmp_path)
    champion(lk, lk.training.train(broken, by=ANALYST).version)
    (helper / "cell2.py").unlink()
    candidate = lk.training.train(credit_project(tmp_path / "b"), by=ANALYST)
    run = lk.gate.run("credit", candidate.version, by=ANALYST)
    check = checks(run)["non-inferiority:accuracy"]
    assert run.verdict == "failed" and check["status"] == "failed"
    assert "could not be scored" in check["message"] and "cell2" in check["message"]


def test_a_segment_minimum_that_cannot_be_computed_fails(lk: Lightkeeper, tmp_path: Path) -> None:
    project = credit_project(tmp_path)
    manifest = project / "lightkeeper.yaml"
    manifest.write_text(manifest.read_text().replace("      accuracy: 0.5", "      roc_auc: 0.5"))
    add_gold(lk, project, tmp_path)
    info = lk.training.train(project, by=ANALYST)
    gold = credit_gold()
    # one region where every gold row has the same label: roc_auc is undefined there
    gold.loc[gold["region"] == "east", "defaulted"] = 0
    add_gold(lk, project, tmp_path, frame=gold)
    run = lk.gate.run("credit", info.version, by=ANALYST)
    check = checks(run)["segment:region:roc_auc"]
    assert (
        check["status"] == "failed"
        and "could not be computed in segment(s) east" in check["message"]
    )


def test_gold_that_lacks_a_feature_of_the_version_fails_cleanly(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    project = credit_project(tmp_path)
    add_gold(lk, project, tmp_path)
    manifest = project / "lightkeeper.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "input_schema:\n",
            "input_schema:\n  - name: tenure\n    type: int\n    required: false\n",
        )
    )
    (project / next(p.name for p in project.glob("credit_*.py"))).write_text(
        (project / next(p.name for p in project.glob("credit_*.py")))
        .read_text()
        .replace("return model, rows", "rows['tenure'] = 1\n    return model, rows")
    )
    info = lk.training.train(project, by=ANALYST)
    run = lk.gate.run("credit", info.version, by=ANALYST)
    assert run.verdict == "failed"
    assert "lacks column(s) tenure" in checks(run)["gold:schema"]["message"]


def test_a_better_model_than_the_champion_passes_with_a_positive_interval(
    lk: Lightkeeper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = credit_project(tmp_path, min_accuracy=0.3, segment_min=0.0)
    add_gold(lk, project, tmp_path)
    monkeypatch.setenv("CREDIT_LABEL_NOISE", "0.4")
    champion(lk, lk.training.train(project, by=ANALYST).version)
    monkeypatch.delenv("CREDIT_LABEL_NOISE")
    better = lk.training.train(project, by=ANALYST)
    run = lk.gate.run("credit", better.version, by=ANALYST)
    comparison = run.result["comparison"]
    assert run.verdict == "passed"
    assert comparison["improvement"] > 0 and comparison["low"] > 0
    assert run.result["metrics"]["accuracy"] > run.result["champion_metrics"]["accuracy"]


@pytest.mark.parametrize(
    "database_url", ["sqlite"], indirect=True
)  # about the model, not the store
def test_a_slow_model_fails_the_latency_budget_and_a_fast_one_passes(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    # 150 ms a prediction against a 100 ms budget; the plain model takes a few ms.
    slow = (
        "def slow(X):\n"
        "        import time\n"
        "        time.sleep(0.15)\n"
        "        return X\n"
        "    steps.insert(0, FunctionTransformer(slow))"
    )
    fast_project = credit_project(tmp_path / "fast", latency=100)
    add_gold(lk, fast_project, tmp_path)
    fast = lk.training.train(fast_project, by=ANALYST)
    slow_version = lk.training.train(
        credit_project(tmp_path / "slow", latency=100, extra=slow), by=ANALYST
    )

    fast_check = checks(lk.gate.run("credit", fast.version, by=ANALYST))["latency:p99"]
    slow_run = lk.gate.run("credit", slow_version.version, by=ANALYST)
    slow_check = checks(slow_run)["latency:p99"]
    assert fast_check["status"] == "passed", fast_check["message"]
    assert slow_check["status"] == "failed", slow_check["message"]
    assert "> budget 100 ms" in slow_check["message"]
    assert all(r["p99_ms"] >= 150 for r in slow_check["details"]["rounds"])
    assert slow_run.verdict == "failed"


def test_each_deployment_has_its_own_champion_and_the_strictest_decides(
    lk: Lightkeeper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = credit_project(tmp_path, min_accuracy=0.3, segment_min=0.0)
    add_gold(lk, project, tmp_path)
    good = lk.training.train(project, by=ANALYST).version
    monkeypatch.setenv("CREDIT_LABEL_NOISE", "0.45")
    noisy = lk.training.train(project, by=ANALYST).version
    candidate = lk.training.train(project, by=ANALYST).version  # as noisy as the online champion
    champion(lk, noisy, "credit-online")
    champion(lk, good, "credit-batch")
    lk.releases.create("credit-stream", model="credit", kind="stream", by=OPERATOR)  # none yet

    everywhere = lk.gate.run("credit", candidate, by=ANALYST)
    check = checks(everywhere)["non-inferiority:accuracy"]
    assert everywhere.verdict == "failed" and check["status"] == "failed"
    assert check["message"].startswith(f"champion v{good} (credit-batch): ")
    assert f"also compared with v{noisy} (credit-online): passed" in check["message"]
    assert everywhere.result["comparison"]["champion_version"] == good
    assert everywhere.result["deployment"] is None
    assert {d["name"]: d["champion"] for d in everywhere.result["deployments"]} == {
        "credit-online": noisy,
        "credit-batch": good,
        "credit-stream": None,
    }
    assert everywhere.compared_with("credit-online", noisy)
    assert everywhere.compared_with("credit-batch", good)
    assert not everywhere.compared_with("credit-batch", noisy)
    assert not everywhere.compared_with("credit-stream", good)
    report = Path(everywhere.report_path).read_text()
    assert f"champion v{good} of credit-batch; champion v{noisy} of credit-online" in report
    assert "credit-stream: no champion yet" in report
    assert "Other deployments' champions" in report

    online = lk.gate.run("credit", candidate, deployment="credit-online", by=ANALYST)
    assert checks(online)["non-inferiority:accuracy"]["status"] == "passed"
    [compared] = online.result["champions"]
    assert (compared["version"], compared["deployments"]) == (noisy, ["credit-online"])
    assert online.result["deployment"] == "credit-online"
    assert online.compared_with("credit-online", noisy)
    assert not online.compared_with("credit-batch", good)  # this run never looked there

    # the newest champion counts: after a new release the run no longer compared with it
    champion(lk, good, "credit-online")
    latest = lk.stores.deployments.history("credit-online", limit=1)[0].champion
    assert not online.compared_with("credit-online", latest)

    with pytest.raises(DeploymentNotFound, match="no deployment named 'nope'"):
        lk.gate.run("credit", candidate, deployment="nope", by=ANALYST)
    lk.stores.deployments.create("other-online", "other-model", "online", actor="olga")
    with pytest.raises(InvalidInput, match="runs model 'other-model', not 'credit'"):
        lk.gate.run("credit", candidate, deployment="other-online", by=ANALYST)
    assert len(lk.stores.gates.list(model="credit", version=candidate)) == 2  # refused: no run


def test_the_version_that_is_a_deployments_champion_is_not_compared_with_itself(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    project = credit_project(tmp_path)
    add_gold(lk, project, tmp_path)
    info = lk.training.train(project, by=ANALYST)
    champion(lk, info.version, "credit-online")
    run = lk.gate.run("credit", info.version, deployment="credit-online", by=ANALYST)
    check = checks(run)["non-inferiority:accuracy"]
    assert check["status"] == "skipped" and "is itself the champion" in check["message"]
    assert run.result["champions"] == [] and run.verdict == "passed"
    assert not run.compared_with("credit-online", info.version)
