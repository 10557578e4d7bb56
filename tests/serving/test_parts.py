"""The serving parts on their own: log writer, router, rollout verdicts, batcher."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from lightkeeper.deploy.rollout import ArmStats, judge
from lightkeeper.errors import DatabaseUnavailable, InvalidInput
from lightkeeper.inputs import RowValidator
from lightkeeper.manifest import Rollout, parse_manifest
from lightkeeper.serving.batching import Batcher, _plain
from lightkeeper.serving.frames import predict_function
from lightkeeper.serving.loader import Plan
from lightkeeper.serving.logwriter import PredictionLogWriter
from lightkeeper.serving.router import choose_arm
from lightkeeper.split import bucket, buckets
from lightkeeper.store.predictions import PredictionRecord
from lightkeeper.testing import wait_for


def rec(i: int) -> PredictionRecord:
    return PredictionRecord(
        at=datetime(2026, 11, 27, tzinfo=UTC),
        deployment="d",
        request_id=str(i),
        row=0,
        version=1,
        arm="champion",
        inputs={},
        output=i,
        latency_ms=1.0,
    )


class FlakyDatabase:
    """Stands in for the database's write call: refuses while ``down`` is set."""

    def __init__(self) -> None:
        self.rows: list[PredictionRecord] = []
        self.down = threading.Event()

    def write(self, records: list[PredictionRecord]) -> None:
        if self.down.is_set():
            raise DatabaseUnavailable("cannot open the ops database: connection refused")
        if any(r.request_id == "poison" for r in records):
            raise ValueError("value too long for type character varying(100)")
        self.rows.extend(records)


def test_the_writer_keeps_records_while_the_database_is_down_and_resumes() -> None:
    db = FlakyDatabase()
    writer = PredictionLogWriter(db.write, capacity=50, interval=0.01, max_backoff=0.05)
    writer.start()
    db.down.set()
    writer.add([rec(i) for i in range(30)])
    writer.add([rec(i) for i in range(30, 60)])  # 60 > capacity 50: the 10 oldest go
    wait_for(lambda: writer.failures >= 1)
    assert writer.dropped == 10 and writer.pending == 50
    assert writer.last_error == "cannot open the ops database: connection refused"
    db.down.clear()
    assert writer.flush(timeout=5)
    writer.close()
    assert [r.output for r in db.rows] == list(range(10, 60))
    assert writer.written == 50 and writer.last_error is None


def test_adding_never_blocks_on_a_stuck_database() -> None:
    release = threading.Event()
    writer = PredictionLogWriter(lambda _records: release.wait(30), capacity=5, interval=0.01)
    writer.start()
    adder = threading.Thread(target=lambda: [writer.add([rec(i)]) for i in range(100)])
    adder.start()
    adder.join(timeout=10)
    stuck = adder.is_alive()
    release.set()
    writer.close()
    assert not stuck, "add() waited for the database"
    assert writer.dropped >= 90


def test_a_record_the_database_refuses_is_dropped_and_the_rest_written() -> None:
    db = FlakyDatabase()
    counted: list[int] = []
    writer = PredictionLogWriter(db.write, interval=0.01, on_drop=counted.append)
    writer.start()
    poison = PredictionRecord(**{**rec(1).__dict__, "request_id": "poison"})
    writer.add([rec(0), poison, rec(2)])
    assert writer.flush(timeout=5)
    writer.add([rec(3)])
    assert writer.flush(timeout=5)
    writer.close()
    assert [r.output for r in db.rows] == [0, 2, 3]
    assert (writer.refused, writer.written, counted) == (1, 3, [1])
    assert writer.last_refusal == "value too long for type character varying(100)"


def test_rows_must_carry_every_model_feature_even_without_a_schema() -> None:
    validator = RowValidator(None, ["income", "age"])
    assert validator.check([{"income": 1.0, "age": 30}]) is None
    with pytest.raises(InvalidInput, match=r"rows\[1\]\.age: is required by the model"):
        validator.check([{"income": 1.0, "age": 30}, {"income": 2.0}])
    with pytest.raises(InvalidInput, match="no rows"):
        validator.check([])


def test_outputs_become_plain_values_and_nan_becomes_null() -> None:
    assert _plain(np.array([1.5, np.nan, np.inf])) == [1.5, None, None]
    assert _plain(np.array([1, 0])) == [1, 0] and _plain(["a", "b"]) == ["a", "b"]


