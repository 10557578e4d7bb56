"""With auth on, the model server asks scoring and scraping clients for a serving token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from lightkeeper import Lightkeeper, Settings
from lightkeeper.errors import InvalidInput
from lightkeeper.testing import ADMIN, OPERATOR
from support import ROW, docs_assets


@pytest.fixture
def secured(home, database_url) -> Iterator[Lightkeeper]:
    """The credit workspace with auth on and an online deployment released."""
    settings = Settings.load({"home": home, "database_url": database_url, "auth": True}, environ={})
    app = Lightkeeper(settings)
    app.releases.create("credit-online", model="credit", kind="online", by=OPERATOR)
    app.releases.release("credit-online", 1, reason="go", by=OPERATOR)
    yield app
    app.close()


def test_scoring_and_metrics_need_a_serving_token_and_probes_stay_open(
    secured: Lightkeeper, serve
) -> None:
    _, client = secured.access.create("web-shop", "predict", by=ADMIN)
    _, analyst = secured.access.create("ana", "data-scientist", by=ADMIN)
    _, operator = secured.access.create("olga", "operator", by=ADMIN)
    base = serve(secured.serving_app("credit-online", rollout="off"))
    with httpx.Client(base_url=base, timeout=30) as http:
        assert http.get("/healthz").status_code == 200
        assert http.get("/readyz").status_code == 200
        for path, body in (("/predict", ROW), ("/invocations", {"instances": [ROW]})):
            anonymous = http.post(path, json=body)
            assert anonymous.status_code == 401, anonymous.text
            assert anonymous.json()["error"]["code"] == "LK-UNAUTHENTICATED"
            wrong = http.post(path, json=body, headers={"authorization": "Bearer lk_nonsense"})
            assert wrong.status_code == 401 and "unknown or revoked" in wrong.text
            basic = http.post(path, json=body, headers={"authorization": "Basic abc"})
            assert basic.status_code == 401 and "not a bearer token" in basic.text
            denied = http.post(path, json=body, headers=_bearer(analyst))
            assert denied.status_code == 403, denied.text
            assert denied.json()["error"]["code"] == "LK-PERMISSION-DENIED"
            for token in (client, operator):
                answer = http.post(path, json=body, headers=_bearer(token))
                assert answer.status_code == 200, answer.text
        assert http.get("/metrics").status_code == 401
        assert http.get("/metrics", headers=_bearer(analyst)).status_code == 403
        scraped = http.get("/metrics", headers=_bearer(client))
        assert scraped.status_code == 200 and "lightkeeper_requests_total" in scraped.text
        # the predict role reads nothing of the control plane
    with pytest.raises(Exception, match="may not read"):
        secured.principal(client).require("read")


def test_a_revoked_token_stops_working(secured: Lightkeeper, serve, monkeypatch) -> None:
    from lightkeeper.serving import access

    monkeypatch.setattr(access, "RECHECK_SECONDS", 0.0)
    token, secret = secured.access.create("web-shop", "predict", by=ADMIN)
    base = serve(secured.serving_app("credit-online", rollout="off"))
    with httpx.Client(base_url=base, timeout=30) as http:
        assert http.post("/predict", json=ROW, headers=_bearer(secret)).status_code == 200
        secured.access.revoke(token.id, by=ADMIN)
        assert http.post("/predict", json=ROW, headers=_bearer(secret)).status_code == 401


def test_with_auth_off_no_token_is_asked(lk: Lightkeeper, serve) -> None:
    lk.releases.release("credit-online", 1, reason="go", by=OPERATOR)
    base = serve(lk.serving_app("credit-online", rollout="off"))
    assert httpx.post(f"{base}/predict", json=ROW, timeout=30).status_code == 200
    with httpx.Client(base_url=base, timeout=30) as http:  # /docs works offline here too
        for url in docs_assets(http):
            assert http.get(url).status_code == 200, url


def test_serve_refuses_a_deployment_that_is_not_online(lk: Lightkeeper) -> None:
    lk.releases.create("credit-nightly", model="credit", kind="batch", by=OPERATOR)
    with pytest.raises(InvalidInput, match="is a batch deployment; serve runs online ones"):
        lk.serving_app("credit-nightly")


def _bearer(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}
