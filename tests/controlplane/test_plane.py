"""``lightkeeper up``'s loops: recorded rounds and decisions, one process working at a
time, and ``serve`` leaving the canary to a running control plane."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from lightkeeper import Lightkeeper
from lightkeeper.testing import (
    OPERATOR,
    build_workspace,
    copy_workspace,
    credit_project,
    workspace,
)
from lightkeeper.web.api import build_api


@pytest.fixture(scope="session")
def released(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    """Two accepted versions of ``credit``; version 1 released to ``credit-online``."""
    root = tmp_path_factory.mktemp("controlplane")
    project = credit_project(root)
    return build_workspace(
        root / "home",
        [project, project],
        deployment="credit-online",
        mlflow_store=mlflow_template,
    )


@pytest.fixture
def home(released: Path, tmp_path: Path) -> Path:
    return copy_workspace(released, tmp_path / "home")


@pytest.fixture
def database_url(home: Path) -> str:
    return f"sqlite:///{home / 'ops.db'}"


@pytest.fixture
def lk(home: Path) -> Iterator[Lightkeeper]:
    app = workspace(home)
    yield app
    app.close()


def test_each_loop_records_its_round_and_its_decisions(lk: Lightkeeper) -> None:
    plane = lk.control_plane("up-1")
    lk.releases.release(
        "credit-online", 2, strategy="canary", percent=10, reason="try v2", by=OPERATOR
    )
    results = {loop.name: loop.round() for loop in plane.loops}
    assert {name: r.state for name, r in results.items()} == {
        "rollout": "working",
        "batch-cadence": "working",
        "watchdog": "working",
        "monitors": "working",
        "alarm-dispatch": "working",
        "log-compaction": "working",
    }
    statuses = {s.loop: s for s in lk.loops()}
    assert set(statuses) == set(results) and {s.holder for s in statuses.values()} == {"up-1"}

    [waiting] = lk.loop_decisions(loop="rollout")
    assert (waiting.subject, waiting.outcome) == ("credit-online", "skipped")
    assert waiting.reason.startswith("wait")
    [dispatch] = lk.loop_decisions(loop="alarm-dispatch")
    assert (dispatch.outcome, dispatch.reason) == ("skipped", "nothing due")
    monitors = lk.loop_decisions(loop="monitors", subject="credit-online")
    assert {d.outcome for d in monitors} == {"ran"}  # due at once: no window checked yet

    dispatcher = next(loop for loop in plane.loops if loop.name == "alarm-dispatch")
    again = dispatcher.round()  # nothing due again: counted, written later
    assert again.state == "working"
    [dispatch] = lk.loop_decisions(loop="alarm-dispatch")
    assert dispatch.count == 1
    dispatcher.stop()  # a stop writes what was only counted
    [dispatch] = lk.loop_decisions(loop="alarm-dispatch")
    assert dispatch.count == 2


def test_a_second_control_plane_stands_by_and_says_so(lk: Lightkeeper) -> None:
    other = workspace(lk.settings.home)
    try:
        first, second = lk.control_plane("up-1"), other.control_plane("up-2")
        assert [loop.round().state for loop in first.loops] == ["working"] * 6
        assert [loop.round().state for loop in second.loops] == ["standby"] * 6
        first.stop()  # a clean stop gives every lease up at once
        assert [loop.round().state for loop in second.loops] == ["working"] * 6
    finally:
        other.close()
    states = {(s.loop, s.holder): s.state for s in lk.loops("watchdog")}
    assert states == {("watchdog", "up-1"): "working", ("watchdog", "up-2"): "working"}


def test_serve_leaves_the_canary_to_a_running_control_plane(lk: Lightkeeper) -> None:
    from lightkeeper.controlplane.plane import serve_rollout

    lk.releases.release(
        "credit-online", 2, strategy="canary", percent=10, reason="try v2", by=OPERATOR
    )
    stores = lk.stores

    def judge(mode: str) -> Callable[[], object]:
        loop = serve_rollout(
            lk.rollout_controller(holder="serve-1", only="credit-online"),
            mode=mode,
            holder="serve-1",
            leases=stores.leases,
            records=stores.loops,
            clock=lk.clock,
        )
        assert loop is not None
        return loop.round

    judge("auto")()
    [alone] = lk.loop_decisions(loop="rollout-serve")
    assert alone.reason.startswith("wait")  # no control plane: serve judges

    lk.control_plane("up-1").loops[0].round()  # `up` takes the rollout lease
    judge("auto")()
    newest = lk.loop_decisions(loop="rollout-serve")[0]
    assert (newest.outcome, newest.reason) == ("skipped", "control plane up-1 judges")
    judge("on")()
    assert lk.loop_decisions(loop="rollout-serve")[0].reason.startswith(
        ("wait", "lease held by another process")
    )
    assert (
        serve_rollout(
            lk.rollout_controller(holder="s", only="credit-online"),
            mode="off",
            holder="s",
            leases=stores.leases,
            records=stores.loops,
            clock=lk.clock,
        )
        is None
    )
    with pytest.raises(Exception, match="not a serve_rollout mode"):
        judge("sometimes")


def test_loops_over_the_cli_and_the_api(
    lk: Lightkeeper, serve: Callable[[object], str], cli: Callable[..., tuple[int, str, str]]
) -> None:
    for loop in lk.control_plane("up-1").loops:
        loop.round()
    base = serve(build_api(lk))
    body = httpx.get(f"{base}/api/v1/loops").json()
    assert sorted(s["loop"] for s in body["loops"]) == [
        "alarm-dispatch",
        "batch-cadence",
        "log-compaction",
        "monitors",
        "rollout",
        "watchdog",
    ]
    decided = httpx.get(f"{base}/api/v1/loops/decisions", params={"loop": "alarm-dispatch"})
    assert decided.json()["decisions"][0]["reason"] == "nothing due"
    bad = httpx.get(f"{base}/api/v1/loops/decisions", params={"outcome": "maybe"})
    assert bad.status_code == 422

    code, out, _ = cli("loops", "--json")
    assert code == 0 and len(json.loads(out)["loops"]) == 6
    code, out, _ = cli("loops", "decisions", "--loop", "alarm-dispatch")
    assert code == 0 and "nothing due" in out
    code, _, err = cli("loops", "decisions", "--outcome", "maybe")
    assert code == 2 and "LK-INVALID-INPUT" in err
