"""The gate's fresh processes come from a zygote: crashes, hangs, a dead zygote and two
gate runs at once all end in a verdict, and the next run works."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from lightkeeper import Lightkeeper
from lightkeeper.gate import runner, zygote
from lightkeeper.store.gate import GateRun
from lightkeeper.testing import ANALYST, OWNER, credit_gold, credit_project

# Each recipe misbehaves on batches the size of the gold set only, so training works.
CRASH = (
    "def crash(X):\n"
    "        if 1000 <= len(X) <= 2000:\n"
    "            import os; os._exit(3)\n"
    "        return X\n"
    "    steps.insert(0, FunctionTransformer(crash))"
)
HANG = (
    "def hang(X):\n"
    "        if 1000 <= len(X) <= 2000:\n"
    "            import time; time.sleep(120)\n"
    "        return X\n"
    "    steps.insert(0, FunctionTransformer(hang))"
)


@pytest.fixture
def trained(lk: Lightkeeper, tmp_path: Path):
    """Train a version from a recipe (``extra``) with the credit gold set in place."""
    made: list[Path] = []

    def train(extra: str = "pass") -> int:
        project = credit_project(tmp_path / f"p{len(made)}", extra=extra)
        made.append(project)
        if len(made) == 1:
            version, _ = lk.gold.add(
                "credit-gold",
                credit_gold(),
                owner="risk",
                label_column="defaulted",
                segment_column="region",
                project_dir=project,
                by=OWNER,
            )
            lk.gold.approve("credit-gold", version.version, by=OWNER)
        return lk.training.train(project, by=ANALYST).version

    return train


def smoke(run: GateRun) -> dict[str, str]:
    return next(c for c in run.result["checks"] if c["name"] == "smoke:load-and-predict")


def test_a_model_that_kills_its_process_fails_and_the_next_run_works(
    lk: Lightkeeper, trained
) -> None:
    crashing, good = trained(CRASH), trained()
    run = lk.gate.run("credit", crashing, by=ANALYST)
    assert run.verdict == "failed"
    assert smoke(run)["status"] == "error"
    assert "the scoring process died (exit 3)" in smoke(run)["message"]
    assert lk.gate.run("credit", good, by=ANALYST).verdict == "passed"


def test_a_hanging_model_is_stopped_at_the_time_limit_and_the_next_run_works(
    lk: Lightkeeper, trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanging, good = trained(HANG), trained()
    monkeypatch.setattr(runner, "WORKER_TIMEOUT_S", 5)
    run = lk.gate.run("credit", hanging, by=ANALYST)
    assert run.verdict == "failed"
    assert "scoring did not finish within 5 s" in smoke(run)["message"]
    assert lk.gate.run("credit", good, by=ANALYST).verdict == "passed"


def test_a_dead_zygote_is_replaced(lk: Lightkeeper, trained) -> None:
    good = trained()
    assert lk.gate.run("credit", good, by=ANALYST).verdict == "passed"
    before = zygote._zygote
    assert before is not None and before.alive
    os.kill(before._proc.pid, signal.SIGKILL)
    before._proc.wait()
    assert lk.gate.run("credit", good, by=ANALYST).verdict == "passed"
    assert zygote._zygote is not None and zygote._zygote is not before


def test_two_gate_runs_at_once_both_get_a_fresh_process(lk: Lightkeeper, trained) -> None:
    first, second = trained(), trained()
    runs: dict[int, GateRun] = {}

    def gate(version: int) -> None:
        runs[version] = lk.gate.run("credit", version, by=ANALYST)

    threads = [threading.Thread(target=gate, args=(v,)) for v in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert {v: r.verdict for v, r in runs.items()} == {first: "passed", second: "passed"}
    assert all(smoke(r)["status"] == "passed" for r in runs.values())


def test_the_plain_process_gives_the_same_verdict_where_there_is_no_zygote(
    lk: Lightkeeper, trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, crashing = trained(), trained(CRASH)
    monkeypatch.delattr(os, "fork")  # as on Windows
    assert lk.gate.run("credit", good, by=ANALYST).verdict == "passed"
    run = lk.gate.run("credit", crashing, by=ANALYST)
    assert "the scoring process died (exit 3)" in smoke(run)["message"]


def test_a_zygote_that_cannot_start_leaves_the_work_to_a_plain_process(
    lk: Lightkeeper, trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = trained()
    zygote._forget()
    monkeypatch.setattr(zygote, "COMMAND", ("-c", "raise SystemExit(3)"))
    run = lk.gate.run("credit", good, by=ANALYST)
    assert run.verdict == "passed" and smoke(run)["status"] == "passed"
    assert zygote._zygote is None
