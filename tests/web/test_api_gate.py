"""Gold datasets, gate runs and sign-off over real HTTP, with role checks."""

from __future__ import annotations

from pathlib import Path

import httpx

from lightkeeper import Lightkeeper, Settings
from lightkeeper.testing import ANALYST, credit_gold, credit_project
from lightkeeper.web.api import build_api


def test_gold_gate_and_sign_off_over_http(
    home: Path, database_url: str, tmp_path: Path, serve
) -> None:
    settings = Settings.load(
        {"home": home, "database_url": database_url}, environ={"LIGHTKEEPER_AUTH": "true"}
    )
    lk = Lightkeeper(settings)
    _, root = lk.access.create("root", "admin")
    admin = lk.principal(root)
    secrets = {
        name: lk.access.create(name, role, by=admin)[1]
        for name, role in [("ana", "data-scientist"), ("olga", "operator"), ("bea", "owner")]
    }
    project = credit_project(tmp_path)
    lk.training.train(project, by=ANALYST)
    base = serve(build_api(lk))

    def auth(name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secrets[name]}"}

    rows = credit_gold(400).to_dict(orient="records")
    body = {
        "name": "credit-gold",
        "owner": "risk-desk",
        "label_column": "defaulted",
        "segment_column": "region",
        "model": "credit",
        "rows": rows,
    }
    with httpx.Client(base_url=base, timeout=120) as http:
        added = http.post("/api/v1/gold", json=body, headers=auth("bea"))
        assert added.status_code == 201, added.text
        assert added.json()["version"] == 1 and added.json()["created"] is True
        again = http.post("/api/v1/gold", json=body, headers=auth("bea"))
        assert again.json()["created"] is False

        bad = http.post(
            "/api/v1/gold",
            json={**body, "rows": [{**rows[0], "region": "mars"}]},
            headers=auth("bea"),
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["code"] == "LK-GOLD-INVALID"
        assert "'mars'" in bad.json()["error"]["message"]
        missing_field = http.post("/api/v1/gold", json={"name": "x"}, headers=auth("bea"))
        assert missing_field.status_code == 422
        assert {tuple(e["loc"]) for e in missing_field.json()["detail"]} >= {("body", "owner")}

        denied = http.post(
            "/api/v1/gold/credit-gold/versions/1/approve", json={}, headers=auth("ana")
        )
        assert denied.status_code == 403
        approved = http.post(
            "/api/v1/gold/credit-gold/versions/1/approve", json={"note": "ok"}, headers=auth("bea")
        )
        assert approved.json()["approved_by"] == "bea"
        assert http.get("/api/v1/gold", headers=auth("ana")).json()["gold"][0]["approved"]

        run = http.post("/api/v1/models/credit/versions/1/gate", headers=auth("ana"))
        assert run.status_code == 200, run.text
        gate = run.json()
        assert gate["verdict"] == "passed" and gate["gold"]["rows"] == 400
        report = http.get(f"/api/v1/gate/runs/{gate['id']}/report", headers=auth("olga"))
        assert report.status_code == 200 and "text/html" in report.headers["content-type"]
        assert "credit" in report.text
        assert (
            http.get(f"/api/v1/gate/runs/{gate['id']}", headers=auth("olga")).json()["id"]
            == gate["id"]
        )
        listed = http.get("/api/v1/gate/runs", params={"model": "credit"}, headers=auth("olga"))
        assert [r["id"] for r in listed.json()["runs"]] == [gate["id"]]
        assert gate["deployment"] is None and gate["deployments"] == []
        elsewhere = http.post(
            "/api/v1/models/credit/versions/1/gate",
            params={"deployment": "nope"},
            headers=auth("ana"),
        )
        assert elsewhere.status_code == 404
        assert elsewhere.json()["error"]["code"] == "LK-DEPLOYMENT-NOT-FOUND"

        no_accept = http.post(
            "/api/v1/models/credit/versions/1/accept", json={}, headers=auth("ana")
        )
        assert no_accept.status_code == 403
        accepted = http.post(
            "/api/v1/models/credit/versions/1/accept", json={}, headers=auth("olga")
        )
        assert accepted.status_code == 200
        assert accepted.json()["signoff"]["actor"] == "olga"
        latest = http.get("/api/v1/models/credit/versions/1/gate", headers=auth("ana"))
        assert latest.json()["signoff"]["decision"] == "accepted"

        assert http.get("/api/v1/gate/runs/999", headers=auth("ana")).status_code == 404
        nothing = http.get("/api/v1/models/nope/versions/1/gate", headers=auth("ana"))
        assert (
            nothing.status_code == 404 and nothing.json()["error"]["code"] == "LK-MODEL-NOT-FOUND"
        )
    lk.close()
