"""Deployments and releases: gate rule, strategies, one-step rollback, aliases, audit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lightkeeper import (
    DeploymentNotFound,
    GateNotAccepted,
    InvalidInput,
    Lightkeeper,
    PermissionDenied,
    ReleaseRefused,
)
from lightkeeper.registry import deployment_alias
from lightkeeper.testing import ANALYST, OPERATOR, credit_project


def aliases(lk: Lightkeeper) -> dict[str, int]:
    return lk.registry.get_model("credit").aliases


@pytest.mark.both_databases
def test_release_canary_promote_and_rollback(lk: Lightkeeper, versions: list[int]) -> None:
    v1, v2, v3 = versions
    with pytest.raises(PermissionDenied):
        lk.releases.create("credit-online", model="credit", kind="online", by=ANALYST)
    lk.releases.create("credit-online", model="credit", kind="online", by=OPERATOR)

    with pytest.raises(ReleaseRefused, match="no champion yet"):
        lk.releases.release(
            "credit-online", v1, strategy="canary", percent=10, reason="try", by=OPERATOR
        )
    first = lk.releases.release("credit-online", v1, reason="first release", by=OPERATOR)
    assert (first.champion, first.challenger, first.gate_run_id) == (v1, None, 1)
    assert aliases(lk) == {"champion-credit-online": v1}

    canary = lk.releases.release(
        "credit-online", v2, strategy="canary", percent=10, reason="canary", by=OPERATOR
    )
    assert (canary.champion, canary.challenger, canary.percent) == (v1, v2, 10.0)
    assert aliases(lk) == {"champion-credit-online": v1, "challenger-credit-online": v2}

    dropped = lk.releases.rollback("credit-online", reason="errors on canary", by=OPERATOR)
    assert (dropped.champion, dropped.challenger, dropped.action) == (v1, None, "rollback")
    assert aliases(lk) == {"champion-credit-online": v1}

    lk.releases.release("credit-online", v2, strategy="shadow", reason="shadow first", by=OPERATOR)
    promoted = lk.releases.promote("credit-online", reason="shadow looked fine", by=OPERATOR)
    assert (promoted.champion, promoted.challenger) == (v2, None)
    lk.releases.release("credit-online", v3, reason="v3 direct", by=OPERATOR)
    assert aliases(lk) == {"champion-credit-online": v3}

    back = lk.releases.rollback("credit-online", by=OPERATOR)
    assert back.champion == v2 and aliases(lk) == {"champion-credit-online": v2}
    back_again = lk.releases.rollback("credit-online", by=OPERATOR)
    assert back_again.champion == v1
    with pytest.raises(ReleaseRefused, match="only one champion"):
        lk.releases.rollback("credit-online", by=OPERATOR)

    history = lk.stores.deployments.history("credit-online")
    assert [r.action for r in history][:3] == ["rollback", "rollback", "release"]
    entries = lk.audit_entries(subject="deployment:credit-online")
    assert len(entries) == len(history)
    assert entries[-1].reason == "first release" and entries[-1].actor == "olga"


def test_release_is_refused_without_an_accepted_gate(
    lk: Lightkeeper, versions: list[int], tmp_path: Path
) -> None:
    v1 = versions[0]
    lk.releases.create("credit-batch", model="credit", kind="batch", by=OPERATOR)
    project = credit_project(tmp_path / "again")
    unaccepted = lk.training.train(project, by=ANALYST).version
    with pytest.raises(GateNotAccepted, match=f"credit version {unaccepted} has no gate run"):
        lk.releases.release("credit-batch", unaccepted, reason="hurry", by=OPERATOR)
    lk.gate.run("credit", unaccepted, by=ANALYST)
    with pytest.raises(GateNotAccepted, match="is not accepted"):
        lk.releases.release("credit-batch", unaccepted, reason="hurry", by=OPERATOR)
    assert lk.stores.deployments.history("credit-batch") == []
    with pytest.raises(PermissionDenied, match="data-scientist"):
        lk.releases.release("credit-batch", v1, reason="mine", by=ANALYST)


BAD_RELEASES = [
    ({"strategy": "blue-green"}, InvalidInput, "not a release strategy"),
    ({"reason": "  "}, InvalidInput, "needs a reason"),
    ({"strategy": "canary"}, InvalidInput, "needs --percent"),
    ({"strategy": "canary", "percent": 150}, InvalidInput, "outside"),
]


def test_bad_release_requests(lk: Lightkeeper, versions: list[int]) -> None:
    v1, v2, _ = versions
    lk.releases.create("d", model="credit", kind="online", by=OPERATOR)
    lk.releases.release("d", v1, reason="first", by=OPERATOR)
    for kwargs, error, match in BAD_RELEASES:
        arguments = {"reason": "ok", **kwargs}
        with pytest.raises(error, match=match):
            lk.releases.release("d", v2, by=OPERATOR, **arguments)
    with pytest.raises(ReleaseRefused, match="already the champion"):
        lk.releases.release("d", v1, strategy="canary", percent=5, reason="again", by=OPERATOR)
    with pytest.raises(DeploymentNotFound, match="no deployment named 'nope'"):
        lk.releases.release("nope", v2, reason="x", by=OPERATOR)
    with pytest.raises(InvalidInput, match="exists already"):
        lk.releases.create("d", model="credit", kind="online", by=OPERATOR)
    with pytest.raises(InvalidInput, match="not a deployment kind"):
        lk.releases.create("e", model="credit", kind="lambda", by=OPERATOR)
    assert len(lk.stores.deployments.history("d")) == 1  # nothing half-written


@pytest.mark.both_databases
def test_two_deployments_of_one_model_keep_their_own_champions_in_mlflow(
    lk: Lightkeeper, versions: list[int], cli: Callable[..., tuple[int, str, str]]
) -> None:
    v1, v2, v3 = versions
    lk.releases.create("credit-online", model="credit", kind="online", by=OPERATOR)
    lk.releases.create("credit-batch", model="credit", kind="batch", by=OPERATOR)
    lk.releases.release("credit-online", v1, reason="first", by=OPERATOR)
    lk.releases.release("credit-batch", v2, reason="first", by=OPERATOR)
    lk.releases.release(
        "credit-online", v2, strategy="canary", percent=10, reason="try v2", by=OPERATOR
    )
    assert aliases(lk) == {
        "champion-credit-online": v1,
        "challenger-credit-online": v2,
        "champion-credit-batch": v2,
    }
    by_version = {v.version: v.aliases for v in lk.registry.list_versions("credit")}
    assert by_version == {
        v1: ["champion-credit-online"],
        v2: ["challenger-credit-online", "champion-credit-batch"],
        v3: [],
    }
    assert lk.version("credit", "champion-credit-batch").version == v2

    code, out, err = cli("models", "show", "credit")
    assert code == 0, err
    cells = [line.split("\t") for line in out.splitlines()]
    assert cells[1][:3] == ["version", "created", "aliases"], out
    assert {row[0]: row[2] for row in cells[2:]} == {
        str(v1): "champion-credit-online",
        str(v2): "challenger-credit-online, champion-credit-batch",
        str(v3): "-",
    }

    lk.releases.rollback(
        "credit-online", reason="canary errors", by=OPERATOR
    )  # only online changes
    assert aliases(lk) == {"champion-credit-online": v1, "champion-credit-batch": v2}


def test_deployment_alias_names() -> None:
    assert deployment_alias("champion", "weather-batch") == "champion-weather-batch"
    assert deployment_alias("challenger", "eu_2") == "challenger-eu_2"
    with pytest.raises(InvalidInput, match="'stable' is not an alias role"):
        deployment_alias("stable", "eu")
    for bad in ("", "eu west", "eu/west", "x" * 250):
        with pytest.raises(InvalidInput, match="cannot be part of an MLflow alias"):
            deployment_alias("champion", bad)
