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
from support import free_port

ANA = Principal("ana", "data-scientist")
BO = Principal("bo", "admin")


def test_health_models_versions_and_audit(lk: Lightkeeper, project: Path, serve) -> None:
    lk.train(project, by=ANA)
    base = serve(lk.api_app())
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
    lk.train(project)
    base = serve(lk.api_app())
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
    base = serve(Lightkeeper(settings).api_app())
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
    _, admin = lk.token_create("root", "admin")  # the first token needs none
    _, scientist = lk.token_create("ana", "data-scientist", by=lk.principal(admin))
    base = serve(lk.api_app())
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
