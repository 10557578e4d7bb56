"""Releases through the CLI and over HTTP."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import httpx
import pytest

from lightkeeper import Lightkeeper
from lightkeeper.store.predictions import PredictionRecord
from lightkeeper.web.api import build_api


def test_release_and_rollback_from_the_command_line(
    cli, lk: Lightkeeper, versions: list[int]
) -> None:
    v1, v2, _ = versions
    code, out, err = cli("deployments", "create", "credit-online", "--model", "credit")
    assert code == 0, err
    code, out, err = cli("release", "credit-online", str(v2), "--reason", "first")
    assert code == 0 and f"champion {v2}" in out, err
    code, out, err = cli(
        "release",
        "credit-online",
        str(v1),
        "--strategy",
        "canary",
        "--percent",
        "5",
        "--reason",
        "try the older one",
    )
    assert code == 0 and f"challenger {v1} (canary 5%)" in out, err
    code, out, _ = cli("deployments", "list", "--json")
    [state] = json.loads(out)["deployments"]
    assert (state["state"]["champion"], state["state"]["challenger"]) == (v2, v1)
    code, out, _ = cli("rollback", "credit-online")
    assert code == 0 and "rolled back credit-online: champion" in out
    code, out, _ = cli("releases", "credit-online", "--json")
    assert [r["action"] for r in json.loads(out)["releases"]] == ["rollback", "release", "release"]
    code, out, _ = cli("releases", "credit-online")
    assert code == 0 and "try the older one" in out
    code, _, err = cli("release", "credit-online", "99", "--reason", "x")
    assert code == 2 and "LK-VERSION-NOT-FOUND" in err
    code, _, err = cli("rollback", "nope")
    assert code == 2 and "LK-DEPLOYMENT-NOT-FOUND" in err


@pytest.mark.both_databases
def test_releases_over_http(lk: Lightkeeper, versions: list[int], serve) -> None:
    v1, v2, _ = versions
    base = serve(build_api(lk))
    with httpx.Client(base_url=base, timeout=60) as http:
        created = http.post("/api/v1/deployments", json={"name": "d", "model": "credit"})
        assert created.status_code == 201 and created.json()["state"] is None
        bad = http.post(
            "/api/v1/deployments/d/releases", json={"version": "1", "strategy": "x", "reason": "r"}
        )
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "LK-INVALID-INPUT"
        first = http.post("/api/v1/deployments/d/releases", json={"version": v1, "reason": "go"})
        for wrong in (True, 1.5, "", None, [1]):
            refused = http.post(
                "/api/v1/deployments/d/releases", json={"version": wrong, "reason": "go"}
            )
            assert refused.status_code == 422, (wrong, refused.text)
            assert refused.json()["error"]["code"] == "LK-INVALID-INPUT"
        assert first.status_code == 201 and first.json()["champion"] == v1
        canary = http.post(
            "/api/v1/deployments/d/releases",
            json={"version": str(v2), "strategy": "canary", "percent": 20, "reason": "canary"},
        )
        assert canary.json()["challenger"] == v2
        promoted = http.post("/api/v1/deployments/d/promote", json={"reason": "good"})
        assert promoted.json()["champion"] == v2
        back = http.post("/api/v1/deployments/d/rollback", json={})
        assert back.json()["champion"] == v1
        shown = http.get("/api/v1/deployments/d").json()
        assert shown["state"]["champion"] == v1 and len(shown["releases"]) == 4
        missing = http.post("/api/v1/deployments/zz/rollback", json={})
        assert missing.status_code == 404
        now = lk.clock.now()
        lk.logs.add_many([_logged("d", now, i) for i in range(6)])
        traffic = http.get("/api/v1/deployments/d/traffic", params={"window": "1h"}).json()
        [bucket] = traffic["buckets"]
        assert (bucket["arm"], bucket["rows"], bucket["errors"]) == ("champion", 6, 2)
        for params in ({"every": "0h"}, {"window": "soon"}, {"window": "52w", "every": "1s"}):
            wrong = http.get("/api/v1/deployments/d/traffic", params=params)
            assert wrong.status_code == 422, params
            assert wrong.json()["error"]["code"] == "LK-INVALID-INPUT"
        assert http.get("/api/v1/deployments/zz/traffic").status_code == 404
        refused = http.post("/api/v1/deployments/d/promote", json={})
        assert (
            refused.status_code == 409 and refused.json()["error"]["code"] == "LK-RELEASE-REFUSED"
        )


def _logged(deployment: str, at: datetime, i: int) -> PredictionRecord:
    return PredictionRecord(
        at=at - timedelta(seconds=i),
        deployment=deployment,
        request_id=f"r{i}",
        row=0,
        version=1,
        arm="champion",
        inputs={"income": 1.0},
        output=1,
        latency_ms=float(i),
        error="boom" if i % 3 == 0 else None,
    )
