"""``lightkeeper demo``: a fresh embedded workspace with a trained, registered example."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import typer

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
    settings = Settings.load(
        {
            "home": home,
            "database_url": f"sqlite:///{home / 'ops.db'}",
            "tracking_uri": f"sqlite:///{home / 'mlflow.db'}",
        }
    )
    lk = Lightkeeper(settings)
    with console.status("training the example", spinner="dots") as status:

        def step(message: str) -> None:
            console.print(f"[dim]{time.perf_counter() - started:6.1f}s[/dim]  {message}")
            status.update(message)

        info = lk.train(project, on_step=step)
    console.print(
        f"[bold green]registered[/bold green] {info.model} version {info.version} "
        f"({info.lineage.data_rows:,} training rows) in {time.perf_counter() - started:.1f}s\n"
    )
    shown = Path.cwd()
    rel = directory.relative_to(shown) if directory.is_relative_to(shown) else directory
    console.print("[bold]try next[/bold]")
    for line in (
        f"cd {rel}",
        "lightkeeper models list",
        f"lightkeeper models show {info.model} {info.version}",
        f"lightkeeper train {EXAMPLE}            # another version",
        "lightkeeper audit                          # who did what, when",
        "lightkeeper up                             # HTTP API on http://127.0.0.1:8700/docs",
    ):
        console.print(f"  {line}")
    lk.close()