def test_buckets_are_pinned_across_processes_releases_and_machines() -> None:
    # A customer's arm must not move when lightkeeper is upgraded or runs elsewhere:
    # these values are fixed, not recomputed (blake2b-64 of the UTF-8 key, scaled).
    pinned = {
        "customer-1": 95.4050735011799,
        "customer-7": 41.23318747867929,
        "42": 34.25939642242156,
        "": 89.31675160897387,
        "Zoë": 47.1187056644281,
    }
    assert {key: bucket(key) for key in pinned} == pinned
    assert list(buckets(list(pinned))) == list(pinned.values())


def test_buckets_spread_evenly() -> None:
    share = sum(bucket(f"k{i}") < 25 for i in range(4000)) / 4000
    assert 0.22 < share < 0.28


def test_requests_without_a_key_draw_the_canary_share() -> None:
    plan = Plan(champion=object(), challenger=object(), strategy="canary", percent=30)  # type: ignore[arg-type]
    draw = random.Random(11)
    share = sum(choose_arm(plan, None, draw) == "challenger" for _ in range(20_000)) / 20_000
    assert abs(share - 0.3) < 0.015
    assert choose_arm(Plan(champion=object(), strategy="direct"), None) == "champion"  # type: ignore[arg-type]


def stats(n: int, errors: int = 0, latency: float = 1.0, output: int = 1) -> ArmStats:
    arm = ArmStats(predictions=n, errors=errors)
    for i in range(n - errors):
        arm.latencies.append(latency)
        arm.outputs[(str(i), 0)] = output
    return arm


POLICY = Rollout(observe_seconds=60, min_requests=100)


def test_verdicts() -> None:
    healthy = judge(stats(500), stats(200), POLICY, elapsed=61, paired=False)
    assert healthy.action == "promote" and "healthy after 61 s" in healthy.reason
    waiting = judge(stats(500), stats(50), POLICY, elapsed=61, paired=False)
    assert waiting.action == "wait" and "50/100 predictions" in waiting.reason
    failing = judge(stats(500), stats(25, errors=5), POLICY, elapsed=1, paired=False)
    assert failing.action == "rollback" and "error rate 20.0%" in failing.reason
    slow = judge(stats(500, latency=20), stats(200, latency=90), POLICY, elapsed=61, paired=True)
    assert slow.action == "rollback" and "p99 latency 90.0 ms" in slow.reason
    assert "(floor 25 ms)" in slow.reason  # judged against the floor, not the champion's 20
    slower = judge(stats(500, latency=40), stats(200, latency=90), POLICY, elapsed=61, paired=0)
    assert slower.action == "rollback" and "floor" not in slower.reason
    apart = judge(stats(500), stats(200, output=0), POLICY, elapsed=61, paired=False)
    assert apart.action == "rollback" and "diverge" in apart.reason
    numbers = stats(200)
    numbers.outputs = {(str(i), 0): 1.0 + i for i in range(200)}
    shifted = stats(200)
    shifted.outputs = {(str(i), 0): 1.0 + i + 150 for i in range(200)}
    drift = judge(numbers, shifted, POLICY, elapsed=61, paired=True, numeric=True)
    assert drift.action == "rollback" and drift.evidence["divergence"] == 0.75
    manual = Rollout(observe_seconds=60, min_requests=100, promote="manual")
    assert judge(stats(500), stats(200), manual, elapsed=61, paired=False).action == "wait"


def test_a_small_latency_ratio_under_the_floor_is_no_regression() -> None:
    quick = judge(stats(500, latency=6), stats(200, latency=18), POLICY, elapsed=61, paired=False)
    assert quick.action == "promote", quick.reason  # 3x, but 18 ms is under 2 x 25 ms
    none = Rollout(observe_seconds=60, min_requests=100, p99_floor_ms=0)
    strict = judge(stats(500, latency=6), stats(200, latency=18), none, elapsed=61, paired=False)
    assert strict.action == "rollback"


def test_a_shadow_is_promoted_only_when_the_manifest_says_so_for_shadow() -> None:
    shadow = judge(stats(500), stats(200), POLICY, elapsed=61, paired=True)
    assert shadow.action == "wait" and "promote_shadow: auto" in shadow.reason
    auto = Rollout(observe_seconds=60, min_requests=100, promote_shadow="auto")
    assert judge(stats(500), stats(200), auto, elapsed=61, paired=True).action == "promote"
    manual = Rollout(observe_seconds=60, min_requests=100, promote="manual", promote_shadow="auto")
    assert judge(stats(500), stats(200), manual, elapsed=61, paired=True).action == "promote"


