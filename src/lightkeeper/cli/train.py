"""``lightkeeper train``."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.markup import escape

from lightkeeper.cli._output import console, print_json
from lightkeeper.cli.state import state


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("train")(train)
    app.command("check")(check)


def check(
    project_dir: Path = typer.Argument(Path("."), help="Project folder with lightkeeper.yaml."),
    json: bool = typer.Option(False, "--json", help="Print the parsed manifest as JSON."),
) -> None:
    """Validate the project's lightkeeper.yaml; errors name the line and the field."""
    from lightkeeper.manifest import load_manifest

    manifest = load_manifest(project_dir)
    if json:
        print_json(manifest.model_dump(mode="json"))
        return
    console.print(
        f"[bold green]ok[/bold green] {manifest.name} ({manifest.kind}): "
        f"{len(manifest.input_schema)} input features, "
        f"target {manifest.target.name if manifest.target else 'none'}, "
        f"{len(manifest.runbook)} runbook entries, {len(manifest.alarms.rules)} alarm rules"
    )


def train(
    ctx: typer.Context,
    project_dir: Path = typer.Argument(Path("."), help="Project folder with lightkeeper.yaml."),
    param: list[str] | None = typer.Option(
        None,
        "--param",
        metavar="KEY=VALUE",
        help="A param for the train entrypoint's params argument, logged on the MLflow run "
        "(repeatable). 42 is an int, 0.5 or 1e-3 a float, true/false a bool, anything else "
        "text.",
    ),
    json: bool = typer.Option(False, "--json", help="Print the registered version as JSON."),
) -> None:
    """Run the project's train entrypoint in an MLflow run and register a new version.

    With --param, the entrypoint gets them as train(params=...): it needs that argument.
    """
    from lightkeeper.training import parse_params

    params = parse_params(param or [])
    lk = state(ctx).lk(create=True)
    started = time.perf_counter()
    if json:
        info = lk.training.train(project_dir, params=params)
        print_json(info.to_dict())
        return
    with console.status("training", spinner="dots") as status:

        def step(message: str) -> None:
            console.print(f"[dim]{time.perf_counter() - started:6.1f}s[/dim]  {escape(message)}")
            status.update(message)

        info = lk.training.train(project_dir, on_step=step, params=params)
    lineage = info.lineage
    console.print(
        f"[bold green]registered[/bold green] {info.model} version {info.version} "
        f"in {time.perf_counter() - started:.1f}s"
    )
    console.print(f"  data     {lineage.data_rows:,} rows, {lineage.data_hash}")
    commit = lineage.code_commit or "not in a git repository"
    dirty = " (uncommitted changes)" if lineage.code_dirty else ""
    console.print(f"  code     {commit}{dirty}")
    if params:
        console.print(f"  params   {escape(', '.join(f'{k}={v!r}' for k, v in params.items()))}")
    if info.metrics:
        shown = ", ".join(f"{k}={v:.4g}" for k, v in sorted(info.metrics.items()))
        console.print(f"  metrics  {shown}")
    console.print(f"  run      {info.run_id}")
    console.print(f"next: lightkeeper models show {info.model} {info.version}")
