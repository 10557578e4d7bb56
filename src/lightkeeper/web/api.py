"""Control-plane HTTP API. OpenAPI at /openapi.json, docs at /docs.

Every route checks the caller's role through :func:`_principal`: a bearer token when
one is sent (required with auth on), the local user as admin with auth off.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Query
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from lightkeeper import __version__
from lightkeeper.auth import Principal, Role
from lightkeeper.errors import GateRunNotFound, Unauthenticated
from lightkeeper.names import MAX_ID, MAX_NAME_LENGTH, NAME_PATTERN, NAME_RULE
from lightkeeper.web import docs, errors

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from lightkeeper.app import Lightkeeper


Id = Annotated[int, PathParam(ge=1, le=MAX_ID, description="an id (1 to 2^31-1)")]
Number = Annotated[int, PathParam(ge=1, le=MAX_ID, description="a version number")]
# A new name's rule is checked where names are created (lightkeeper.names), for the CLI,
# the API and Python alike, with one message; the schema only shows it to clients.
NewName = Field(
    description=NAME_RULE,
    json_schema_extra={
        "minLength": 1,
        "maxLength": MAX_NAME_LENGTH,
        "pattern": f"^{NAME_PATTERN}$",
    },
)

NOT_FOUND = errors.responses(404)
NOT_FOUND_OR_REFUSED = errors.responses(404, 409)


class GoldUpload(BaseModel):
    """A gold dataset sent as JSON records; checked against ``model``'s input schema."""

    model_config = ConfigDict(extra="forbid")
    name: str = NewName
    owner: str = Field(min_length=1)
    label_column: str = Field(min_length=1)
    segment_column: str | None = None
    model: str = Field(min_length=1, description="model whose newest manifest holds the schema")
    rows: list[dict[str, Any]] = Field(min_length=1)


class Approval(BaseModel):
    """The owner's sign-off note."""

    model_config = ConfigDict(extra="forbid")
    note: str = ""


class Acceptance(BaseModel):
    """An operator's hand-over decision."""

    model_config = ConfigDict(extra="forbid")
    override: bool = False
    reason: str = ""


class DeploymentRequest(BaseModel):
    """A new deployment."""

    model_config = ConfigDict(extra="forbid")
    name: str = NewName
    model: str = Field(min_length=1)
    kind: Literal["online", "batch", "stream"] = "online"


class ReleaseRequest(BaseModel):
    """Put a version into a deployment."""

    model_config = ConfigDict(extra="forbid")
    version: StrictInt | Annotated[str, Field(min_length=1)] = Field(
        description='a version number (2 or "2") or an alias'
    )
    strategy: Literal["direct", "canary", "shadow"] = "direct"
    percent: float | None = Field(None, gt=0, le=100)
    reason: str = Field(min_length=1)


class Reason(BaseModel):
    """Why, for the audit trail."""

    model_config = ConfigDict(extra="forbid")
    reason: str = "by hand"


class MonitorCheck(BaseModel):
    """A drift or performance check over a window of prediction logs."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["drift", "performance"] = "drift"
    window: str | None = Field(None, description="30m, 6h, 1d, 2w; default monitoring.window")
    end: AwareDatetime | None = Field(None, description="window end; default now")


class AlarmNote(BaseModel):
    """A note or a reason on an alarm, for the audit trail."""

    model_config = ConfigDict(extra="forbid")
    note: str = ""


class AlarmResolution(BaseModel):
    """Why an alarm is resolved."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1)


class LabelRows(BaseModel):
    """Outcomes to join to logged predictions."""

    model_config = ConfigDict(extra="forbid")
    rows: list[dict[str, Any]] = Field(
        min_length=1, description="request_id or entity key, and the outcome"
    )
    label: str | None = Field(None, description="the outcome column; default: the target")
    at: str | None = Field(None, description="outcome time column (entity-key joins)")


