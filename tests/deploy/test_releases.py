"""Deployments and releases: gate rule, strategies, one-step rollback, aliases, audit."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "gate"))
from gate_project import gold_frame, write_project

from lightkeeper import (
    DeploymentNotFound,
    GateNotAccepted,
    InvalidInput,
    Lightkeeper,
    PermissionDenied,
    ReleaseRefused,
)
from lightkeeper.auth import Principal
from lightkeeper.registry import deployment_alias

ANA = Principal("ana", "data-scientist")
OPS = Principal("olga", "operator")


def accepted_versions(lk: Lightkeeper, tmp_path: Path, count: int) -> list[int]:
    """Train ``count`` versions of the credit model, each through the gate and accepted."""
    project = write_project(tmp_path)
    lk.gold_add(
        "credit-gold",
        gold_frame(600),
        owner="risk",
        label_column="defaulted",
        segment_column="region",
        project_dir=project,
        by=OPS.__class__("bea", "owner"),
    )
    lk.gold_approve("credit-gold", 1, by=Principal("bea", "owner"))
    versions = []
    for _ in range(count):
        number = lk.train(project, by=ANA).version
        lk.gate_run("credit", number, by=ANA)
        lk.gate_accept("credit", number, by=OPS)
        versions.append(number)
    return versions


def aliases(lk: Lightkeeper) -> dict[str, int]:
    return lk.registry.get_model("credit").aliases


def test_release_canary_promote_and_rollback(lk: Lightkeeper, tmp_path: Path) -> None:
    v1, v2, v3 = accepted_versions(lk, tmp_path, 3)
    with pytest.raises(PermissionDenied):
        lk.deployment_create("credit-online", model="credit", kind="online", by=ANA)
    lk.deployment_create("credit-online", model="credit", kind="online", by=OPS)

    with pytest.raises(ReleaseRefused, match="no champion yet"):
        lk.release("credit-online", v1, strategy="canary", percent=10, reason="try", by=OPS)
    first = lk.release("credit-online", v1, reason="first release", by=OPS)
    assert (first.champion, first.challenger, first.gate_run_id) == (v1, None, 1)
    assert aliases(lk) == {"champion-credit-online": v1}

    canary = lk.release("credit-online", v2, strategy="canary", percent=10, reason="canary", by=OPS)
    assert (canary.champion, canary.challenger, canary.percent) == (v1, v2, 10.0)
    assert aliases(lk) == {"champion-credit-online": v1, "challenger-credit-online": v2}

    dropped = lk.rollback("credit-online", reason="errors on canary", by=OPS)
    assert (dropped.champion, dropped.challenger, dropped.action) == (v1, None, "rollback")
    assert aliases(lk) == {"champion-credit-online": v1}

    lk.release("credit-online", v2, strategy="shadow", reason="shadow first", by=OPS)
    promoted = lk.promote("credit-online", reason="shadow looked fine", by=OPS)
    assert (promoted.champion, promoted.challenger) == (v2, None)
    lk.release("credit-online", v3, reason="v3 direct", by=OPS)
    assert aliases(lk) == {"champion-credit-online": v3}

    back = lk.rollback("credit-online", by=OPS)
    assert back.champion == v2 and aliases(lk) == {"champion-credit-online": v2}
    back_again = lk.rollback("credit-online", by=OPS)
    assert back_again.champion == v1
    with pytest.raises(ReleaseRefused, match="only one champion"):
        lk.rollback("credit-online", by=OPS)

    history = lk.deploy_store.history("credit-online")
    assert [r.action for r in history][:3] == ["rollback", "rollback", "release"]
    entries = lk.audit_entries(subject="deployment:credit-online")
    assert len(entries) == len(history)
    assert entries[-1].reason == "first release" and entries[-1].actor == "olga"


def test_release_is_refused_without_an_accepted_gate(lk: Lightkeeper, tmp_path: Path) -> None:
    [v1] = accepted_versions(lk, tmp_path, 1)
    lk.deployment_create("credit-batch", model="credit", kind="batch", by=OPS)
    project = write_project(tmp_path / "again")
    unaccepted = lk.train(project, by=ANA).version
    with pytest.raises(GateNotAccepted, match=f"credit version {unaccepted} has no gate run"):
        lk.release("credit-batch", unaccepted, reason="hurry", by=OPS)
    lk.gate_run("credit", unaccepted, by=ANA)
    with pytest.raises(GateNotAccepted, match="is not accepted"):
        lk.release("credit-batch", unaccepted, reason="hurry", by=OPS)
    assert lk.deploy_store.history("credit-batch") == []
    with pytest.raises(PermissionDenied, match="data-scientist"):
        lk.release("credit-batch", v1, reason="mine", by=ANA)


BAD_RELEASES = [
    ({"strategy": "blue-green"}, InvalidInput, "not a release strategy"),
    ({"reason": "  "}, InvalidInput, "needs a reason"),
    ({"strategy": "canary"}, InvalidInput, "needs --percent"),
    ({"strategy": "canary", "percent": 150}, InvalidInput, "outside"),
]


def test_bad_release_requests(lk: Lightkeeper, tmp_path: Path) -> None:
    v1, v2 = accepted_versions(lk, tmp_path, 2)
    lk.deployment_create("d", model="credit", kind="online", by=OPS)
    lk.release("d", v1, reason="first", by=OPS)
    for kwargs, error, match in BAD_RELEASES:
        arguments = {"reason": "ok", **kwargs}
        with pytest.raises(error, match=match):
            lk.release("d", v2, by=OPS, **arguments)
    with pytest.raises(ReleaseRefused, match="already the champion"):
        lk.release("d", v1, strategy="canary", percent=5, reason="again", by=OPS)
    with pytest.raises(DeploymentNotFound, match="no deployment named 'nope'"):
        lk.release("nope", v2, reason="x", by=OPS)
    with pytest.raises(InvalidInput, match="exists already"):
        lk.deployment_create("d", model="credit", kind="online", by=OPS)
    with pytest.raises(InvalidInput, match="not a deployment kind"):
        lk.deployment_create("e", model="credit", kind="lambda", by=OPS)
    assert len(lk.deploy_store.history("d")) == 1  # nothing half-written


def test_two_deployments_of_one_model_keep_their_own_champions_in_mlflow(
    lk: Lightkeeper, tmp_path: Path, cli: Callable[..., tuple[int, str, str]]
) -> None:
    v1, v2 = accepted_versions(lk, tmp_path, 2)
    lk.deployment_create("credit-online", model="credit", kind="online", by=OPS)
    lk.deployment_create("credit-batch", model="credit", kind="batch", by=OPS)
    lk.release("credit-online", v1, reason="first", by=OPS)
    lk.release("credit-batch", v2, reason="first", by=OPS)
    lk.release("credit-online", v2, strategy="canary", percent=10, reason="try v2", by=OPS)
    assert aliases(lk) == {
        "champion-credit-online": v1,
        "challenger-credit-online": v2,
        "champion-credit-batch": v2,
    }
    by_version = {v.version: v.aliases for v in lk.versions("credit")}
    assert by_version == {
        v1: ["champion-credit-online"],
        v2: ["challenger-credit-online", "champion-credit-batch"],
    }
    assert lk.version("credit", "champion-credit-batch").version == v2

    code, out, err = cli("models", "show", "credit")
    assert code == 0, err
    cells = [line.split("\t") for line in out.splitlines()]
    assert cells[1][:3] == ["version", "created", "aliases"], out
    assert {row[0]: row[2] for row in cells[2:]} == {
        str(v1): "champion-credit-online",
        str(v2): "challenger-credit-online, champion-credit-batch",
    }

    lk.rollback("credit-online", reason="canary errors", by=OPS)  # only online changes
    assert aliases(lk) == {"champion-credit-online": v1, "champion-credit-batch": v2}


def test_deployment_alias_names() -> None:
    assert deployment_alias("champion", "weather-batch") == "champion-weather-batch"
    assert deployment_alias("challenger", "eu_2") == "challenger-eu_2"
    with pytest.raises(InvalidInput, match="'stable' is not an alias role"):
        deployment_alias("stable", "eu")
    for bad in ("", "eu west", "eu/west", "x" * 250):
        with pytest.raises(InvalidInput, match="cannot be part of an MLflow alias"):
            deployment_alias("champion", bad)
