"""``lightkeeper alarms list|show|ack|resolve|deliver``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from lightkeeper.cli._output import console, print_json, table
from lightkeeper.cli.state import state as cli_state  # list has a --state option
from lightkeeper.names import MAX_ID

if TYPE_CHECKING:
    from lightkeeper.store.alarms import Alarm

alarms_app = typer.Typer(help="Alarms: open problems, who owns them, where they were sent.")


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.add_typer(alarms_app, name="alarms", no_args_is_help=True)


@alarms_app.command("list")
def list_(
    ctx: typer.Context,
    state: str = typer.Option(
        "active",
        "--state",
        help="active (open or acknowledged), open, acknowledged, resolved, all.",
    ),
    deployment: str | None = typer.Option(None, "--deployment", help="Only this deployment."),
    limit: int = typer.Option(50, "--limit", min=1, help="How many, most recent first."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Alarms, most recently raised first, with undelivered messages counted."""
    lk = cli_state(ctx).lk()
    found = lk.alarms.find(
        state=None if state == "all" else state, deployment=deployment, limit=limit
    )
    if json:
        print_json({"alarms": [a.to_dict() for a in found]})
        return
    table(
        f"alarms ({state})",
        ["id", "state", "severity", "rule", "title", "seen", "last", "pending"],
        [
            (
                a.id,
                a.state,
                a.severity,
                a.rule,
                a.title,
                a.occurrences,
                a.last_at,
                a.pending or None,
            )
            for a in found
        ],
    )


@alarms_app.command("show")
def show(
    ctx: typer.Context,
    alarm_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Alarm id."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One alarm: evidence, owner, runbook entry, and every delivery with its attempts."""
    alarm = cli_state(ctx).lk().alarms.get(alarm_id)
    if json:
        print_json(alarm.to_dict())
        return
    _describe(alarm)


@alarms_app.command("ack")
def ack(
    ctx: typer.Context,
    alarm_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Alarm id."),
    note: str = typer.Option("", "--note", help="What you are doing about it."),
) -> None:
    """Take an open alarm on (operator, data scientist)."""
    alarm = cli_state(ctx).lk().alarms.acknowledge(alarm_id, note=note)
    console.print(f"alarm {alarm.id} acknowledged by {escape(alarm.acknowledged_by or '')}")


@alarms_app.command("resolve")
def resolve(
    ctx: typer.Context,
    alarm_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Alarm id."),
    reason: str = typer.Option(..., "--reason", help="What fixed it, for the audit trail."),
) -> None:
    """Close an alarm by hand; its sinks are told."""
    alarm = cli_state(ctx).lk().alarms.resolve(alarm_id, reason=reason)
    console.print(f"alarm {alarm.id} resolved: {escape(alarm.resolution or '')}")
    _deliveries(alarm, "resolved")


@alarms_app.command("deliver")
def deliver(
    ctx: typer.Context,
    everything: bool = typer.Option(
        False, "--all", help="Retry every pending delivery now, not only those due."
    ),
) -> None:
    """Attempt pending alarm deliveries (``lightkeeper up`` does this continuously).

    Exits 1 when some still failed; they stay pending.
    """
    outcomes = cli_state(ctx).lk().alarms.deliver(everything=everything)
    for o in outcomes:
        status = (
            "[green]delivered[/green]"
            if o.delivered
            else f"[red]failed[/red]: {escape(o.error or '')}"
        )
        console.print(f"alarm {o.alarm_id} to {escape(o.sink)}: {status}")
    if not outcomes:
        console.print("nothing to deliver")
    if any(not o.delivered for o in outcomes):
        raise typer.Exit(1)


def _describe(alarm: Alarm) -> None:
    console.print(f"[bold]alarm {alarm.id}[/bold] {escape(alarm.title)}")
    rows = [
        ("state", alarm.state),
        ("severity", alarm.severity),
        ("rule", f"{alarm.rule} ({alarm.when})"),
        ("dedup key", alarm.dedup_key),
        ("deployment", alarm.deployment),
        ("model", f"{alarm.model} v{alarm.version}" if alarm.version else alarm.model),
        (
            "seen",
            f"{alarm.occurrences} time(s), {alarm.opened_at:%Y-%m-%d %H:%M:%S} to "
            f"{alarm.last_at:%Y-%m-%d %H:%M:%S} UTC",
        ),
        ("evidence", alarm.evidence.get("summary")),
        ("owner", ", ".join(f"{k}: {v}" for k, v in alarm.owner.items() if v)),
        (
            "runbook",
            f"{alarm.runbook['code']}: {alarm.runbook['meaning']}; first action: "
            f"{alarm.runbook['first_action']}"
            if alarm.runbook
            else "no entry for this error type",
        ),
        ("acknowledged", alarm.acknowledged_by),
        ("resolved", f"{alarm.resolved_by}: {alarm.resolution}" if alarm.resolved_by else None),
    ]
    table(None, ["", ""], rows)
    _deliveries(alarm, None)


def _deliveries(alarm: Alarm, message: str | None) -> None:
    shown = [d for d in alarm.deliveries if message is None or d.message == message]
    if not shown:
        return
    table(
        "deliveries",
        ["message", "sink", "kind", "status", "attempts", "next attempt", "last error"],
        [
            (
                d.message,
                d.sink,
                d.kind,
                d.status,
                d.attempts,
                d.next_attempt_at if d.status == "pending" else None,
                d.last_error,
            )
            for d in shown
        ],
    )
