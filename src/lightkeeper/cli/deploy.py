"""``lightkeeper deployments``, ``release``, ``promote``, ``rollback``, ``releases``."""

from __future__ import annotations

import dataclasses
from typing import Any

import typer
from rich.markup import escape

from lightkeeper.cli._output import console, print_json, table
from lightkeeper.cli.state import state
from lightkeeper.errors import InvalidInput

deployments_app = typer.Typer(help="Deployments: named places a model runs.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.add_typer(deployments_app, name="deployments")
    app.command("release")(release)
    app.command("promote")(promote)
    app.command("rollback")(rollback)
    app.command("releases")(releases)
    app.command("serve")(serve)
    app.command("predictions")(predictions)
    app.command("signals")(signals)


def serve(
    ctx: typer.Context,
    deployment: str = typer.Argument(..., help="Online deployment to serve."),
    host: str = typer.Option("127.0.0.1", "--host", help="Listen address."),
    port: int = typer.Option(8080, "--port", help="Listen port."),
    workers: int = typer.Option(1, "--workers", help="Worker processes sharing the port."),
    rollout: str | None = typer.Option(
        None,
        "--rollout",
        help="Judge this deployment's canary here: auto (only while no `lightkeeper up` "
        "judges it), on or off. Default: the serve_rollout setting (auto).",
    ),
) -> None:
    """Serve a deployment: /predict, /invocations, /healthz, /readyz, /metrics.

    The server follows releases by itself (hot swap), splits canary traffic, scores shadow
    copies and logs predictions. It also runs the rollout controller of its deployment
    unless a control plane (`lightkeeper up`) does (see --rollout).
    """
    from lightkeeper.app import Lightkeeper
    from lightkeeper.serving.run import servable
    from lightkeeper.serving.run import serve as run

    lk = state(ctx).lk()
    servable(lk.releases.deployment(deployment))  # a wrong name or kind fails here, once, clearly
    lk.close()

    def announce() -> None:
        console.print(
            f"serving {escape(deployment)} on http://{host}:{port} with {workers} worker(s) "
            "(POST /predict, POST /invocations, GET /readyz, GET /metrics)"
        )

    settings = lk.settings
    if rollout is not None:
        settings = dataclasses.replace(settings, serve_rollout=_rollout_mode(rollout))
    run(
        settings,
        deployment,
        workspace=Lightkeeper,  # each worker process opens its own
        host=host,
        port=port,
        workers=workers,
        access_log=state(ctx).verbose,
        announce=announce,
    )


def _rollout_mode(text: str) -> str:
    mode = text.strip().lower()
    if mode not in ("auto", "on", "off"):
        raise InvalidInput(f"--rollout {text!r} is not a mode", hint="use auto, on or off")
    return mode


@deployments_app.command("create")
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Deployment name, e.g. churn-online."),
    model: str = typer.Option(..., "--model", help="Registered model it runs."),
    kind: str = typer.Option("online", "--kind", help="online, batch or stream."),
) -> None:
    """Create a deployment (operator)."""
    deployment = state(ctx).lk(create=True).releases.create(name, model=model, kind=kind)
    console.print(
        f"[bold green]created[/bold green] {escape(deployment.name)} ({deployment.kind}) for "
        f"{escape(deployment.model)}; next: lightkeeper release {escape(deployment.name)} VERSION "
        '--reason "..."'
    )


