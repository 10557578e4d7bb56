"""``lightkeeper demo``: a fresh embedded workspace with a trained, registered example."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from lightkeeper.cli._output import console
from lightkeeper.errors import InvalidInput

EXAMPLE = "seattle_weather"


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("demo")(demo)


def example_project(name: str = EXAMPLE) -> Path:
    """The example project shipped inside the package."""
    folder = Path(__file__).resolve().parent.parent / "examples" / name
    if not (folder / "lightkeeper.yaml").is_file():
        raise InvalidInput(f"the example project {name!r} is not installed at {folder}")
    return folder


def demo(
    directory: Path = typer.Argument(
        Path("lightkeeper-demo"), help="Folder for the demo project and its workspace."
    ),
) -> None:
    """Create a demo workspace, train and register the Seattle weather example, show it.

    The demo always uses the embedded default (SQLite + a local MLflow store inside
    DIRECTORY/.lightkeeper), whatever LIGHTKEEPER_* variables say. Run it again to
    register another version.
    """
    from lightkeeper.app import Lightkeeper
    from lightkeeper.settings import Settings

    started = time.perf_counter()
    directory = directory.absolute()
    if directory.exists() and not directory.is_dir():
        raise InvalidInput(f"{directory} exists and is not a folder", hint="pick another folder")
    project = directory / EXAMPLE
    if not project.exists():
        shutil.copytree(
            example_project(), project, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        console.print(f"copied the example project to {project}")
    home = directory / ".lightkeeper"
    settings = Settings.load({"home": home}, environ={})  # the embedded default, always
    lk = Lightkeeper(settings)
    with console.status("training the example", spinner="dots") as status:

        def step(message: str) -> None:
            console.print(f"[dim]{time.perf_counter() - started:6.1f}s[/dim]  {escape(message)}")
            status.update(message)

        info = lk.train(project, on_step=step)
        console.print(
            f"[bold green]registered[/bold green] {info.model} version {info.version} "
            f"({info.lineage.data_rows:,} training rows)"
        )
        gold_path = project / "gold_2015.csv"
        if not gold_path.exists():
            _example_module(project).gold_days().to_csv(gold_path, index=False)
        gold, _ = lk.gold_add(
            "seattle-weather-gold",
            gold_path,
            owner="weather-desk@example.com",
            label_column="weather",
            segment_column="season",
            project_dir=project,
        )
        if not gold.approved:
            lk.gold_approve(gold.name, gold.version, note="demo: the weather desk signs off 2015")
        step(f"gold dataset {gold.name} version {gold.version}: {gold.rows} days, approved")
        run = lk.gate_run(info.model, info.version, on_step=step)
    failed = [c["name"] for c in run.result["checks"] if c["status"] in ("failed", "error")]
    checks = run.result["checks"]
    verdict = (
        "[bold green]PASSED[/bold green]"
        if run.verdict == "passed"
        else "[bold red]FAILED[/bold red]"
    )
    console.print(
        f"gate {verdict}: {sum(c['status'] == 'passed' for c in checks)} of {len(checks)} checks "
        f"passed" + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    if run.verdict == "passed":
        lk.gate_accept(info.model, info.version, reason="demo hand-over to operations")
        console.print(
            f"[bold green]accepted[/bold green] {info.model} version {info.version}: "
            "ready to release"
        )
    console.print(f"report: {run.report_path}")
    console.print(f"done in {time.perf_counter() - started:.1f}s\n")
    shown = Path.cwd()
    rel = directory.relative_to(shown) if directory.is_relative_to(shown) else directory
    console.print("[bold]try next[/bold]")
    for line in (
        f"cd {rel}",
        "lightkeeper models list",
        f"lightkeeper models show {info.model} {info.version}",
        f"lightkeeper gate show {info.model} {info.version}     # the gate run and sign-off",
        "lightkeeper gold list",
        f"lightkeeper train {EXAMPLE}            # another version, then: lightkeeper gate run",
        "lightkeeper audit                          # who did what, when",
        "lightkeeper up                             # HTTP API on http://127.0.0.1:8700/docs",
    ):
        console.print(f"  {line}")
    lk.close()


def _example_module(project: Path) -> Any:
    """The example's train module, imported from the copied project folder."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("lightkeeper_demo_train", project / "train.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
