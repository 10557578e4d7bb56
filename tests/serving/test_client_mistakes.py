"""Over real HTTP: a client's mistake is a 4xx, never a model error, and cannot steer a rollout."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
import pytest

from lightkeeper import Lightkeeper
from lightkeeper.split import bucket
from lightkeeper.store.predictions import PredictionRecord
from lightkeeper.testing import OPERATOR, wait_for
from support import ROW

NESTED = "[" * 200 + "1" + "]" * 200
BAD_VALUES = ["null", '"x"', "[1]", '{"a": 1}', "1e308", "true", NESTED, "-1e39"]


@pytest.fixture
def served(lk: Lightkeeper, serve) -> str:
    lk.releases.release("credit-online", 1, reason="go", by=OPERATOR)
    return serve(lk.serving_app("credit-online", rollout="off"))


def test_every_bad_value_in_every_field_is_a_4xx_naming_it(served: str) -> None:
    with httpx.Client(base_url=served, timeout=30) as http:
        for field in ROW:
            for value in BAD_VALUES:
                row = ",".join(
                    f'"{name}": {value if name == field else _json(v)}' for name, v in ROW.items()
                )
                bodies = (
                    ("/predict", f"{{{row}}}"),
                    ("/invocations", f'{{"inputs": [{{{row}}}]}}'),
                )
                for path, body in bodies:
                    answer = http.post(path, content=body)
                    assert answer.status_code == 422, (path, field, value, answer.text)
                    error = answer.json()["error"]
                    assert error["code"] == "LK-INVALID-INPUT"
                    assert f"rows[0].{field}: " in error["message"], error
        for raw in ('{"income": NaN, "age": 30, "region": "south"}', "[" * 5000 + "]" * 5000):
            answer = http.post("/predict", content=raw)
            assert answer.status_code == 422 and "not JSON" in answer.text
        status = http.get("/readyz").json()
        assert status["counts"]["errors"] == 0 and status["counts"]["predictions"] == 0
        assert "lightkeeper_prediction_errors_total{" not in http.get("/metrics").text


def _json(value: object) -> str:
    import orjson

    return orjson.dumps(value).decode()


def test_megabytes_of_empty_rows_are_refused_before_parsing_and_probes_stay_answered(
    served: str,
) -> None:
    rows = 8 * 1024 * 1024 // 3
    body = b'{"dataframe_split": {"columns": ["income"], "data": [' + b"[]," * rows + b"[]]}}"
    answers: list[int] = []
    probes: list[int] = []
    done = threading.Event()

    def flood() -> None:
        with httpx.Client(base_url=served, timeout=60) as http:
            for _ in range(5):
                answer = http.post("/invocations", content=body)
                assert "JSON arrays or objects" in answer.text, answer.text
                answers.append(answer.status_code)
        done.set()

    threads = [threading.Thread(target=flood) for _ in range(2)]
    for thread in threads:
        thread.start()
    with httpx.Client(base_url=served, timeout=10) as http:
        while not done.is_set():
            probes.append(http.get("/healthz").status_code)
    for thread in threads:
        thread.join()
    assert set(answers) == {413} and len(answers) >= 5
    assert probes and set(probes) == {200}


def test_a_flood_of_bad_requests_on_challenger_keys_leaves_the_canary_running(
    lk: Lightkeeper, serve
) -> None:
    lk.releases.release("credit-online", 1, reason="first", by=OPERATOR)
    lk.releases.release(
        "credit-online", 2, strategy="canary", percent=50, reason="try 2", by=OPERATOR
    )
    base = serve(lk.serving_app("credit-online"))  # with its rollout controller
    wait_for(lambda: httpx.get(f"{base}/readyz").json()["versions"].get("challenger") == 2)
    keys = [str(i) for i in range(2000) if bucket(str(i)) < 50][:300]
    with httpx.Client(base_url=base, timeout=30) as http:
        for key in keys:
            bad = {**ROW, "income": "lots", "age": [1]}
            answer = http.post("/predict", json=bad, headers={"x-routing-key": key})
            assert answer.status_code == 422
    current = lk.releases.current("credit-online")
    assert (current.action, current.challenger) == ("release", 2)
    verdict = lk.rollout_controller(holder="test", only="credit-online").check(
        "credit-online", current
    )
    assert verdict.action != "rollback"
    assert verdict.evidence["challenger"]["errors"] == 0


def test_model_errors_on_flagged_rows_do_not_count_against_the_challenger(
    lk: Lightkeeper,
) -> None:
    lk.releases.release("credit-online", 1, reason="first", by=OPERATOR)
    release = lk.releases.release(
        "credit-online", 2, strategy="canary", percent=50, reason="2", by=OPERATOR
    )
    at = release.at + timedelta(seconds=1)

    def record(i: int, *, error: str | None, flags: list[str] | None) -> PredictionRecord:
        return PredictionRecord(
            at=at,
            deployment="credit-online",
            request_id=f"r{i}",
            row=0,
            version=2,
            arm="challenger",
            inputs=ROW,
            output=None if error else 0,
            latency_ms=1.0,
            error=error,
            flags=flags,
        )

    flagged = [record(i, error="ValueError: unknown", flags=["region: 'x'"]) for i in range(50)]
    lk.logs.add_many(flagged + [record(100 + i, error=None, flags=None) for i in range(30)])
    controller = lk.rollout_controller(holder="test", only="credit-online")
    verdict = controller.check("credit-online", lk.releases.current("credit-online"))
    assert verdict.action != "rollback", verdict.reason
    evidence = verdict.evidence["challenger"]
    assert (evidence["errors"], evidence["flagged_errors"], evidence["predictions"]) == (0, 50, 30)
    lk.logs.add_many([record(200 + i, error="ValueError: boom", flags=None) for i in range(5)])
    verdict = controller.check("credit-online", lk.releases.current("credit-online"))
    assert verdict.action == "rollback" and "error rate 14.3%" in verdict.reason