@deployments_app.command("list")
def list_deployments(
    ctx: typer.Context, json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Every deployment with what it should serve now."""
    lk = state(ctx).lk()
    rows = []
    for deployment in lk.releases.deployments():
        current = lk.releases.current(deployment.name)
        rows.append({**deployment.to_dict(), "state": current.to_dict() if current else None})
    if json:
        print_json({"deployments": rows})
        return
    table(
        "deployments",
        ["name", "kind", "model", "champion", "challenger", "strategy", "since"],
        [
            (
                r["name"],
                r["kind"],
                r["model"],
                (r["state"] or {}).get("champion"),
                (r["state"] or {}).get("challenger"),
                _strategy(r["state"]),
                (r["state"] or {}).get("at"),
            )
            for r in rows
        ],
    )


def _strategy(state: dict[str, Any] | None) -> str | None:
    if not state or state.get("challenger") is None:
        return None
    percent = state.get("percent")
    return f"{state['strategy']} {percent:g}%" if percent is not None else state["strategy"]


def release(
    ctx: typer.Context,
    deployment: str = typer.Argument(..., help="Deployment name."),
    version: str = typer.Argument(..., help="Version number or alias."),
    strategy: str = typer.Option("direct", "--strategy", help="direct, canary or shadow."),
    percent: float | None = typer.Option(
        None, "--percent", help="Canary traffic share (1-100); shadow copies 100% by default."
    ),
    reason: str = typer.Option(..., "--reason", help="Why, for the audit trail."),
) -> None:
    """Put a version into a deployment; refused without an accepted gate run (operator)."""
    lk = state(ctx).lk()
    record = lk.releases.release(
        deployment, version, strategy=strategy, percent=percent, reason=reason
    )
    _print_state("released", record.to_dict())


def promote(
    ctx: typer.Context,
    deployment: str = typer.Argument(..., help="Deployment name."),
    reason: str = typer.Option("promoted by hand", "--reason", help="Why."),
) -> None:
    """Make the challenger the champion (operator)."""
    _print_state("promoted", state(ctx).lk().releases.promote(deployment, reason=reason).to_dict())


def rollback(
    ctx: typer.Context,
    deployment: str = typer.Argument(..., help="Deployment name."),
    reason: str = typer.Option("rollback", "--reason", help="Why."),
) -> None:
    """One step back: drop the challenger, or return to the previous champion (operator)."""
    _print_state(
        "rolled back", state(ctx).lk().releases.rollback(deployment, reason=reason).to_dict()
    )


def releases(
    ctx: typer.Context,
    deployment: str = typer.Argument(..., help="Deployment name."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The release history of a deployment: who, when, why, which gate run."""
    lk = state(ctx).lk()
    history = lk.releases.history(deployment)
    if json:
        print_json({"deployment": deployment, "releases": [r.to_dict() for r in history]})
        return
    table(
        f"{deployment}: releases",
        ["id", "at", "action", "champion", "challenger", "strategy", "gate run", "by", "reason"],
        [
            (
                r.id,
                r.at,
                r.action,
                r.champion,
                r.challenger,
                _strategy(r.to_dict()),
                r.gate_run_id,
                r.actor,
                r.reason,
            )
            for r in history
        ],
    )


def predictions(
    ctx: typer.Context,
    deployment: str = typer.Argument(..., help="Deployment name."),
    request_id: str | None = typer.Option(None, "--request-id", help="Only this request."),
    arm: str | None = typer.Option(None, "--arm", help="champion, challenger or shadow."),
    limit: int = typer.Option(20, "--limit", min=1, help="How many, newest first."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Logged predictions of a deployment (shadow outputs beside the champion's)."""
    lk = state(ctx).lk()
    lk.releases.deployment(deployment)  # a clear error for an unknown deployment
    found = lk.logs.find(deployment, request_id=request_id, arm=arm, limit=limit)
    if json:
        print_json({"deployment": deployment, "predictions": [r.to_dict() for r in found]})
        return
    table(
        f"{deployment}: predictions",
        ["at", "request", "row", "arm", "version", "output", "ms", "error", "inputs"],
        [
            (
                r.at,
                r.request_id,
                r.row,
                r.arm,
                r.version,
                r.output,
                f"{r.latency_ms:.2f}",
                r.error or "",
                _short(r.inputs),
            )
            for r in found
        ],
    )


def signals(
    ctx: typer.Context,
    deployment: str | None = typer.Argument(None, help="Only instances running this."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Life signals: each running server's newest heartbeat, and whether it is overdue."""
    lk = state(ctx).lk()
    now = lk.clock.now()
    found = [s.to_dict(now) for s in lk.life_signals(deployment)]
    if json:
        print_json({"signals": found})
        return
    table(
        "life signals",
        ["instance", "kind", "runs", "last seen", "age s", "status", "versions", "predictions"],
        [
            (
                s["instance_id"],
                s["kind"],
                s["subject"],
                s["last_seen"],
                f"{s['age_seconds']:.1f}",
                "alive" if s["alive"] else "OVERDUE",
                _short(s["payload"].get("versions", {})),
                s["payload"].get("counts", {}).get("predictions", ""),
            )
            for s in found
        ],
    )


def _short(value: Any, width: int = 60) -> str:
    import json

    text = json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_state(verb: str, state: dict[str, Any]) -> None:
    challenger = ""
    if state["challenger"] is not None:
        challenger = f", challenger {state['challenger']} ({_strategy(state)})"
    console.print(
        f"[bold green]{verb}[/bold green] {escape(state['deployment'])}: champion "
        f"{state['champion']}{challenger}"
    )
