"""The control-plane HTTP API over real HTTP on 127.0.0.1."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from lightkeeper import Lightkeeper
from lightkeeper.auth import Principal
from lightkeeper.testing import ANALYST, free_port
from lightkeeper.web.api import build_api

BO = Principal("bo", "admin")


@pytest.mark.both_databases
def test_health_models_versions_and_audit(lk: Lightkeeper, project: Path, serve) -> None:
    lk.training.train(project, by=ANALYST)
    base = serve(build_api(lk))
    with httpx.Client(base_url=base, timeout=30) as http:
        health = http.get("/api/v1/health").json()
        assert health["status"] == "ok" and health["version"]

        [model] = http.get("/api/v1/models").json()["models"]
        assert (model["name"], model["latest_version"]) == ("credit-risk", 1)

        detail = http.get("/api/v1/models/credit-risk").json()
        assert [v["version"] for v in detail["version_list"]] == [1]

        version = http.get("/api/v1/models/credit-risk/versions/latest").json()
        assert version["registered_by"] == "ana"
        assert version["lineage"]["data"]["rows"] == 8
        assert version["lineage"]["data"]["hash"].startswith("sha256:")

        entries = http.get("/api/v1/audit", params={"kind": "version"}).json()["entries"]
        assert [e["subject"] for e in entries] == ["model:credit-risk/1"]

        spec = http.get("/openapi.json").json()
        assert "/api/v1/models/{name}/versions/{version}" in spec["paths"]


def test_errors_are_json_with_code_and_hint(lk: Lightkeeper, project: Path, serve) -> None:
    lk.training.train(project)
    base = serve(build_api(lk))
    with httpx.Client(base_url=base, timeout=30) as http:
        missing = http.get("/api/v1/models/nope")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "LK-MODEL-NOT-FOUND"
        assert missing.json()["error"]["hint"]

        no_version = http.get("/api/v1/models/credit-risk/versions/9")
        assert no_version.status_code == 404
        assert no_version.json()["error"]["code"] == "LK-VERSION-NOT-FOUND"

        bad_limit = http.get("/api/v1/audit", params={"limit": 0})
        assert bad_limit.status_code == 422
        assert bad_limit.json()["detail"][0]["loc"] == ["query", "limit"]

        bad_since = http.get("/api/v1/audit", params={"since": "yesterday-ish"})
        assert bad_since.status_code == 422


def test_unreachable_database_is_503(tmp_path: Path, serve) -> None:
    from lightkeeper import Settings

    settings = Settings.load(
        {"home": tmp_path, "database_url": "postgresql://lk@127.0.0.1:1/ops"}, environ={}
    )
    base = serve(build_api(Lightkeeper(settings)))
    response = httpx.get(base + "/api/v1/health", timeout=30)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "LK-DATABASE-UNAVAILABLE"


def test_auth_on_needs_a_token_and_roles_are_checked(
    home: Path, database_url: str, project: Path, serve
) -> None:
    from lightkeeper import Settings

    settings = Settings.load(
        {"home": home, "database_url": database_url}, environ={"LIGHTKEEPER_AUTH": "true"}
    )
    lk = Lightkeeper(settings)
    _, admin = lk.access.create("root", "admin")  # the first token needs none
    _, scientist = lk.access.create("ana", "data-scientist", by=lk.principal(admin))
    base = serve(build_api(lk))
    with httpx.Client(base_url=base, timeout=60) as http:
        anonymous = http.get("/api/v1/models")
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["code"] == "LK-UNAUTHENTICATED"
        wrong = http.get("/api/v1/models", headers={"Authorization": "Bearer lk_nope"})
        assert wrong.status_code == 401
        as_ana = {"Authorization": f"Bearer {scientist}"}
        assert http.get("/api/v1/models", headers=as_ana).status_code == 200
        denied = http.post("/api/v1/tokens", json={"name": "x", "role": "admin"}, headers=as_ana)
        assert denied.status_code == 403
        assert denied.json()["error"]["code"] == "LK-PERMISSION-DENIED"
        as_root = {"Authorization": f"Bearer {admin}"}
        created = http.post(
            "/api/v1/tokens", json={"name": "olga", "role": "operator"}, headers=as_root
        )
        assert created.status_code == 201 and created.json()["token"].startswith("lk_")
        bad_role = http.post("/api/v1/tokens", json={"name": "x", "role": "boss"}, headers=as_root)
        assert bad_role.status_code == 422 and bad_role.json()["detail"][0]["loc"] == [
            "body",
            "role",
        ]
        token_id = created.json()["id"]
        assert http.delete(f"/api/v1/tokens/{token_id}", headers=as_root).status_code == 200
        revoked = {"Authorization": f"Bearer {created.json()['token']}"}
        assert http.get("/api/v1/models", headers=revoked).status_code == 401
    lk.close()


def test_lightkeeper_up_serves_the_api(home: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIGHTKEEPER_", "MLFLOW_"))}
    env["LIGHTKEEPER_HOME"] = str(home)
    process = subprocess.Popen(
        [sys.executable, "-m", "lightkeeper", "up", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    out, err = process.communicate(timeout=5)
                    pytest.fail(f"lightkeeper up did not answer: {out}\n{err}")
                time.sleep(0.1)
        assert response.json()["status"] == "ok"
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/models", timeout=30).json() == {
            "models": []
        }
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)


def test_limits_and_malformed_requests_are_client_errors_in_the_documented_shape(
    lk: Lightkeeper, project: Path, serve
) -> None:
    lk.training.train(project, by=ANALYST)
    huge = str(2**64 + 1)  # beyond 64 bits: SQLite and MLflow used to raise OverflowError
    with httpx.Client(base_url=serve(build_api(lk)), timeout=30) as http:
        for path in (
            f"/api/v1/alarms/{huge}",
            f"/api/v1/gate/runs/{huge}",
            f"/api/v1/monitor-results/{huge}/report",
            f"/api/v1/gold/credit-gold/versions/{2**31}",  # past PostgreSQL's INTEGER
            f"/api/v1/gate/runs?version={huge}",
            f"/api/v1/models/credit-risk/versions/{huge}",
            f"/api/v1/models/credit-risk/versions/{huge}/gate",
        ):
            answer = http.get(path)
            assert answer.status_code == 422, (path, answer.text)
            assert answer.json()["error"]["code"] == "LK-INVALID-INPUT", path
        release = http.post(
            "/api/v1/deployments/nowhere/releases", json={"version": huge, "reason": "r"}
        )
        assert release.status_code == 422 and "not a version number" in release.text

        named = http.post(
            "/api/v1/deployments", json={"name": "credit risk!", "model": "credit-risk"}
        )
        assert named.status_code == 422
        assert named.json()["error"]["message"] == (
            "deployment name 'credit risk!' is not a valid name"
        )
        assert "at most 100 characters" in named.json()["error"]["hint"]

        for body, content_type, said in (
            (b'{"name": "d", ', "application/json", "the request body is not valid JSON"),
            (b"\xff\xfe{}", "application/json", "the request body is not valid JSON"),
            (b"\xff\xfe6", "application/json", "the request body of POST /api/v1/deployments"),
            (b'{"name": "d"}', "text/plain", "the request body is text/plain"),
        ):
            answer = http.post(
                "/api/v1/deployments", content=body, headers={"content-type": content_type}
            )
            assert answer.status_code == 422, answer.text
            error = answer.json()["error"]
            assert set(error) == {"code", "message", "hint"} and error["code"] == "LK-INVALID-INPUT"
            assert error["message"].startswith(said), error

        unknown = http.get("/api/v1/modles")
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "LK-NO-SUCH-ROUTE"
        wrong = http.delete("/api/v1/models")
        assert wrong.status_code == 405
        assert (
            wrong.json()["error"]["message"] == "/api/v1/models does not take DELETE (it takes GET)"
        )

        spec = http.get("/openapi.json").json()
    alarm = spec["paths"]["/api/v1/alarms/{alarm_id}/ack"]["post"]
    assert set(alarm["responses"]) == {"200", "401", "403", "404", "409", "422", "500", "503"}
    error = alarm["responses"]["404"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/ErrorResponse"}
    assert "ErrorResponse" in spec["components"]["schemas"]
    report = spec["paths"]["/api/v1/gate/runs/{run_id}/report"]["get"]["responses"]
    assert "text/html" in report["200"]["content"]
    assert "application/json" in report["404"]["content"]


def test_errors_never_carry_a_credential_of_the_settings(home: Path, serve) -> None:
    from lightkeeper import Settings

    password = "Pw-7f3c9a1e"
    settings = Settings.load(
        {
            "home": home,
            "database_url": f"sqlite:///{home / 'ops.db'}",
            "tracking_uri": f"http://lk:{password}@127.0.0.1:1",
        },
        environ={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"},
    )
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    try:
        answer = httpx.get(serve(build_api(Lightkeeper(settings))) + "/api/v1/models", timeout=60)
    finally:
        del os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"]
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "LK-MODEL-STORE-UNAVAILABLE"
    assert password not in answer.text and "lk:***@127.0.0.1:1" in answer.text
