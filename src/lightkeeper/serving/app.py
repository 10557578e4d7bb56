"""The model server of one deployment: /predict, MLflow-compatible /invocations, probes.

It follows the deployment's desired state (see :mod:`lightkeeper.serving.loader`), routes
each request to the champion or the canary challenger, copies it to a shadow challenger
off the response path, logs predictions through a bounded background writer, exposes
Prometheus metrics and sends heartbeats. Every answer carries the prediction(s), the
model version, the arm and a request id.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from lightkeeper.asgi import docs, errors
from lightkeeper.errors import (
    InvalidInput,
    LightkeeperError,
    PayloadTooLarge,
    PredictionFailed,
    ServiceNotReady,
)
from lightkeeper.heartbeat import HeartbeatSender, new_instance_id
from lightkeeper.inputs import MAX_ROWS
from lightkeeper.serving.access import ServingAccess
from lightkeeper.serving.context import Loop, ServingContext
from lightkeeper.serving.loader import Arm, Follower, Plan
from lightkeeper.serving.logwriter import PredictionLogWriter
from lightkeeper.serving.metrics import ServingMetrics
from lightkeeper.serving.router import choose_arm, shadowed
from lightkeeper.serving.run import servable
from lightkeeper.store.predictions import PredictionRecord

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


log = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_SHADOW_IN_FLIGHT = 64
ERROR_LOG_EVERY = 10.0  # seconds between log lines about one arm's prediction errors


class _Server:
    """The moving parts of one serving instance, shared by its routes."""

    def __init__(
        self,
        ctx: ServingContext,
        deployment: str,
        *,
        instance_id: str,
        poll: float,
        heartbeat: float,
        loops: Sequence[Loop],
    ) -> None:
        self.clock = ctx.clock
        self.deployment = deployment
        self.model = servable(ctx.deployments.get(deployment)).model
        self.access = ServingAccess(ctx.tokens.verify, enabled=ctx.settings.auth)
        self.instance_id = instance_id
        self.metrics = ServingMetrics(deployment)
        self.follower = Follower(
            deployment,
            deployments=ctx.deployments,
            gold=ctx.gold,
            registry=ctx.registry,
            bus=ctx.bus,
            instance_id=instance_id,
            poll=poll,
            on_swap=lambda outcome: self.metrics.swaps.labels(deployment, outcome).inc(),
        )
        dropped = self.metrics.log_dropped.labels(deployment)
        # a file per second at most: visible within a second, compacted in the background
        self.writer = PredictionLogWriter(
            ctx.predictions.add_many, interval=1.0, on_drop=dropped.inc
        )
        self.metrics.log_pending.labels(deployment).set_function(lambda: self.writer.pending)
        self.heartbeat = HeartbeatSender(
            ctx.signals,
            ctx.clock,
            instance_id=instance_id,
            kind="serve",
            subject=deployment,
            payload=self.status,
            cadence=heartbeat,
        )
        self.loops = list(loops)
        self.counts = {"requests": 0, "predictions": 0, "errors": 0, "rejected": 0}
        self.shadows: set[asyncio.Task[None]] = set()
        self._error_log: dict[tuple[int, str], tuple[float, int]] = {}

    # -- lifecycle --------------------------------------------------------------------
    async def start(self) -> None:
        self.writer.start()
        await run_in_threadpool(self.follower.sync)
        self.follower.start()
        self.heartbeat.start()
        for loop in self.loops:
            loop.start()

    async def stop(self) -> None:
        if self.shadows:
            await asyncio.wait(self.shadows, timeout=5)
        parts: list[Loop] = [self.follower, self.heartbeat, *self.loops]
        # stop them side by side: shutdown takes the slowest, not the sum
        await asyncio.gather(*(run_in_threadpool(part.stop) for part in parts))
        await run_in_threadpool(self.writer.close)

    def status(self) -> dict[str, Any]:
        """Readiness detail and counters (also the heartbeat payload)."""
        plan = self.follower.plan
        return {
            "ready": self.follower.ready,
            "deployment": self.deployment,
            "model": self.model,
            "instance_id": self.instance_id,
            "version": plan.champion.version if plan.champion else None,
            "versions": plan.versions(),
            "release_id": plan.release_id,
            "strategy": plan.strategy,
            "percent": plan.percent,
            "warmed_on_rows": {
                name: arm.warmed_on
                for name, arm in (("champion", plan.champion), ("challenger", plan.challenger))
                if arm is not None
            },
            "detail": self.follower.detail,
            "counts": dict(self.counts),
            "prediction_log": {
                "written": self.writer.written,
                "pending": self.writer.pending,
                "dropped": self.writer.dropped,
                "refused": self.writer.refused,
                "error": self.writer.last_error,
                "last_refusal": self.writer.last_refusal,
            },
        }

    # -- scoring ----------------------------------------------------------------------
    async def asgi(self, scope: Scope, receive: Receive, send: Send, *, mlflow: bool) -> None:
        """``POST /predict`` and ``/invocations`` as a bare ASGI app.

        Scoring skips FastAPI's routing and middleware (about a third of the event loop's
        time per request); the routes stay declared for OpenAPI and hand over to this.
        """
        self.counts["requests"] += 1
        request_id: str | None = None
        try:
            headers = _Headers(scope["headers"])
            try:
                await self.access.require_async(headers.authorization, "serving.predict")
                request_id = _request_id(headers.request_id)
                body = await _read_body(receive, headers.content_length)
            except LightkeeperError as exc:
                self._rejected(exc)
                raise
            if body is None:  # the client went away
                return
            answer = await self.respond(
                body,
                request_id=request_id,
                key=(
                    headers.routing_key
                    if headers.routing_key is not None
                    else _query_key(scope["query_string"])
                ),
                mlflow=mlflow,
            )
            status = 200
        except LightkeeperError as exc:
            status, answer = errors.status_for(exc), orjson.dumps({"error": exc.to_dict()})
        except Exception as exc:
            log.exception("%s: %s failed", self.deployment, scope["path"])
            error = LightkeeperError(
                f"internal error: {type(exc).__name__}",
                hint="the server log has the details; please report it",
            )
            status, answer = 500, orjson.dumps({"error": error.to_dict()})
        response_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(answer)).encode()),
        ]
        if request_id is not None:
            response_headers.append((b"x-request-id", request_id.encode("latin-1")))
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": answer})

    async def respond(
        self, body: bytes, *, request_id: str, key: str | None, mlflow: bool
    ) -> bytes:
        """Parse, validate and score one request body; count what is refused."""
        try:
            payload = _json(body)
            if mlflow:
                rows = _mlflow_rows(payload)
            else:
                if isinstance(payload, dict) and "rows" in payload:
                    payload = payload["rows"]
                rows = payload if isinstance(payload, list) else [payload]
            plan = self.follower.plan
            if plan.champion is None:
                raise ServiceNotReady(
                    f"{self.deployment} is not ready: {self.follower.detail}", hint="GET /readyz"
                )
            flags = plan.champion.validator.check(rows)
        except LightkeeperError as exc:
            self._rejected(exc)
            raise
        answer = await self.score(plan, plan.champion, rows, flags, request_id=request_id, key=key)
        if mlflow:
            answer = {"predictions": answer.pop("predictions"), **answer}
        return orjson.dumps(answer)

    def _rejected(self, exc: LightkeeperError) -> None:
        self.counts["rejected"] += 1
        self.metrics.rejected.labels(self.deployment, exc.code).inc()

    async def score(
        self,
        plan: Plan,
        champion: Arm,
        rows: list[Any],
        flags: list[list[str]] | None,
        *,
        request_id: str,
        key: str | None,
    ) -> dict[str, Any]:
        """Route, predict (challenger errors fall back to the champion), log, shadow.

        One sampling decision per request covers every arm and errors too, so the logs
        the rollout controller reads keep the true error rates.
        """
        logged = _sampled(champion)
        arm_name = choose_arm(plan, key)
        served: Arm = champion
        outputs: list[Any] | None = None
        seconds = 0.0
        if arm_name == "challenger" and plan.challenger is not None:
            try:
                outputs, seconds = await plan.challenger.batcher.predict(rows)
                served = plan.challenger
            except Exception as exc:  # the champion answers; the error counts against it
                self._failed(plan.challenger, "challenger", request_id, rows, exc, logged, flags)
                arm_name = "champion"
        if outputs is None:
            try:
                outputs, seconds = await champion.batcher.predict(rows)
            except LightkeeperError as exc:  # a client mistake the schema did not catch
                self._rejected(exc)
                raise
            except Exception as exc:
                self._failed(champion, "champion", request_id, rows, exc, logged, flags)
                self.metrics.answered(champion.version, "champion", 500)
                raise PredictionFailed(
                    f"version {champion.version} of {self.model} raised: "
                    f"{type(exc).__name__}: {exc}",
                    hint=f"request id {request_id}; see the server log",
                ) from None
        self.counts["predictions"] += len(rows)
        self.metrics.observe(served.version, arm_name, seconds, failed=False)
        self.metrics.answered(served.version, arm_name, 200)
        if logged:
            self._log(served, arm_name, request_id, rows, outputs, seconds, flags)
        if shadowed(plan, key) and plan.challenger is not None:
            self._shadow(plan, request_id, rows, flags, logged)
        body: dict[str, Any] = {
            "request_id": request_id,
            "model": self.model,
            "version": served.version,
            "arm": arm_name,
            "predictions": outputs,
        }
        if flags and any(flags):
            body["flags"] = flags
        return body

    def _log(
        self,
        arm: Arm,
        arm_name: str,
        request_id: str,
        rows: list[Any],
        outputs: list[Any] | None,
        seconds: float,
        flags: list[list[str]] | None,
        error: str | None = None,
    ) -> None:
        at = self.clock.now()
        latency = seconds * 1000
        self.writer.add(
            [
                PredictionRecord(
                    at=at,
                    deployment=self.deployment,
                    request_id=request_id,
                    row=i,
                    version=arm.version,
                    arm=arm_name,
                    inputs=row,
                    output=outputs[i] if outputs is not None else None,
                    latency_ms=latency,
                    error=error,
                    flags=(flags[i] or None) if flags else None,
                )
                for i, row in enumerate(rows)
            ]
        )

    def _failed(
        self,
        arm: Arm,
        arm_name: str,
        request_id: str,
        rows: list[Any],
        exc: BaseException,
        logged: bool,
        flags: list[list[str]] | None,
    ) -> None:
        self.counts["errors"] += 1
        self.metrics.observe(arm.version, arm_name, 0.0, failed=True)
        message = f"{type(exc).__name__}: {exc}"
        key = (arm.version, arm_name)
        last, quiet = self._error_log.get(key, (0.0, 0))
        if time.monotonic() - last >= ERROR_LOG_EVERY:  # one line per arm per interval
            log.warning(
                "%s: version %s (%s) raised on request %s: %s%s",
                self.deployment,
                arm.version,
                arm_name,
                request_id,
                message,
                f" ({quiet} more since the last report)" if quiet else "",
            )
            self._error_log[key] = (time.monotonic(), 0)
        else:
            self._error_log[key] = (last, quiet + 1)
        if logged:
            # flags stay with the error: the rollout controller does not count errors on
            # requests a client sent with flagged values against the model
            if flags and any(flags):
                flags = [f or ["another row of the request was flagged"] for f in flags]
            self._log(arm, arm_name, request_id, rows, None, 0.0, flags, error=message[:2000])

    def _shadow(
        self,
        plan: Plan,
        request_id: str,
        rows: list[Any],
        flags: list[list[str]] | None,
        logged: bool,
    ) -> None:
        if len(self.shadows) >= MAX_SHADOW_IN_FLIGHT:
            self.metrics.shadow_skipped.labels(self.deployment).inc()
            return
        challenger = plan.challenger
        assert challenger is not None

        async def run() -> None:
            try:
                outputs, seconds = await challenger.batcher.predict(rows)
            except Exception as exc:
                self._failed(challenger, "shadow", request_id, rows, exc, logged, flags)
                return
            self.metrics.observe(challenger.version, "shadow", seconds, failed=False)
            if logged:
                self._log(challenger, "shadow", request_id, rows, outputs, seconds, flags)

        task = asyncio.get_running_loop().create_task(run())
        self.shadows.add(task)
        task.add_done_callback(self.shadows.discard)


def _sampled(arm: Arm) -> bool:
    settings = arm.manifest.logging if arm.manifest is not None else None
    if settings is None:
        return True
    if not settings.predictions:
        return False
    return settings.sample >= 1.0 or random.random() < settings.sample


def build_serving_app(
    ctx: ServingContext,
    deployment: str,
    *,
    poll: float = 0.5,
    heartbeat: float = 5.0,
    instance_id: str | None = None,
    loops: Sequence[Loop] = (),
) -> ServingApp:
    """The ASGI app serving ``deployment``.

    Args:
        ctx: the stores, registry, bus, clock and settings it works with.
        deployment: an online deployment.
        poll: seconds between reads of the desired state (a release is served within
            about this long plus the load and warm-up time).
        heartbeat: seconds between life signals.
        instance_id: this instance's name in life signals and events (default: a new one).
        loops: background work started and stopped with the server (e.g. a rollout
            controller for this deployment).
    """
    server = _Server(
        ctx,
        deployment,
        instance_id=instance_id or new_instance_id("serve"),
        poll=poll,
        heartbeat=heartbeat,
        loops=loops,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await server.start()
        try:
            yield
        finally:
            await server.stop()

    app = ServingApp(
        title=f"lightkeeper serve {deployment}",
        lifespan=lifespan,
        docs_url=None,  # served from the package by docs.install: no CDN
        redoc_url=None,
    )
    docs.install(app)
    app.server = server
    app.state.server = server
    errors.install(app)

    from lightkeeper.serving.openapi import (
        INVOCATIONS_BODY,
        METRICS_TEXT,
        PREDICT_BODY,
        READY_RESPONSES,
        SCORING_RESPONSES,
    )

    @app.get("/healthz", summary="The process is alive")
    def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get(
        "/readyz",
        summary="A model is loaded and warmed up; detail says why not",
        responses=READY_RESPONSES,
    )
    def readyz() -> Response:
        body = server.status()
        return JSONResponse(body, status_code=200 if body["ready"] else 503)

    @app.get(
        "/metrics",
        summary="Prometheus metrics (a token of a serving role when auth is on)",
        responses={**METRICS_TEXT, **errors.responses(401, 403, 503)},
    )
    def metrics(
        authorization: Annotated[str | None, Header(description="Bearer API token")] = None,
    ) -> Response:
        server.access.require(authorization, "serving.metrics")
        return Response(server.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    # declared for OpenAPI, bodies included (FastAPI cannot see them: the handler reads them)
    @app.post(
        "/predict",
        summary="Predict one record (an object) or many (a list)",
        openapi_extra=PREDICT_BODY,
        responses=SCORING_RESPONSES,
    )
    async def predict() -> Response:
        return _HandOver(server, mlflow=False)

    @app.post(
        "/invocations",
        summary="MLflow-compatible scoring endpoint",
        openapi_extra=INVOCATIONS_BODY,
        responses=SCORING_RESPONSES,
    )
    async def invocations() -> Response:
        return _HandOver(server, mlflow=True)

    return app


class ServingApp(FastAPI):
    """The serving app: scoring requests go straight to the server's ASGI handler."""

    server: _Server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            root = scope.get("root_path")
            if root and path.startswith(root):
                path = path[len(root) :]
            if path in SCORING_PATHS:
                await self.server.asgi(scope, receive, send, mlflow=path == "/invocations")
                return
        await super().__call__(scope, receive, send)


