"""The model server of one deployment: /predict, MLflow-compatible /invocations, probes.

It loads the deployment's champion (the desired state in the ops database) when it
starts and answers with the prediction, the model version, the arm and a request id.
"""

from __future__ import annotations

import logging
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from lightkeeper.errors import InvalidInput, ServiceNotReady
from lightkeeper.serving.validate import check_rows
from lightkeeper.web import errors

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from lightkeeper.app import Lightkeeper
    from lightkeeper.manifest import Manifest
    from lightkeeper.registry import Predictor

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass
class Loaded:
    """What the server serves now, or why it serves nothing."""

    predictor: Predictor | None = None
    manifest: Manifest | None = None
    reason: str = "starting"
    loaded_at: float = field(default_factory=time.time)


def build_serving_app(lk: Lightkeeper, deployment: str) -> FastAPI:
    """The ASGI app serving ``deployment``."""
    target = lk.deploy_store.get(deployment)
    state = Loaded()

    def load() -> None:
        from lightkeeper.manifest import parse_manifest

        current = lk.releases.current(deployment)
        if current is None or current.champion is None:
            state.reason = f"{deployment} has no release yet: lightkeeper release {deployment} V"
            return
        predictor = lk.load(target.model, current.champion)
        text = lk.registry.manifest_text(target.model, current.champion)
        state.manifest = parse_manifest(text, source="manifest") if text else None
        state.predictor = predictor
        state.reason = "ready"
        log.info("serving %s version %s on %s", target.model, current.champion, deployment)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(load)
        except Exception as exc:  # keep the process up and say why it is not ready
            state.reason = f"loading failed: {exc}"
            log.error("%s: %s", deployment, state.reason)
        yield

    app = FastAPI(title=f"lightkeeper serve {deployment}", lifespan=lifespan)
    errors.install(app)

    @app.get("/healthz", summary="The process is alive")
    def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", summary="A model is loaded and can answer; detail says why not")
    def readyz() -> Response:
        ready = state.predictor is not None
        body = {
            "ready": ready,
            "deployment": deployment,
            "model": target.model,
            "version": state.predictor.version if state.predictor else None,
            "detail": state.reason,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    async def score(request: Request, rows: list[Any]) -> dict[str, Any]:
        predictor = state.predictor
        if predictor is None:
            raise ServiceNotReady(f"{deployment} is not ready: {state.reason}", hint="GET /readyz")
        flags = check_rows(rows, state.manifest) if state.manifest else [[] for _ in rows]
        predictions = await run_in_threadpool(predictor.predict, rows)
        return {
            "request_id": request.headers.get("x-request-id") or uuid.uuid4().hex,
            "model": target.model,
            "version": predictor.version,
            "arm": "champion",
            "predictions": _plain(predictions),
            **({"flags": flags} if any(flags) else {}),
        }

    @app.post("/predict", summary="Predict one record (an object) or many (a list)")
    async def predict(request: Request) -> dict[str, Any]:
        payload = await _json(request)
        if isinstance(payload, dict) and "rows" in payload:
            payload = payload["rows"]
        rows = payload if isinstance(payload, list) else [payload]
        return await score(request, rows)

    @app.post("/invocations", summary="MLflow-compatible scoring endpoint")
    async def invocations(request: Request) -> dict[str, Any]:
        rows = _mlflow_rows(await _json(request))
        result = await score(request, rows)
        return {"predictions": result["predictions"], **result}

    return app


async def _json(request: Request) -> Any:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise InvalidInput(
            f"the request body has {len(body):,} bytes, more than {MAX_BODY_BYTES:,}",
            hint="send fewer rows per request",
        )
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the request body is not JSON: {exc}", hint="send JSON") from None


def _mlflow_rows(payload: Any) -> list[Any]:
    """Records from MLflow's formats: dataframe_split, dataframe_records, instances, inputs."""
    if not isinstance(payload, dict) or len(payload) != 1:
        raise InvalidInput(
            "an /invocations body is an object with one key",
            hint="use dataframe_split, dataframe_records, instances or inputs",
        )
    ((key, value),) = payload.items()
    if key == "dataframe_split":
        if not isinstance(value, dict) or "columns" not in value or "data" not in value:
            raise InvalidInput("dataframe_split needs columns and data", hint="see MLflow docs")
        return [dict(zip(value["columns"], row, strict=True)) for row in value["data"]]
    if key in ("dataframe_records", "instances", "inputs"):
        if isinstance(value, dict):  # columns -> values
            names = list(value)
            return [dict(zip(names, row, strict=True)) for row in zip(*value.values(), strict=True)]
        if isinstance(value, list):
            return value
    raise InvalidInput(
        f"unknown /invocations format {key!r}",
        hint="use dataframe_split, dataframe_records, instances or inputs",
    )


def _plain(values: Any) -> list[Any]:
    return [v.item() if hasattr(v, "item") else v for v in list(values)]
