"""Workspace commands: ``settings``, ``db upgrade``, ``audit``, ``up``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import typer

from lightkeeper.cli._output import console, print_json, table
from lightkeeper.cli.state import state
from lightkeeper.errors import InvalidInput

db_app = typer.Typer(help="The ops database.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command("settings")(settings)
    app.command("audit")(audit)
    app.command("up")(up)
    app.add_typer(db_app, name="db")


def settings(
    ctx: typer.Context, json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Each setting's value and where it came from (default, file, env, flag)."""
    from lightkeeper.settings import Settings

    rows = Settings.load(state(ctx).overrides).rows()
    if json:
        print_json({"settings": rows})
        return
    table(
        "settings",
        ["name", "value", "source", "env"],
        [(r["name"], r["value"], r["source"], r["env"]) for r in rows],
    )


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply pending migrations to the ops database (also done on first use)."""
    lk = state(ctx).lk(create=True)
    before, after = lk.upgrade_database()
    where = lk.settings.database_url
    from lightkeeper.store.db import normalise_url

    shown = normalise_url(where).render_as_string(hide_password=True)
    if before == after:
        console.print(f"ops database {shown} is up to date (revision {after})")
    else:
        console.print(f"ops database {shown} upgraded from {before or 'empty'} to {after}")


def _parse_since(text: str | None) -> datetime | None:
    if not text:
        return None
    units = {"m": "minutes", "h": "hours", "d": "days"}
    try:
        if text[:-1].isascii() and text[:-1].isdigit() and text[-1] in units:
            return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError):  # not a date, or a duration reaching before year 1
        raise InvalidInput(
            f"--since {text!r} is neither a duration nor a date",
            hint="use a duration like 30m, 12h, 7d or an ISO date like 2026-11-27T08:00",
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def audit(
    ctx: typer.Context,
    kind: str | None = typer.Option(None, help="Event kind or prefix, e.g. version."),
    actor: str | None = typer.Option(None, help="Who did it."),
    subject: str | None = typer.Option(None, help="Subject or prefix, e.g. model:churn."),
    since: str | None = typer.Option(None, help="Only newer entries: 12h, 7d or an ISO date."),
    limit: int = typer.Option(50, min=1, max=10_000, help="At most this many entries."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The audit trail: who changed what, when and why (newest first)."""
    entries = (
        state(ctx)
        .lk()
        .audit_entries(
            kind=kind, actor=actor, subject=subject, since=_parse_since(since), limit=limit
        )
    )
    if json:
        print_json({"entries": [e.to_dict() for e in entries]})
        return
    if not entries:
        console.print("no audit entries match")
        return
    table(
        "audit",
        ["id", "at", "actor", "kind", "subject", "reason", "details"],
        [
            (
                e.id,
                e.at,
                e.actor,
                e.kind,
                e.subject,
                e.reason,
                ", ".join(f"{k}={v}" for k, v in e.payload.items() if v not in (None, [], "")),
            )
            for e in entries
        ],
    )


def up(
    ctx: typer.Context,
    host: str | None = typer.Option(None, help="Listen address \\[setting host]."),
    port: int | None = typer.Option(None, help="Listen port \\[setting port]."),
) -> None:
    """Run the control plane: the HTTP API (OpenAPI at /docs) and every background loop
    (rollout controller, batch cadence, watchdog, monitors, alarm dispatch; see
    `lightkeeper loops`)."""
    import uvicorn

    from lightkeeper.web.api import build_api

    cli = state(ctx)
    cli.overrides.update({"host": host, "port": port})
    from lightkeeper.sockets import listen

    lk = cli.lk(create=True)
    lk.health()  # an unreachable database fails here, with a clear message, not per request
    settings = lk.settings
    sock = listen(settings.host, settings.port)  # a port in use fails before any loop starts
    console.print(
        f"lightkeeper control plane on http://{settings.host}:{settings.port} "
        f"(API /api/v1, OpenAPI /docs); workspace {settings.home}"
    )
    config = uvicorn.Config(
        build_api(lk, loops=[lk.control_plane()]),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=cli.verbose,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