SCORING_PATHS = frozenset({"/predict", "/invocations"})


class _HandOver(Response):
    """A route's answer that lets the server's ASGI handler read and answer the request."""

    def __init__(self, server: _Server, *, mlflow: bool) -> None:  # no body of its own
        self.server = server
        self.mlflow = mlflow
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.server.asgi(scope, receive, send, mlflow=self.mlflow)


MAX_REQUEST_ID = 100


class _Headers:
    """The few request headers scoring reads, found in one pass."""

    __slots__ = ("authorization", "content_length", "request_id", "routing_key")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.authorization: str | None = None
        self.content_length: str | None = None
        self.request_id: str | None = None
        self.routing_key: str | None = None
        for name, value in raw:
            if name == b"authorization":
                self.authorization = value.decode("latin-1")
            elif name == b"content-length":
                self.content_length = value.decode("latin-1")
            elif name == b"x-request-id":
                self.request_id = value.decode("latin-1")
            elif name == b"x-routing-key":
                self.routing_key = value.decode("latin-1")


def _request_id(given: str | None) -> str:
    if given is None:
        # random bits, not uuid4: no system call per request, same 128-bit uniqueness
        return f"{random.getrandbits(128):032x}"
    if not given or len(given) > MAX_REQUEST_ID:
        raise InvalidInput(
            f"the X-Request-Id header has {len(given)} characters",
            hint=f"send 1 to {MAX_REQUEST_ID} characters, or leave it out for a generated id",
        )
    return given


