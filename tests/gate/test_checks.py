"""The latency check's rounds, check durations, and how champions are compared and named."""

from __future__ import annotations

import pytest

from lightkeeper.gate.champions import (
    Compared,
    Target,
    champions,
    decisive_check,
    describe_champions,
    nothing_to_compare,
    strictest,
)
from lightkeeper.gate.checks import Check, failed, latency_check, passed, timed


def _round(p99_ms: float, base_ms: float = 1.0, n: int = 200) -> list[float]:
    """A round whose slowest 3 of 200 samples take ``p99_ms`` (so its p99 is ``p99_ms``)."""
    return [base_ms] * (n - 3) + [p99_ms] * 3


def test_the_median_round_decides_and_every_round_is_kept() -> None:
    rounds = [_round(4.0), _round(90.0), _round(5.0), _round(6.0), _round(3.0)]
    check, summary = latency_check(rounds, 10.0)
    assert check.status == "passed"  # one disturbed round neither fails nor passes a model
    assert [r["p99_ms"] for r in summary["rounds"]] == pytest.approx([4, 90, 5, 6, 3])
    assert summary["p99_ms"] == pytest.approx(5.0)
    assert summary["p99_spread_ms"] == pytest.approx({"min": 3.0, "median": 5.0, "max": 90.0})
    assert summary["samples"] == 1000 and summary["max_ms"] == 90.0
    assert check.details["rounds"] == summary["rounds"]
    assert "median of 5 rounds" in check.message and "3.00 to 90.00 ms" in check.message


def test_three_slow_rounds_of_five_fail_the_budget() -> None:
    rounds = [_round(4.0), _round(12.0), _round(11.0), _round(13.0), _round(3.0)]
    check, summary = latency_check(rounds, 10.0)
    assert check.status == "failed" and summary["p99_ms"] == pytest.approx(11.0)
    assert "> budget 10 ms" in check.message and check.details["budget_ms"] == 10.0


def test_no_budget_skips_but_keeps_the_spread() -> None:
    check, summary = latency_check([_round(4.0), [2.0] * 10], None)
    assert check.status == "skipped" and len(check.details["rounds"]) == 2
    assert summary["rounds"][1]["samples"] == 10


def test_latency_needs_a_sample() -> None:
    with pytest.raises(ValueError, match="at least one round"):
        latency_check([[], []], 10.0)


def test_timed_gives_the_checks_of_a_block_its_time_shared() -> None:
    checks: list[Check] = [passed("before", "gold", "untouched")]
    with timed(checks, extra_s=3.0):
        checks.append(passed("metric:a", "quality", "a"))
        checks.append(failed("metric:b", "quality", "b", "fix b"))
    assert checks[0].duration_s == 0.0
    assert checks[1].duration_s == checks[2].duration_s >= 1.5
    with timed(checks):  # a block that adds no check changes none
        pass
    assert checks[0].duration_s == 0.0


def _target_list() -> list[Target]:
    return [Target("online", 1), Target("batch", 2), Target("stream", 1), Target("new", None)]


def test_distinct_champions_serve_their_deployments() -> None:
    assert champions(_target_list(), candidate=3) == {1: ["online", "stream"], 2: ["batch"]}
    assert champions(_target_list(), candidate=2) == {1: ["online", "stream"]}


def _compared(version: int, deployments: list[str], status: str, low: float | None) -> Compared:
    check = Check("non-inferiority:accuracy", "comparison", status, f"v{version} {status}")
    check.duration_s = 1.0
    data = None if low is None else {"low": low, "improvement": low + 0.01, "high": low + 0.02}
    return Compared(version, deployments, check, data)


def test_a_failure_decides_else_the_lowest_bound() -> None:
    good, close = _compared(1, ["a"], "passed", 0.01), _compared(2, ["b"], "passed", -0.01)
    bad, broken = _compared(3, ["c"], "failed", -0.2), _compared(4, ["d"], "failed", None)
    assert strictest([good, close]) is close
    assert strictest([good, bad, close]) is bad
    assert strictest([good, bad, broken]) is broken  # a champion never compared is no pass

    check = decisive_check([good, bad, close])
    assert check.status == "failed" and check.duration_s == 3.0
    assert check.message.startswith("champion v3 (c): v3 failed; also compared with v1 (a)")
    assert [c["version"] for c in check.details["champions"]] == [1, 3, 2]


def test_nothing_to_compare_says_why() -> None:
    name = "non-inferiority:accuracy"
    none = nothing_to_compare(name, "credit", [], 3)
    assert none.status == "skipped" and "credit has no deployment yet" in none.message
    fresh = nothing_to_compare(name, "credit", [Target("online", None)], 3)
    assert "no champion yet in online" in fresh.message
    own = nothing_to_compare(name, "credit", [Target("online", 3)], 3)
    assert "version 3 is itself the champion of online" in own.message


def test_describe_champions_names_each_deployment() -> None:
    run = {
        "version": 3,
        "deployments": [t.to_dict() for t in _target_list()] + [{"name": "mine", "champion": 3}],
        "champions": [
            {"version": 1, "deployments": ["online", "stream"], "compared": True},
            {"version": 2, "deployments": ["batch"], "compared": False, "error": "load failed"},
        ],
    }
    assert describe_champions(run) == (
        "champion v1 of online, stream; champion v2 of batch (not compared: load failed); "
        "new: no champion yet; mine: this version is its champion"
    )
    stopped = {"version": 3, "deployments": [{"name": "online", "champion": 1}]}
    assert describe_champions(stopped) == "online: champion v1 not compared"
    assert describe_champions({"champions": ["junk"]}) == "no champion: the model has no deployment"
