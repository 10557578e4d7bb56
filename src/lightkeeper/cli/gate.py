"""``lightkeeper gate run|show|accept``."""

from __future__ import annotations

import time
from typing import Any

import typer
from rich.markup import escape
from rich.text import Text

from lightkeeper.cli._output import console, print_json, table
from lightkeeper.cli.state import state

gate_app = typer.Typer(
    help="The acceptance gate: gold-set checks and the hand-over.", no_args_is_help=True
)

_STYLE = {"passed": "green", "failed": "bold red", "error": "bold red", "skipped": "yellow"}


def register(app: typer.Typer) -> None:
    """Add the command group to the app."""
    app.add_typer(gate_app, name="gate")


@gate_app.command("run")
def run(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Model name."),
    version: str = typer.Argument("latest", help="Version number, 'latest' or an alias."),
    deployment: str | None = typer.Option(
        None,
        "--deployment",
        help="Compare with this deployment's champion (default: every deployment's "
        "champion of the model; the strictest decides).",
    ),
    json: bool = typer.Option(False, "--json", help="Print the gate run as JSON."),
) -> None:
    """Run every check of the gate policy, with the model loaded in a fresh process.

    Exits 0 when the gate passed and 1 when it failed, so scripts can branch on it.
    """
    lk = state(ctx).lk()
    started = time.perf_counter()
    if json:
        result = lk.gate.run(model, version, deployment=deployment)
        print_json(result.to_dict())
    else:
        with console.status("running the gate", spinner="dots") as status:

            def step(message: str) -> None:
                console.print(
                    f"[dim]{time.perf_counter() - started:6.1f}s[/dim]  {escape(message)}"
                )
                status.update(message)

            result = lk.gate.run(model, version, deployment=deployment, on_step=step)
        _print_run(result.to_dict())
    raise typer.Exit(0 if result.verdict == "passed" else 1)


@gate_app.command("show")
def show(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Model name."),
    version: str = typer.Argument("latest", help="Version number, 'latest' or an alias."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The newest gate run of a version: checks, metrics, verdict, sign-off."""
    lk = state(ctx).lk()
    number = lk.version(model, version).version  # an unknown model is named as such
    result = lk.gate.latest(model, number)
    if json:
        print_json(result.to_dict())
        return
    _print_run(result.to_dict())


@gate_app.command("accept")
def accept(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Model name."),
    version: str = typer.Argument(..., help="Version number or alias."),
    override: bool = typer.Option(
        False, "--override", help="Accept a FAILED gate run (operator only; needs --reason)."
    ),
    reason: str = typer.Option("", "--reason", help="Why, for the audit trail."),
) -> None:
    """Hand-over: an operator accepts the newest gate run of a version."""
    result = state(ctx).lk().gate.accept(model, version, override=override, reason=reason)
    signoff = result.signoff
    assert signoff is not None
    console.print(
        f"[bold green]{signoff.decision}[/bold green] gate run {result.id} of {escape(model)} "
        f"version {result.version} by {escape(signoff.actor)} ({signoff.role})"
        + (f": {escape(signoff.reason)}" if signoff.reason else "")
    )


def _print_run(run: dict[str, Any]) -> None:
    verdict = run["verdict"]
    gold = run.get("gold") or {}
    headline = Text()
    headline.append(
        f"gate {verdict.upper()}", style=_STYLE["passed" if verdict == "passed" else "failed"]
    )
    headline.append(f"  {run['model']} version {run['version']}  (run {run['id']})")
    if gold:
        headline.append(f"  gold {gold['name']} v{gold['version']}, {gold['rows']:,} rows")
    console.print(headline)
    from lightkeeper.gate.champions import describe_champions  # imports the stores

    console.print(f"compared with: {escape(describe_champions(run))}")
    rows = []
    for check in run["checks"]:
        status = Text(check["status"], style=_STYLE[check["status"]])
        rows.append(
            (
                status.plain,
                check["name"],
                check["message"],
                (check.get("hint") or "") if check["status"] != "passed" else "",
                _duration(check.get("duration_s")),
            )
        )
    table(None, ["status", "check", "result", "what to do", "time"], rows)
    if run.get("metrics"):
        champion = run.get("champion_metrics") or {}
        table(
            "metrics on the gold set",
            ["metric", "candidate", "champion"],
            [(k, v, champion.get(k)) for k, v in sorted(run["metrics"].items())],
        )
    latency = run.get("latency") or {}
    if latency.get("rounds"):
        spread = latency["p99_spread_ms"]
        rounds = ", ".join(f"{r['p99_ms']:.2f}" for r in latency["rounds"])
        console.print(
            f"latency p99 per round (ms): {rounds}; min {spread['min']:.2f}, median "
            f"{spread['median']:.2f}, max {spread['max']:.2f} (one thread, "
            f"{latency['samples']:,} single-row predictions)"
        )
    timings = run.get("timings") or {}
    if timings:
        console.print(
            f"predict {timings.get('predict_s', 0):.2f}s of {timings.get('total_s', 0):.2f}s total"
        )
    if run.get("report_path"):
        console.print(f"report: {escape(run['report_path'])}")
    signoff = run.get("signoff")
    if signoff:
        console.print(
            f"{signoff['decision']} by {escape(signoff['actor'])} ({signoff['role']}) "
            f"{signoff['at']}" + (f": {escape(signoff['reason'])}" if signoff["reason"] else "")
        )
    elif verdict == "passed":
        console.print(
            f"next: an operator accepts: lightkeeper gate accept {run['model']} {run['version']}"
        )


def _duration(seconds: float | None) -> str:
    """A check's duration for people: ``850 ms``, ``0.4 ms``, ``2.3 s``."""
    if not seconds:  # 0 is "not measured": a timed check takes some nanoseconds
        return "-"
    if seconds >= 1:
        return f"{seconds:.1f} s"
    if seconds >= 0.01:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds * 1000:.1f} ms" if seconds >= 0.0001 else "<0.1 ms"
