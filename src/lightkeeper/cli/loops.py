"""``lightkeeper loops [decisions]``: what the control plane's loops do, and why not."""

from __future__ import annotations

import typer

from lightkeeper.cli._output import print_json, table
from lightkeeper.cli.state import state

loops_app = typer.Typer(
    help="The control plane's loops (rollout, batch cadence, watchdog, monitors, alarm "
    "dispatch): who runs each, and every decision, skips included."
)


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.add_typer(loops_app, name="loops")


@loops_app.callback(invoke_without_command=True)
def loops(
    ctx: typer.Context,
    loop: str | None = typer.Option(None, "--loop", help="Only this loop."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Each loop in each process that ran it: working, standby, failing or stopped."""
    if ctx.invoked_subcommand is not None:
        return
    lk = state(ctx).lk()
    now = lk.clock.now()
    found = [s.to_dict(now) for s in lk.loops(loop)]
    if json:
        print_json({"loops": found})
        return
    table(
        "control-plane loops",
        ["loop", "process", "state", "every s", "rounds", "last round", "took s", "error"],
        [
            (
                s["loop"],
                s["holder"],
                s["state"],
                f"{s['interval_seconds']:g}",
                s["rounds"],
                s["last_round_at"],
                f"{s['last_seconds']:.3f}",
                s["last_error"],
            )
            for s in found
        ],
    )


@loops_app.command("decisions")
def decisions(
    ctx: typer.Context,
    loop: str | None = typer.Option(None, "--loop", help="Only this loop."),
    subject: str | None = typer.Option(
        None, "--subject", help="Only about this deployment (or alarm...)."
    ),
    outcome: str | None = typer.Option(None, "--outcome", help="ran, skipped or failed."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000, help="How many, newest first."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What the loops decided: ran, skipped and why, or failed; repeats are counted."""
    from lightkeeper.decisions import OUTCOMES
    from lightkeeper.errors import InvalidInput

    if outcome is not None and outcome not in OUTCOMES:
        raise InvalidInput(
            f"--outcome {outcome!r} is not an outcome", hint="ran, skipped or failed"
        )
    lk = state(ctx).lk()
    found = lk.loop_decisions(loop=loop, subject=subject, outcome=outcome, limit=limit)
    if json:
        print_json({"decisions": [d.to_dict() for d in found]})
        return
    table(
        "loop decisions",
        ["loop", "subject", "outcome", "reason", "times", "last", "process"],
        [(d.loop, d.subject, d.outcome, d.reason, d.count, d.last_at, d.holder) for d in found],
    )
