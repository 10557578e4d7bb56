"""``/docs`` works offline: every asset it loads comes from the package, none from a CDN."""

from __future__ import annotations

import httpx
import pytest

from lightkeeper import Lightkeeper
from lightkeeper.web.api import build_api
from support import docs_assets


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_docs_load_swagger_ui_from_the_package(lk: Lightkeeper, serve) -> None:
    base = serve(build_api(lk))
    with httpx.Client(base_url=base, timeout=30) as http:
        urls = docs_assets(http)
        assert "/static/swagger-ui/swagger-ui-bundle.js" in urls
        assert "/openapi.json" in urls
        for url in urls:
            answer = http.get(url)
            assert answer.status_code == 200, url
            assert len(answer.content) > 100, url
        assert http.get("/redoc").status_code == 404  # ReDoc would load from a CDN
