"""``/docs`` from files inside the package: Swagger UI works on an air-gapped server.

FastAPI's own ``/docs`` page loads Swagger UI from a CDN, so on a server without internet
access it shows a blank page. Both apps (``lightkeeper up`` and ``lightkeeper serve``)
serve the vendored Swagger UI (``lightkeeper/static/swagger-ui``) instead.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI = Path(__file__).resolve().parent.parent / "static" / "swagger-ui"
SWAGGER_UI_VERSION = "5.36.0"
PREFIX = "/static/swagger-ui"


def install(app: FastAPI) -> None:
    """Serve ``/docs`` and its assets from the package (build the app with ``docs_url=None``)."""
    app.mount(PREFIX, StaticFiles(directory=SWAGGER_UI), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API",
            swagger_js_url=f"{root}{PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{root}{PREFIX}/favicon-32x32.png",
        )