class TokenRequest(BaseModel):
    """A new API token."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    role: Role


def build_api(lk: Lightkeeper, *, controllers: bool = False) -> FastAPI:
    """Build the API for one workspace; ``controllers`` also runs the control plane's
    loops (``lightkeeper up``): rollout controller, batch cadence, watchdog, drift
    monitors on their schedule, alarm dispatcher."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not controllers:
            yield
            return
        from lightkeeper.alerts.dispatch import DispatchLoop
        from lightkeeper.batch.cadence import BatchWatch
        from lightkeeper.deploy.rollout import RolloutController
        from lightkeeper.monitor.schedule import MonitorSchedule
        from lightkeeper.monitor.signals import new_instance_id
        from lightkeeper.monitor.watchdog import Watchdog

        holder = new_instance_id("control")
        loops: list[RolloutController | BatchWatch | Watchdog | MonitorSchedule | DispatchLoop] = [
            RolloutController(lk, holder=holder),
            BatchWatch(lk, holder=holder),
            Watchdog(lk, holder=holder),
            MonitorSchedule(lk, holder=holder),
            DispatchLoop(lk, holder=holder),
        ]
        for loop in loops:
            loop.start()
        try:
            yield
        finally:
            for loop in reversed(loops):
                loop.stop()

    app = FastAPI(
        title="lightkeeper",
        version=__version__,
        description="Control-plane API of a lightkeeper workspace.",
        lifespan=lifespan,
        docs_url=None,  # served from the package by docs.install: no CDN
        redoc_url=None,
    )
    docs.install(app)
    errors.install(app, redact=lk.settings.redact)

    def _principal(
        authorization: Annotated[str | None, Header(description="Bearer API token")] = None,
    ) -> Principal:
        token = None
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated(
                    "the Authorization header is not a bearer token",
                    hint="send Authorization: Bearer TOKEN",
                )
        return lk.principal(token, use_settings_token=False)

    def _reader(who: Principal = Depends(_principal)) -> Principal:
        who.require("read")
        return who

    # Dependencies as defaults: annotations are strings here, resolved in module scope.
    Who = Depends(_principal)
    Reader = Depends(_reader)
    # every route below may answer these; each adds the statuses of its own refusals
    router = APIRouter(prefix="/api/v1", responses=errors.responses(401, 403, 422, 500, 503))

    @app.get(
        "/api/v1/health",
        summary="Liveness of the control plane and its ops database",
        responses=errors.responses(500, 503),
    )
    def health() -> dict[str, Any]:
        return {**lk.health(), "version": __version__}

    @router.get("/models", summary="Registered models")
    def models(_who: Principal = Reader) -> dict[str, Any]:
        return {"models": [m.to_dict() for m in lk.models()]}

    @router.get(
        "/models/{name}", summary="One model with its versions, newest first", responses=NOT_FOUND
    )
    def model(name: str, _who: Principal = Reader) -> dict[str, Any]:
        summary = lk.registry.get_model(name)
        return {**summary.to_dict(), "version_list": [v.to_dict() for v in lk.versions(name)]}

    @router.get(
        "/models/{name}/versions/{version}",
        summary="One version with lineage, params and metrics (number, 'latest' or an alias)",
        responses=NOT_FOUND,
    )
    def version(name: str, version: str, _who: Principal = Reader) -> dict[str, Any]:
        return lk.version(name, version).to_dict()

    @router.get("/audit", summary="The audit trail, newest first")
    def audit(
        _who: Principal = Reader,
        kind: str | None = Query(None, description="event kind or prefix, e.g. version"),
        actor: str | None = None,
        subject: str | None = Query(None, description="subject or prefix, e.g. model:churn"),
        since: datetime | None = None,
        limit: int = Query(100, ge=1, le=10_000),
    ) -> dict[str, Any]:
        entries = lk.audit_entries(
            kind=kind, actor=actor, subject=subject, since=since, limit=limit
        )
        return {"entries": [e.to_dict() for e in entries]}

    # -- gold datasets ------------------------------------------------------------------
    @router.get("/gold", summary="Gold datasets (newest version of each)")
    def gold_list(_who: Principal = Reader) -> dict[str, Any]:
        return {"gold": [g.to_dict() for g in lk.gold_store.list()]}

    @router.get("/gold/{name}", summary="Every version of a gold dataset", responses=NOT_FOUND)
    def gold_versions(name: str, _who: Principal = Reader) -> dict[str, Any]:
        lk.gold_store.get(name)
        return {"name": name, "versions": [g.to_dict() for g in lk.gold_store.versions(name)]}

    @router.get(
        "/gold/{name}/versions/{version}", summary="One gold dataset version", responses=NOT_FOUND
    )
    def gold_version(name: str, version: Number, _who: Principal = Reader) -> dict[str, Any]:
        return lk.gold_store.get(name, version).to_dict()

    @router.post(
        "/gold",
        status_code=201,
        summary="Add a gold dataset version from JSON rows",
        responses=NOT_FOUND_OR_REFUSED,
    )
    def gold_add(body: GoldUpload, who: Principal = Who) -> dict[str, Any]:
        import pandas as pd

        gold, created = lk.gold_add(
            body.name,
            pd.DataFrame.from_records(body.rows),
            owner=body.owner,
            label_column=body.label_column,
            segment_column=body.segment_column,
            model=body.model,
            by=who,
        )
        return {**gold.to_dict(), "created": created}

    @router.post(
        "/gold/{name}/versions/{version}/approve",
        summary="The owner signs a version off",
        responses=NOT_FOUND_OR_REFUSED,
    )
    def gold_approve(
        name: str, version: Number, body: Approval, who: Principal = Who
    ) -> dict[str, Any]:
        return lk.gold_approve(name, version, note=body.note, by=who).to_dict()

    # -- the gate -----------------------------------------------------------------------
    @router.post(
        "/models/{name}/versions/{version}/gate",
        summary="Run the acceptance gate (in a fresh process); returns the gate run",
        responses=NOT_FOUND_OR_REFUSED,
    )
    def gate_run(
        name: str,
        version: str,
        deployment: str | None = Query(
            None,
            description="compare with this deployment's champion (default: every "
            "deployment's champion of the model; the strictest decides)",
        ),
        who: Principal = Who,
    ) -> dict[str, Any]:
        return lk.gate_run(name, version, deployment=deployment, by=who).to_dict()

    @router.get(
        "/models/{name}/versions/{version}/gate",
        summary="The newest gate run of a version",
        responses=NOT_FOUND,
    )
    def gate_latest(name: str, version: str, _who: Principal = Reader) -> dict[str, Any]:
        number = lk.version(name, version).version
        return lk.gate_store.latest(name, number).to_dict()

    @router.post(
        "/models/{name}/versions/{version}/accept",
        summary="Hand-over: accept the newest gate run (override a failed one with a reason)",
        responses=NOT_FOUND_OR_REFUSED,
    )
    def gate_accept(
        name: str, version: str, body: Acceptance, who: Principal = Who
    ) -> dict[str, Any]:
        run = lk.gate_accept(name, version, override=body.override, reason=body.reason, by=who)
        return run.to_dict()

    @router.get("/gate/runs", summary="Gate runs, newest first")
    def gate_runs(
        _who: Principal = Reader,
        model: str | None = None,
        version: int | None = Query(None, ge=1, le=MAX_ID),
        limit: int = Query(50, ge=1, le=1000),
    ) -> dict[str, Any]:
        runs = lk.gate_store.list(model=model, version=version, limit=limit)
        return {"runs": [r.to_dict() for r in runs]}

    @router.get(
        "/gate/runs/{run_id}",
        summary="One gate run (the JSON twin of its report)",
        responses=NOT_FOUND,
    )
    def gate_get(run_id: Id, _who: Principal = Reader) -> dict[str, Any]:
        return lk.gate_store.get(run_id).to_dict()

    @router.get(
        "/gate/runs/{run_id}/report",
        response_class=HTMLResponse,
        summary="The self-contained HTML report of a gate run",
        responses=NOT_FOUND,
    )
    def gate_report(run_id: Id, _who: Principal = Reader) -> HTMLResponse:
        run = lk.gate_store.get(run_id)
        if not run.report_path or not Path(run.report_path).is_file():
            raise GateRunNotFound(
                f"the report of gate run {run_id} is not on this machine",
                hint="run the gate again, or read the JSON twin at /api/v1/gate/runs/{id}",
            )
        return HTMLResponse(Path(run.report_path).read_text(encoding="utf-8"))

    # -- deployments and releases ---------------------------------------------------------
    def _deployment(name: str) -> dict[str, Any]:
        deployment = lk.deploy_store.get(name)
        current = lk.releases.current(name)
        return {**deployment.to_dict(), "state": current.to_dict() if current else None}

    @router.get("/deployments", summary="Deployments with their desired state")
    def deployments(_who: Principal = Reader) -> dict[str, Any]:
        return {"deployments": [_deployment(d.name) for d in lk.deploy_store.all()]}

    @router.post(
        "/deployments",
        status_code=201,
        summary="Create a deployment",
        responses=NOT_FOUND_OR_REFUSED,
    )
    def deployment_create(body: DeploymentRequest, who: Principal = Who) -> dict[str, Any]:
        lk.deployment_create(body.name, model=body.model, kind=body.kind, by=who)
        return _deployment(body.name)

    @router.get(
        "/deployments/{name}",
        summary="A deployment, its state and release history",
        responses=NOT_FOUND,
    )
    def deployment(name: str, _who: Principal = Reader) -> dict[str, Any]:
        history = lk.deploy_store.history(name)
        return {**_deployment(name), "releases": [r.to_dict() for r in history]}

    @router.post(
        "/deployments/{name}/releases",
        status_code=201,
        summary="Release a version (refused without an accepted gate run)",
        responses=NOT_FOUND_OR_REFUSED,
    )
    def release(name: str, body: ReleaseRequest, who: Principal = Who) -> dict[str, Any]:
        record = lk.release(
            name,
            body.version,
            strategy=body.strategy,
            percent=body.percent,
            reason=body.reason,
            by=who,
        )
        return record.to_dict()

    @router.post(
        "/deployments/{name}/promote",
        summary="The challenger becomes the champion",
        responses=NOT_FOUND_OR_REFUSED,
    )
    def promote(name: str, body: Reason, who: Principal = Who) -> dict[str, Any]:
        return lk.promote(name, reason=body.reason, by=who).to_dict()

    @router.post(
        "/deployments/{name}/rollback", summary="One step back", responses=NOT_FOUND_OR_REFUSED
    )
    def rollback(name: str, body: Reason, who: Principal = Who) -> dict[str, Any]:
        return lk.rollback(name, reason=body.reason, by=who).to_dict()

    @router.get(
        "/deployments/{name}/predictions",
        summary="Logged predictions, newest first; filter by request id or arm",
        responses=NOT_FOUND,
    )
    def predictions(
        name: str,
        request_id: str | None = None,
        arm: str | None = None,
        limit: int = Query(100, ge=1, le=10_000),
        _who: Principal = Reader,
    ) -> dict[str, Any]:
        found = lk.predictions(name, request_id=request_id, arm=arm, limit=limit)
        return {"predictions": [r.to_dict() for r in found]}

    @router.get(
        "/deployments/{name}/batch-runs",
        summary="Runs of a batch deployment, newest first: status, rows, versions, summary",
        responses=NOT_FOUND,
    )
    def batch_runs(
        name: str,
        partition: str | None = None,
        limit: int = Query(50, ge=1, le=1000),
        _who: Principal = Reader,
    ) -> dict[str, Any]:
        found = lk.batch_runs_of(name, partition=partition, limit=limit)
        return {"deployment": name, "runs": [r.to_dict() for r in found]}

    @router.get(
        "/deployments/{name}/monitor-results",
        summary="Stored monitor results of a deployment (drift per window), newest first",
        responses=NOT_FOUND,
    )
    def monitor_results(
        name: str, limit: int = Query(50, ge=1, le=1000), _who: Principal = Reader
    ) -> dict[str, Any]:
        found = lk.monitor_results(name, limit=limit)
        return {"deployment": name, "results": [r.to_dict() for r in found]}

    @router.post(
        "/deployments/{name}/monitor-results",
        status_code=201,
        summary="Check drift (or performance) over a window now (default: the manifest's "
        "window, ending now)",
        responses=NOT_FOUND_OR_REFUSED,
    )
    def monitor_drift(
        name: str, body: MonitorCheck | None = None, who: Principal = Who
    ) -> dict[str, Any]:
        check = body or MonitorCheck(kind="drift", window=None, end=None)
        run = lk.monitor_performance if check.kind == "performance" else lk.monitor_drift
        return run(name, window=check.window, end=check.end, by=who).to_dict()

    @router.post(
        "/deployments/{name}/labels",
        status_code=201,
        summary="Join outcomes to logged predictions (by request_id, or entity key and time)",
        responses=NOT_FOUND_OR_REFUSED,
    )
    def labels_ingest(name: str, body: LabelRows, who: Principal = Who) -> dict[str, Any]:
        import pandas as pd

        frame = pd.DataFrame.from_records(body.rows)
        done = lk.labels_ingest(name, frame, label=body.label, at=body.at, by=who)
        return done.to_dict()

    @router.get(
        "/monitor-results/{result_id}",
        summary="One monitor result (the report's twin)",
        responses=NOT_FOUND,
    )
    def monitor_result(result_id: Id, _who: Principal = Reader) -> dict[str, Any]:
        return lk.monitor_store.get(result_id).to_dict()

    @router.get(
        "/monitor-results/{result_id}/report",
        response_class=HTMLResponse,
        summary="The self-contained HTML drift report of a monitor result",
        responses=NOT_FOUND,
    )
    def monitor_report(result_id: Id, _who: Principal = Reader) -> HTMLResponse:
        from lightkeeper.monitor.report import render_result

        return HTMLResponse(render_result(lk.monitor_store.get(result_id)))

    # -- alarms ---------------------------------------------------------------------------
    @router.get("/alarms", summary="Alarms, most recently raised first, with their deliveries")
    def alarms_list(
        state: Literal["active", "open", "acknowledged", "resolved", "all"] = "active",
        deployment: str | None = None,
        limit: int = Query(100, ge=1, le=1000),
        _who: Principal = Reader,
    ) -> dict[str, Any]:
        found = lk.alarms(
            state=None if state == "all" else state, deployment=deployment, limit=limit
        )
        return {"alarms": [a.to_dict() for a in found]}

    @router.get(
        "/alarms/{alarm_id}",
        summary="One alarm: evidence, owner, runbook, deliveries",
        responses=NOT_FOUND,
    )
    def alarm_show(alarm_id: Id, _who: Principal = Reader) -> dict[str, Any]:
        return lk.alarm_store.get(alarm_id).to_dict()

    @router.post(
        "/alarms/{alarm_id}/ack", summary="Take an open alarm on", responses=NOT_FOUND_OR_REFUSED
    )
    def alarm_ack(
        alarm_id: Id, body: AlarmNote | None = None, who: Principal = Who
    ) -> dict[str, Any]:
        note = body.note if body is not None else ""
        return lk.alarm_ack(alarm_id, note=note, by=who).to_dict()

    @router.post(
        "/alarms/{alarm_id}/resolve",
        summary="Resolve an alarm; its sinks are told",
        responses=NOT_FOUND_OR_REFUSED,
    )
    def alarm_resolve(alarm_id: Id, body: AlarmResolution, who: Principal = Who) -> dict[str, Any]:
        return lk.alarm_resolve(alarm_id, reason=body.reason, by=who).to_dict()

    @router.get("/signals", summary="Life signals: the newest heartbeat of each instance")
    def signals(subject: str | None = None, _who: Principal = Reader) -> dict[str, Any]:
        now = lk.clock.now()
        return {"signals": [s.to_dict(now) for s in lk.life_signals(subject)]}

    # -- tokens ---------------------------------------------------------------------------
    @router.get("/tokens", summary="API tokens (never their secrets)")
    def tokens_list(who: Principal = Who) -> dict[str, Any]:
        return {"tokens": [t.to_dict() for t in lk.token_list(by=who)]}

    @router.post("/tokens", status_code=201, summary="Create a token; the secret is returned once")
    def tokens_create(body: TokenRequest, who: Principal = Who) -> dict[str, Any]:
        token, secret = lk.token_create(body.name, body.role, by=who)
        return {**token.to_dict(), "token": secret}

    @router.delete("/tokens/{token_id}", summary="Revoke a token")
    def tokens_revoke(token_id: Id, who: Principal = Who) -> dict[str, Any]:
        return lk.token_revoke(token_id, by=who).to_dict()

    app.include_router(router)
    return app