def _query_key(query: bytes) -> str | None:
    if not query:
        return None
    from urllib.parse import parse_qsl

    values = [
        v for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True) if k == "key"
    ]
    return values[-1] if values else None  # like Starlette's query_params: the last one


async def _read_body(receive: Receive, declared: str | None) -> bytes | None:
    """The request body, refused past :data:`MAX_BODY_BYTES`; ``None`` if the client left."""
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large(f"{int(declared):,} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:  # a chunked body stops at the limit, not at its end
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large(f"more than {size:,} bytes so far")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


SCAN_FROM_BYTES = 64 * 1024
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')  # JSON strings, escapes included
MAX_CONTAINERS = 2 * MAX_ROWS + 64  # a row is one object or list of scalars, plus wrappers


def _json(body: bytes) -> Any:
    """The parsed body; one refused cheaply if it holds more arrays and objects than rows.

    Parsing costs most per array or object (8 MB of empty rows takes a second to parse,
    on the event loop), and a valid request holds at most one per row. Counting brackets
    is a C-speed scan of a few milliseconds, done before anything is parsed.
    """
    if len(body) > SCAN_FROM_BYTES:
        containers = body.count(b"[") + body.count(b"{")
        if containers > MAX_CONTAINERS:  # brackets inside strings do not count: recount
            bare = _STRINGS.sub(b'""', body)
            containers = bare.count(b"[") + bare.count(b"{")
        if containers > MAX_CONTAINERS:
            raise PayloadTooLarge(
                f"the request body holds {containers:,} JSON arrays or objects, more than "
                f"{MAX_CONTAINERS:,}",
                hint=f"send at most {MAX_ROWS:,} rows of single values per request",
            )
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the request body is not JSON: {exc}", hint="send JSON") from None


def _too_large(what: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body has {what}, more than {MAX_BODY_BYTES:,}",
        hint="send fewer rows per request",
    )


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
        columns, data = value["columns"], value["data"]
        if not isinstance(columns, list) or not isinstance(data, list):
            raise InvalidInput("dataframe_split columns and data are lists", hint="see MLflow docs")
        if not all(isinstance(c, str) for c in columns):
            raise InvalidInput(
                "dataframe_split columns are names (strings)", hint='for example ["age", "income"]'
            )
        rows = []
        for index, row in enumerate(data):
            if not isinstance(row, list) or len(row) != len(columns):
                raise InvalidInput(
                    f"dataframe_split data[{index}] does not have {len(columns)} values",
                    hint="one value per column, in the order of columns",
                )
            rows.append(dict(zip(columns, row, strict=True)))
        return rows
    if key in ("dataframe_records", "instances", "inputs"):
        if isinstance(value, dict):  # columns -> values
            lengths = {len(v) if isinstance(v, list) else -1 for v in value.values()}
            if len(lengths) != 1 or -1 in lengths:
                raise InvalidInput(
                    f"{key} as columns needs a list of equal length per column",
                    hint='for example {"inputs": {"a": [1, 2], "b": [3, 4]}}',
                )
            names = list(value)
            return [dict(zip(names, row, strict=True)) for row in zip(*value.values(), strict=True)]
        if isinstance(value, list):
            return value
    raise InvalidInput(
        f"unknown /invocations format {key!r}",
        hint="use dataframe_split, dataframe_records, instances or inputs",
    )
