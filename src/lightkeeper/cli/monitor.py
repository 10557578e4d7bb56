"""``lightkeeper monitor drift|results|show``: monitors over a deployment's prediction logs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from lightkeeper.cli._output import console, print_json, table
from lightkeeper.cli.state import state
from lightkeeper.names import MAX_ID

if TYPE_CHECKING:
    from lightkeeper.store.monitors import MonitorResult

monitor_app = typer.Typer(help="Monitors: drift of a deployment's traffic, per window, stored.")


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.add_typer(monitor_app, name="monitor", no_args_is_help=True)


@monitor_app.command("drift")
def drift(
    ctx: typer.Context,
    deployment: str = typer.Argument(..., help="Deployment (online or batch)."),
    window: str | None = typer.Option(
        None, "--window", help="Window length: 30m, 6h, 1d, 2w (default: monitoring.window)."
    ),
    end: str | None = typer.Option(
        None, "--end", help="Window end, ISO 8601 (UTC when no zone is given); default: now."
    ),
    html: Path | None = typer.Option(
        None, "--html", help="Also write a self-contained HTML report with a plot per feature."
    ),
    json: bool = typer.Option(False, "--json", help="Print the stored result as JSON."),
) -> None:
    """Drift of the features and the model output over a window of prediction logs.

    Compared with the champion's reference profile; the result is stored per window
    (a window checked again replaces its result). Exits 1 when anything drifted.
    """
    from lightkeeper.monitor.monitors import window_end

    lk = state(ctx).lk()
    result = lk.drift.run(deployment, window=window, end=window_end(end, lk.clock.now()))
    _show(result, json=json, html=html)
    if result.status == "drift":
        raise typer.Exit(1)


@monitor_app.command("performance")
def performance(
    ctx: typer.Context,
    deployment: str = typer.Argument(..., help="Deployment."),
    window: str | None = typer.Option(
        None, "--window", help="Window of prediction time: 30m, 6h, 1d, 2w (default: manifest)."
    ),
    end: str | None = typer.Option(None, "--end", help="Window end, ISO 8601; default: now."),
    json: bool = typer.Option(False, "--json", help="Print the stored result as JSON."),
) -> None:
    """Performance over a window: measured on labelled predictions (the gate's metrics),
    and for classifiers estimated from calibrated confidence. Exits 1 when degraded."""
    from lightkeeper.monitor.monitors import window_end

    lk = state(ctx).lk()
    result = lk.performance.run(deployment, window=window, end=window_end(end, lk.clock.now()))
    if json:
        print_json(result.to_dict())
    else:
        data = result.result
        rows = []
        for scope, measured in (data.get("measured") or {}).items():
            name = "all versions" if scope == "all" else f"v{scope}"
            for metric_name, value in measured.get("metrics", {}).items():
                rows.append(
                    (name, metric_name, f"{value:.4f}", f"{measured['rows']:,}", "measured")
                )
        estimated = data.get("estimated")
        if estimated and "accuracy" in estimated:
            rows.append(
                (
                    f"v{result.version}",
                    "accuracy",
                    f"{estimated['accuracy']:.4f}",
                    f"{estimated['rows']:,}",
                    "estimated (confidence)",
                )
            )
        table(
            f"performance of {deployment} over {data.get('window')}",
            ["scope", "metric", "value", "rows", "how"],
            rows,
        )
        for scope, measured in (data.get("measured") or {}).items():
            if measured.get("error"):
                console.print(
                    f"[red]labels of {escape(scope)} not comparable[/red]: "
                    f"{escape(measured['error'])}"
                )
        if estimated and estimated.get("error"):
            console.print(f"[yellow]no estimate[/yellow]: {escape(estimated['error'])}")
        level = data.get("level")
        shown = f"{result.value:.4f}" if result.value is not None else "-"
        console.print(
            f"{result.status.upper()}: {data.get('metric')} {shown}"
            + (f" (level {level:g})" if level is not None else "")
            + (" estimated" if data.get("value_is_estimate") else "")
            + f"; {data.get('labelled', 0):,} labelled predictions (result {result.id})"
        )
    if result.status == "degraded":
        raise typer.Exit(1)


@monitor_app.command("results")
def results(
    ctx: typer.Context,
    deployment: str = typer.Argument(..., help="Deployment."),
    limit: int = typer.Option(20, "--limit", min=1, help="How many, newest window first."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Stored monitor results of a deployment, newest window first."""
    found = state(ctx).lk().monitor_results(deployment, limit=limit)
    if json:
        print_json({"deployment": deployment, "results": [r.to_dict() for r in found]})
        return
    table(
        f"{deployment}: monitor results",
        ["id", "kind", "window", "from", "to", "version", "rows", "status", "drifted"],
        [
            (
                r.id,
                r.kind,
                r.result.get("window"),
                r.window_start,
                r.window_end,
                r.version,
                f"{r.rows:,}",
                r.status,
                ", ".join(_drifted(r)) or None,
            )
            for r in found
        ],
    )


@monitor_app.command("show")
def show(
    ctx: typer.Context,
    result_id: int = typer.Argument(
        ..., min=1, max=MAX_ID, help="Result id (lightkeeper monitor results D)."
    ),
    html: Path | None = typer.Option(None, "--html", help="Write the HTML report here."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One stored result: every feature's statistics, as a table, JSON or HTML."""
    _show(state(ctx).lk().monitor_result(result_id), json=json, html=html)


def _show(result: MonitorResult, *, json: bool, html: Path | None) -> None:
    if html is not None:
        write_html(html, result)
    if json:
        print_json(result.to_dict())
        return
    features = (result.result.get("features") or {}).get("features", [])
    outputs = result.result.get("outputs") or {}
    rows = [_row(f, f["feature"]) for f in features]
    rows += [_row(o, f"output v{v}") for v, o in outputs.items() if o.get("method")]
    span = f"{result.window_start:%Y-%m-%d %H:%M} to {result.window_end:%Y-%m-%d %H:%M} UTC"
    table(
        f"drift of {result.deployment} over {result.result.get('window')} ({span}), "
        f"reference: v{result.version}",
        ["feature", "kind", "rows ref/cur", "method", "value", "threshold", "drift", "psi"],
        rows,
    )
    if result.status == "no data":
        console.print(f"no predictions of {escape(result.deployment)} in this window")
    else:
        drifted = _drifted(result)
        console.print(
            f"{result.status.upper()}: {len(drifted)} drifted of {len(rows)} "
            f"({result.rows:,} rows; result {result.id})"
        )
    if html is not None:
        console.print(f"report written to {escape(str(html))}")


def _row(f: dict[str, Any], name: str) -> tuple[Any, ...]:
    value, threshold = f.get("value"), f.get("threshold")
    return (
        name,
        f.get("kind"),
        f"{f.get('reference_rows', 0):,}/{f.get('current_rows', 0):,}",
        f.get("method"),
        f"{value:.4g}" if value is not None else None,
        f"{threshold:g}" if threshold is not None else None,
        "DRIFT" if f.get("drifted") else ("ok" if f.get("method") != "none" else "no data"),
        f"{(f.get('statistics') or {}).get('psi') or 0:.3f}",
    )


def _drifted(result: MonitorResult) -> list[str]:
    features = (result.result.get("features") or {}).get("drifted", [])
    outputs = [
        f"output v{v}" for v, o in (result.result.get("outputs") or {}).items() if o.get("drifted")
    ]
    return [*features, *outputs]


def write_html(path: Path, result: MonitorResult) -> None:
    """Write a stored result's HTML report."""
    from lightkeeper.monitor.report import render_result

    write_text(path, render_result(result))


def write_text(path: Path, text: str) -> None:
    """Write a report the user named, whole or not at all; a bad path is their mistake."""
    from lightkeeper.errors import InvalidInput
    from lightkeeper.files import write_atomic

    if path.is_dir():
        raise InvalidInput(f"{path} is a folder", hint="give a file name, e.g. drift.html")
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise InvalidInput(
            f"cannot write {path}: {exc.strerror}", hint="check the folder"
        ) from None
