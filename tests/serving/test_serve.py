"""The model server over real HTTP: predictions, MLflow formats, probes, bad payloads."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "deploy"))
from test_releases import OPS, accepted_versions

from lightkeeper import Lightkeeper

ROW = {"income": 40.0, "age": 35, "region": "south"}


@pytest.fixture
def served(lk: Lightkeeper, tmp_path: Path, serve) -> tuple[str, int]:
    [version] = accepted_versions(lk, tmp_path, 1)
    lk.deployment_create("credit-online", model="credit", kind="online", by=OPS)
    lk.release("credit-online", version, reason="go", by=OPS)
    return serve(lk.serving_app("credit-online")), version


def test_predict_one_and_many_with_version_arm_and_request_id(lk: Lightkeeper, served) -> None:
    base, version = served
    expected = lk.load("credit", version).predict([ROW, {**ROW, "income": 400.0}]).tolist()
    with httpx.Client(base_url=base, timeout=30) as http:
        assert http.get("/healthz").json() == {"status": "alive"}
        ready = http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["version"] == version
        one = http.post("/predict", json=ROW, headers={"x-request-id": "abc"}).json()
        assert one["predictions"] == expected[:1]
        assert (one["version"], one["arm"], one["request_id"]) == (version, "champion", "abc")
        many = http.post("/predict", json=[ROW, {**ROW, "income": 400.0}]).json()
        assert many["predictions"] == expected and len(many["request_id"]) == 32


def test_mlflow_invocation_formats(served) -> None:
    base, _ = served
    columns = ["income", "age", "region"]
    bodies = [
        {"dataframe_split": {"columns": columns, "data": [[40.0, 35, "south"]]}},
        {"dataframe_records": [ROW]},
        {"instances": [ROW]},
        {"inputs": {"income": [40.0], "age": [35], "region": ["south"]}},
    ]
    with httpx.Client(base_url=base, timeout=30) as http:
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


def test_bad_payloads_are_4xx_naming_the_field(served) -> None:
    base, _ = served
    with httpx.Client(base_url=base, timeout=30) as http:
        for body, match in BAD_BODIES:
            response = http.post("/predict", json=body)
            assert response.status_code == 422, body
            assert response.json()["error"]["code"] == "LK-INVALID-INPUT"
            assert match in response.json()["error"]["message"]
        broken = http.post("/predict", content=b"{not json")
        assert broken.status_code == 422 and "not JSON" in broken.json()["error"]["message"]
        unknown = http.post("/invocations", json={"rows": [ROW]})
        assert unknown.status_code == 422 and "unknown /invocations format" in unknown.text


def test_a_deployment_without_release_is_alive_but_not_ready(
    lk: Lightkeeper, tmp_path: Path, serve
) -> None:
    accepted_versions(lk, tmp_path, 1)
    lk.deployment_create("empty", model="credit", kind="online", by=OPS)
    base = serve(lk.serving_app("empty"))
    assert httpx.get(f"{base}/healthz", timeout=30).status_code == 200
    ready = httpx.get(f"{base}/readyz", timeout=30)
    assert ready.status_code == 503 and "no release yet" in ready.json()["detail"]
    refused = httpx.post(f"{base}/predict", json=ROW, timeout=30)
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "LK-NOT-READY"