def test_errors_on_flagged_requests_never_roll_back_but_hold_promotion() -> None:
    flagged = stats(200)
    flagged.flagged_errors = 40
    verdict = judge(stats(500), flagged, POLICY, elapsed=61, paired=False)
    assert verdict.action == "wait" and "raised on 40 request(s)" in verdict.reason


def test_no_promotion_without_a_gate_run_against_the_current_champion() -> None:
    blind = judge(stats(500), stats(200), POLICY, elapsed=61, paired=False, compared=False)
    assert blind.action == "wait" and "did not compare it" in blind.reason
    failing = judge(stats(500), stats(25, errors=5), POLICY, elapsed=1, paired=0, compared=False)
    assert failing.action == "rollback"  # taking a bad version out needs no comparison


def test_the_batcher_coalesces_and_isolates_a_bad_request() -> None:
    calls: list[int] = []

    def predict(rows: list[int]) -> list[int]:
        calls.append(len(rows))
        if -1 in rows:
            raise ValueError("bad row")
        return [r * 10 for r in rows]

    async def main() -> list[object]:
        batcher = Batcher(predict)
        jobs = [batcher.predict([i, i + 1]) for i in range(0, 10, 2)] + [batcher.predict([-1])]
        return await asyncio.gather(*jobs, return_exceptions=True)

    results = asyncio.run(main())
    assert [r[0] for r in results[:5]] == [[0, 10], [20, 30], [40, 50], [60, 70], [80, 90]]
    assert isinstance(results[5], ValueError)
    assert calls == [11, 2, 2, 2, 2, 2, 1]  # one batch; it failed, so each request alone


def test_rollout_policy_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="max_error_rate"):
        Rollout(max_error_rate=2)


def test_a_cheap_model_is_called_on_the_event_loop_and_a_costly_one_in_a_thread() -> None:
    seen: dict[str, set[str]] = {"cheap": set(), "costly": set()}

    def model(name: str, seconds: float) -> Callable[[list[int]], list[int]]:
        def predict(rows: list[int]) -> list[int]:
            seen[name].add(threading.current_thread().name)
            time.sleep(seconds)
            return rows

        return predict

    async def main() -> tuple[bool, bool]:
        cheap, costly = Batcher(model("cheap", 0)), Batcher(model("costly", 0.02))
        for _ in range(3):
            await cheap.predict([1])
            await costly.predict([1])
        return cheap.inline, costly.inline

    assert asyncio.run(main()) == (True, False)
    # the first call of each runs in a thread (no measurement yet), later cheap ones do not
    assert threading.main_thread().name in seen["cheap"]
    assert threading.main_thread().name not in seen["costly"]


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Give the event loop turns until ``condition()`` holds; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not reached within {timeout:g} s"
        await asyncio.sleep(0.001)


def test_a_costly_model_lingers_for_clients_coming_back_under_load() -> None:
    calls: list[int] = []

    def predict(rows: list[int]) -> list[int]:
        calls.append(len(rows))
        time.sleep(0.2)  # lingering waits up to a tenth of this: 20 ms
        return rows

    async def main() -> None:
        batcher = Batcher(predict)
        await batcher.predict([0])  # measured: a costly model, one request per batch
        first = asyncio.gather(*(batcher.predict([i]) for i in range(3)))
        await until(lambda: calls == [1, 3])  # the batch of 3 is inside the model
        early = asyncio.ensure_future(batcher.predict([3]))
        await first  # 3 clients come back at once: they join the early one
        await asyncio.gather(early, *(batcher.predict([i]) for i in range(4, 6)))

    asyncio.run(main())
    assert calls == [1, 3, 3]  # without lingering: [1, 3, 1, 2]


def test_at_concurrency_one_nothing_lingers() -> None:
    calls: list[int] = []

    def predict(rows: list[int]) -> list[int]:
        calls.append(len(rows))
        time.sleep(0.05)
        return rows

    async def main() -> None:
        batcher = Batcher(predict)
        for i in range(3):
            await batcher.predict([i])
        assert not batcher._wanted

    asyncio.run(main())
    assert calls == [1, 1, 1]


FLOAT_MANIFEST = """\
name: floats
kind: online
owner: o@example.com
entrypoints: {train: m:train}
input_schema:
  - {name: a, type: float}
  - {name: b, type: float, required: false}
target: {name: y, type: int}
"""


class _Predictor:
    """Stands in for a loaded version: feature names and a predict that records frames."""

    def __init__(self, model: object, names: list[str]) -> None:
        self.model = model
        self.feature_names = names
        self.frames: list[pd.DataFrame] = []
        self.calls: list[object] = []

    def predict(self, rows: object) -> np.ndarray:
        self.calls.append(rows)
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
        self.frames.append(frame)
        return np.asarray(self.model.predict(frame.reindex(columns=self.feature_names)))


