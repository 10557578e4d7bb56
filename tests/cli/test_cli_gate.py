"""Gold, gate and token commands through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lightkeeper.testing import credit_gold, credit_project


@pytest.fixture
def run(cli):
    """The shared in-process CLI runner."""
    return cli


@pytest.mark.both_databases
def test_gold_gate_and_hand_over_from_the_command_line(run, tmp_path: Path) -> None:
    project = credit_project(tmp_path)
    gold = tmp_path / "gold.csv"
    credit_gold().to_csv(gold, index=False)

    code, out, err = run("tokens", "create", "--name", "root", "--role", "admin", "--json")
    assert code == 0, err
    root = json.loads(out)["token"]
    tokens = {}
    for name, role in [("ana", "data-scientist"), ("olga", "operator"), ("bea", "owner")]:
        code, out, err = run(
            "tokens", "create", "--name", name, "--role", role, "--json", token=root
        )
        assert code == 0, err
        tokens[name] = json.loads(out)["token"]
    code, _, err = run("tokens", "create", "--name", "x", "--role", "boss", token=root)
    assert code == 2 and "'boss' is not a role" in err

    code, out, err = run("train", str(project), token=tokens["ana"])
    assert code == 0, err
    add = (
        "gold",
        "add",
        "credit-gold",
        str(gold),
        "--owner",
        "risk-desk",
        "--label-column",
        "defaulted",
        "--segment-column",
        "region",
        "--project",
        str(project),
    )
    code, out, err = run(*add, token=tokens["bea"])
    assert code == 0 and "added credit-gold version 1" in out, err
    code, out, _ = run(*add, token=tokens["bea"])
    assert "unchanged" in out
    code, _, err = run("gold", "approve", "credit-gold", "1", token=tokens["ana"])
    assert code == 2 and "LK-PERMISSION-DENIED" in err and "owner" in err
    code, out, err = run("gold", "approve", "credit-gold", "1", "--note", "Q3", token=tokens["bea"])
    assert code == 0 and "approved credit-gold version 1 by bea" in out
    code, out, _ = run("gold", "list", "--json")
    assert json.loads(out)["gold"][0]["approved_by"] == "bea"
    code, out, _ = run("gold", "show", "credit-gold", "1")
    assert code == 0 and "region" in out

    code, out, err = run("gate", "run", "credit", "1", token=tokens["ana"])
    assert code == 0, out + err
    assert "gate PASSED" in out and "next: an operator accepts" in out
    code, out, _ = run("gate", "show", "credit", "1", "--json")
    shown = json.loads(out)
    assert shown["verdict"] == "passed" and shown["signoff"] is None
    code, out, _ = run("gate", "show", "credit", "1")
    assert "compared with: no champion: the model has no deployment" in out
    header = next(line for line in out.splitlines() if line.startswith("status\t"))
    assert header.split("\t") == ["status", "check", "result", "what to do", "time"]
    times = {
        line.split("\t")[1]: line.split("\t")[4]
        for line in out.splitlines()
        if line.startswith(("passed\t", "failed\t", "skipped\t"))
    }
    assert times["smoke:load-and-predict"].endswith((" ms", " s"))
    assert times["latency:p99"].endswith((" ms", " s")) and "-" not in times.values()
    assert "latency p99 per round (ms): " in out and "one thread" in out
    code, _, err = run("gate", "run", "credit", "1", "--deployment", "nope", token=tokens["ana"])
    assert code == 2 and "LK-DEPLOYMENT-NOT-FOUND" in err and "'nope'" in err

    code, _, err = run("gate", "accept", "credit", "1", token=tokens["ana"])
    assert code == 2 and "LK-PERMISSION-DENIED" in err and "Traceback" not in err
    code, out, err = run("gate", "accept", "credit", "1", token=tokens["olga"])
    assert code == 0 and "accepted gate run 1 of credit version 1 by olga (operator)" in out
    code, out, _ = run("audit", "--kind", "gate", "--json")
    assert [e["kind"] for e in json.loads(out)["entries"]] == ["gate.signed_off", "gate.passed"]

    code, out, _ = run("tokens", "list", "--json", token=root)
    assert {t["name"] for t in json.loads(out)["tokens"]} == {"root", "ana", "olga", "bea"}
    assert "token" not in json.loads(out)["tokens"][0]


def test_failed_gate_exits_1_and_override_needs_a_reason(run, tmp_path: Path) -> None:
    project = credit_project(tmp_path, drop=("runbook", "alarms"))
    gold = tmp_path / "gold.csv"
    credit_gold().to_csv(gold, index=False)
    assert run("train", str(project))[0] == 0
    run(
        "gold",
        "add",
        "credit-gold",
        str(gold),
        "--owner",
        "o",
        "--label-column",
        "defaulted",
        "--project",
        str(project),
    )
    run("gold", "approve", "credit-gold", "1")
    code, out, _ = run("gate", "run", "credit", "latest")
    assert (
        code == 1
        and "gate FAILED" in out
        and "handover:runbook" in out
        and "handover:alarms" in out
    )
    code, _, err = run("gate", "accept", "credit", "1")
    assert code == 2 and "LK-GATE-SIGNOFF-REFUSED" in err and "--override" in err
    code, _, err = run("gate", "accept", "credit", "1", "--override")
    assert code == 2 and "needs a reason" in err
    code, out, _ = run("gate", "accept", "credit", "1", "--override", "--reason", "runbook in wiki")
    assert code == 0 and "overridden" in out


def test_auth_on_without_token_is_refused(run, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LIGHTKEEPER_AUTH", "true")
    code, _, err = run("gold", "list")
    assert code == 0  # reads need no principal from the CLI's own database access
    code, _, err = run("train", str(credit_project(tmp_path)))
    assert code == 2 and "LK-UNAUTHENTICATED" in err and "LIGHTKEEPER_TOKEN" in err
    code, _, err = run("gate", "show", "nope", "1", token="lk_bogus")
    assert code == 2 and ("LK-UNAUTHENTICATED" in err or "LK-MODEL-NOT-FOUND" in err)
