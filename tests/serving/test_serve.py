"""The model server over real HTTP: predictions, MLflow formats, probes, bad payloads."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from lightkeeper import Lightkeeper
from lightkeeper.testing import OPERATOR
from support import BOOM_INCOME, ROW


@pytest.fixture
def served(lk: Lightkeeper, serve) -> str:
    lk.releases.release("credit-online", 1, reason="go", by=OPERATOR)
    return serve(lk.serving_app("credit-online"))


def test_predict_one_and_many_with_version_arm_and_request_id(lk: Lightkeeper, served) -> None:
    expected = lk.load("credit", 1).predict([ROW, {**ROW, "income": 400.0}]).tolist()
    with httpx.Client(base_url=served, timeout=30) as http:
        assert http.get("/healthz").json() == {"status": "alive"}
        ready = http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["version"] == 1 and ready.json()["warmed_on_rows"] == {"champion": 32}
        one = http.post("/predict", json=ROW, headers={"x-request-id": "abc"}).json()
        assert one["predictions"] == expected[:1]
        assert (one["version"], one["arm"], one["request_id"]) == (1, "champion", "abc")
        many = http.post("/predict", json=[ROW, {**ROW, "income": 400.0}]).json()
        assert many["predictions"] == expected and len(many["request_id"]) == 32


def test_scoring_skips_the_framework_but_keeps_its_routes_documented(
    lk: Lightkeeper, serve, served
) -> None:
    """POST /predict is answered by the server's own ASGI handler; the FastAPI routes
    (for OpenAPI, and for a host that calls the router itself) hand over to the same."""
    with httpx.Client(base_url=served, timeout=30) as http:
        fast = http.post("/predict", json=ROW, headers={"x-request-id": "fast-1"})
        assert fast.headers["x-request-id"] == "fast-1"
        assert http.get("/predict").status_code == 405
        paths = http.get("/openapi.json").json()["paths"]
        assert "post" in paths["/predict"] and "post" in paths["/invocations"]
    app = lk.serving_app("credit-online", rollout="off")

    async def through_the_router(scope: Any, receive: Any, send: Any) -> None:
        await FastAPI.__call__(app, scope, receive, send)

    with httpx.Client(base_url=serve(through_the_router), timeout=30) as http:
        routed = http.post("/invocations", json={"instances": [ROW]}, headers={"x-request-id": "r"})
        bad = http.post("/predict", json={**ROW, "age": 12})
    assert routed.json()["predictions"] == fast.json()["predictions"]
    assert routed.headers["x-request-id"] == "r" and routed.json()["request_id"] == "r"
    assert bad.status_code == 422 and "rows[0].age" in bad.json()["error"]["message"]


def test_mlflow_invocation_formats(served) -> None:
    columns = ["income", "age", "region"]
    bodies = [
        {"dataframe_split": {"columns": columns, "data": [[40.0, 35, "south"]]}},
        {"dataframe_records": [ROW]},
        {"instances": [ROW]},
        {"inputs": {"income": [40.0], "age": [35], "region": ["south"]}},
    ]
    with httpx.Client(base_url=served, timeout=30) as http:
        answers = [http.post("/invocations", json=body).json()["predictions"] for body in bodies]
    assert all(answer == answers[0] and len(answer) == 1 for answer in answers)


BAD_BODIES = [
    ({**ROW, "age": 12}, "rows[0].age: 12 is below the minimum 18"),
    ({**ROW, "region": "west"}, "rows[0].region: 'west' is not a known category"),
    ({"income": 40.0, "region": "south"}, "rows[0].age: is required"),
    ({**ROW, "income": "lots"}, "rows[0].income: 'lots' is not a number"),
    ([ROW, 5], "rows[1] is a int, not an object"),
    ([], "no rows"),
]
BAD_INVOCATIONS = [
    ({"rows": [ROW]}, "unknown /invocations format"),
    ({"dataframe_split": {"columns": ["income"], "data": [[1, 2]]}}, "data[0] does not have 1"),
    ({"inputs": {"income": [1.0, 2.0], "age": [30]}}, "a list of equal length per column"),
    ({"instances": [ROW], "inputs": [ROW]}, "an object with one key"),
    ({"dataframe_split": {"columns": [1, 2], "data": [[1, 2]]}}, "columns are names"),
]


def test_bad_payloads_are_4xx_naming_the_field(served) -> None:
    with httpx.Client(base_url=served, timeout=30) as http:
        for body, match in BAD_BODIES:
            response = http.post("/predict", json=body)
            assert response.status_code == 422, body
            assert response.json()["error"]["code"] == "LK-INVALID-INPUT"
            assert match in response.json()["error"]["message"]
        broken = http.post("/predict", content=b"{not json")
        assert broken.status_code == 422 and "not JSON" in broken.json()["error"]["message"]
        for body, match in BAD_INVOCATIONS:
            response = http.post("/invocations", json=body)
            assert response.status_code == 422 and match in response.text, body
        long_id = http.post("/predict", json=ROW, headers={"x-request-id": "x" * 101})
        assert long_id.status_code == 422 and "X-Request-Id header has 101" in long_id.text
        too_many = http.post("/predict", json=[ROW] * 10_001)
        assert too_many.status_code == 413
        assert too_many.json()["error"]["code"] == "LK-PAYLOAD-TOO-LARGE"
        too_big = http.post("/predict", content=b" " * (10 * 1024 * 1024 + 1))
        assert too_big.status_code == 413 and "more than 10,485,760" in too_big.text
        chunked = http.post("/predict", content=iter([b" " * 1024 * 1024] * 11))
        assert chunked.status_code == 413 and "so far" in chunked.text
        assert http.get("/readyz").json()["counts"]["rejected"] == 16


def test_a_deployment_without_release_is_alive_but_not_ready(lk: Lightkeeper, serve) -> None:
    base = serve(lk.serving_app("credit-online"))
    assert httpx.get(f"{base}/healthz", timeout=30).status_code == 200
    ready = httpx.get(f"{base}/readyz", timeout=30)
    assert ready.status_code == 503 and "no release yet" in ready.json()["detail"]
    refused = httpx.post(f"{base}/predict", json=ROW, timeout=30)
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "LK-NOT-READY"


def test_predictions_are_logged_and_counted_in_metrics(lk: Lightkeeper, served) -> None:
    with httpx.Client(base_url=served, timeout=30) as http:
        for i in range(5):
            http.post(
                "/predict", json=[ROW, {**ROW, "age": 40 + i}], headers={"x-request-id": f"r{i}"}
            )
        http.post("/predict", json={**ROW, "age": 3})
        metrics = http.get("/metrics").text
        server = http.get("/readyz").json()
    assert (
        'lightkeeper_requests_total{arm="champion",deployment="credit-online",status="200",'
        'version="1"} 5.0' in metrics
    )
    assert 'lightkeeper_rejected_requests_total{code="LK-INVALID-INPUT"' in metrics
    assert "lightkeeper_prediction_latency_seconds_bucket" in metrics
    assert 'lightkeeper_prediction_log_dropped_total{deployment="credit-online"} 0.0' in metrics
    assert server["counts"]["predictions"] == 10
    deadline = time.monotonic() + 10
    while lk.logs.count("credit-online") < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    [first, second] = sorted(lk.logs.find("credit-online", request_id="r3"), key=lambda r: r.row)
    assert (first.version, first.arm, first.inputs, first.error) == (1, "champion", ROW, None)
    assert second.inputs["age"] == 43 and second.output in (0, 1) and first.latency_ms > 0


def test_heartbeats_name_the_instance_and_its_versions(lk: Lightkeeper, serve) -> None:
    lk.releases.release("credit-online", 1, reason="go", by=OPERATOR)
    base = serve(lk.serving_app("credit-online", heartbeat=0.2))
    httpx.post(f"{base}/predict", json=ROW, timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        signals = lk.stores.signals.all(subject="credit-online")
        if signals and signals[0].payload["counts"]["predictions"] == 1:
            break
        time.sleep(0.05)
    [signal] = signals
    assert signal.kind == "serve" and signal.instance_id.startswith("serve-")
    assert signal.payload["versions"] == {"champion": 1} and signal.alive(lk.clock.now())


def test_a_champion_that_raises_is_a_500_with_the_request_id_logged(lk: Lightkeeper, serve) -> None:
    lk.releases.release("credit-online", 3, reason="v3 raises on one income", by=OPERATOR)
    app = lk.serving_app("credit-online", rollout="off")
    base = serve(app)
    with httpx.Client(base_url=base, timeout=30) as http:
        failed = http.post(
            "/predict", json={**ROW, "income": BOOM_INCOME}, headers={"x-request-id": "boom"}
        )
        fine = http.post("/predict", json=ROW)
        metrics = http.get("/metrics").text
    assert failed.status_code == 500
    error = failed.json()["error"]
    assert error["code"] == "LK-PREDICTION-FAILED" and "ZeroDivisionError" in error["message"]
    assert "request id boom" in error["hint"]
    assert fine.status_code == 200 and fine.json()["version"] == 3
    assert 'status="500",version="3"} 1.0' in metrics
    assert app.state.server.writer.flush()
    [logged] = lk.logs.find("credit-online", request_id="boom")
    assert logged.output is None and logged.error.startswith("ZeroDivisionError")