def test_an_all_float_schema_builds_one_float_frame_with_the_same_predictions() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    train = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    model = HistGradientBoostingClassifier(max_iter=20).fit(train, train["a"] + train["b"] > 0)
    predictor = _Predictor(model, ["a", "b"])
    predict = predict_function(predictor, parse_manifest(FLOAT_MANIFEST))
    rows = [{"b": 0.5, "a": 1}, {"a": -2.0, "b": None}, {"a": 0.25, "b": None}]
    got = predict(rows)
    frame = predictor.frames[-1]
    assert list(frame.columns) == ["a", "b"] and set(frame.dtypes) == {np.dtype("float64")}
    assert np.isnan(frame["b"].iloc[1]) and np.isnan(frame["b"].iloc[2])
    expected = model.predict(pd.DataFrame({"a": [1.0, -2.0, 0.25], "b": [0.5, np.nan, np.nan]}))
    assert got.tolist() == expected.tolist()


def test_a_missing_or_flagged_value_takes_the_general_path_that_names_it() -> None:
    class Zeros:
        def predict(self, frame: pd.DataFrame) -> np.ndarray:
            return np.zeros(len(frame))

    predictor = _Predictor(Zeros(), ["a", "b"])
    predict = predict_function(predictor, parse_manifest(FLOAT_MANIFEST))
    for rows in ([{"a": 1.0}], [{"a": 1.0, "b": "odd"}]):
        predict(rows)
        assert predictor.calls[-1] is rows  # records, not a float frame


def test_failing_calls_do_not_make_a_costly_model_look_cheap() -> None:
    def predict(rows: list[int]) -> list[int]:
        if rows[0] < 0:
            raise ValueError("fails fast")
        time.sleep(0.02)
        return rows

    async def main() -> bool:
        batcher = Batcher(predict)
        await batcher.predict([1])
        for _ in range(20):
            with pytest.raises(ValueError, match="fails fast"):
                await batcher.predict([-1])
        return batcher.inline

    assert asyncio.run(main()) is False


def test_a_schema_with_other_types_takes_the_general_path() -> None:
    manifest = parse_manifest(
        FLOAT_MANIFEST.replace("{name: b, type: float", "{name: b, type: int")
    )
    predictor = _Predictor(None, ["a", "b"])
    assert predict_function(predictor, manifest) == predictor.predict
    unknown = _Predictor(None, ["a", "b", "c"])  # a model feature the schema does not declare
    assert predict_function(unknown, parse_manifest(FLOAT_MANIFEST)) == unknown.predict


def test_tokens_are_checked_once_per_interval_and_survive_an_outage(monkeypatch) -> None:
    from lightkeeper.auth import Principal
    from lightkeeper.errors import ServiceNotReady, Unauthenticated
    from lightkeeper.serving import access

    calls: list[str] = []
    down = threading.Event()

    def verify(secret: str) -> Principal:
        calls.append(secret)
        if down.is_set():
            raise DatabaseUnavailable("cannot open the ops database: connection refused")
        if secret != "good":
            raise Unauthenticated("the API token is unknown or revoked")
        return Principal("web-shop", "predict")

    check = access.ServingAccess(verify, enabled=True)
    for _ in range(3):
        assert check.require("Bearer good", "serving.predict").name == "web-shop"
        with pytest.raises(Unauthenticated):
            check.require("Bearer made-up", "serving.predict")
    assert calls == ["good", "made-up"]  # a flood of one bad token costs one read
    monkeypatch.setattr(access, "RECHECK_SECONDS", 0.0)
    down.set()
    assert check.require("Bearer good", "serving.predict").name == "web-shop"  # seen before
    with pytest.raises(ServiceNotReady):
        check.require("Bearer never-seen", "serving.predict")
    assert asyncio.run(check.require_async("Bearer good", "serving.predict")).name == "web-shop"
    assert access.ServingAccess(verify, enabled=False).require(None, "serving.predict") is None


def test_brackets_inside_strings_do_not_count_toward_the_pre_parse_limit() -> None:
    import orjson

    from lightkeeper.errors import PayloadTooLarge
    from lightkeeper.serving.app import _json

    noted = orjson.dumps([{"note": "[x] {y} " * 25, "a": 1} for _ in range(1000)])
    assert len(_json(noted)) == 1000
    empty = b'{"inputs": [' + b"[]," * 100_000 + b"[]]}"
    with pytest.raises(PayloadTooLarge, match="JSON arrays or objects"):
        _json(empty)
