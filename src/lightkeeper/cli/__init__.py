"""The ``lightkeeper`` (and ``lk``) command line. The only place that prints."""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from lightkeeper.errors import LightkeeperError

if TYPE_CHECKING:
    from lightkeeper.app import Lightkeeper

app = typer.Typer(
    name="lightkeeper",
    help="Keep machine-learning models working in production.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


class State:
    """What the global options set; the app object is built on first use."""

    def __init__(self, overrides: dict[str, object], verbose: bool) -> None:
        self.overrides = overrides
        self.verbose = verbose
        self._lk: Lightkeeper | None = None

    def lk(self) -> Lightkeeper:
        """The workspace's application object."""
        if self._lk is None:
            from lightkeeper.app import Lightkeeper
            from lightkeeper.settings import Settings

            self._lk = Lightkeeper(Settings.load(self.overrides))
        return self._lk

    def close(self) -> None:
        """Release the workspace's database connections."""
        if self._lk is not None:
            self._lk.close()


@app.callback()
def _root(
    ctx: typer.Context,
    home: Path | None = typer.Option(
        None, "--home", help="Workspace home \\[env LIGHTKEEPER_HOME, default ./.lightkeeper]."
    ),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Ops database URL \\[env LIGHTKEEPER_DATABASE_URL]."
    ),
    tracking_uri: str | None = typer.Option(
        None, "--tracking-uri", help="MLflow model store URI \\[env MLFLOW_TRACKING_URI]."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show library log lines."),
) -> None:
    ctx.obj = State(
        {"home": home, "database_url": database_url, "tracking_uri": tracking_uri}, verbose
    )
    ctx.call_on_close(ctx.obj.close)
    _configure_logging(verbose)


def _configure_logging(verbose: bool) -> None:
    # MLflow installs its own INFO handler on import unless told not to; the CLI decides.
    os.environ.setdefault("MLFLOW_CONFIGURE_LOGGING", "false")
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("mlflow", "alembic", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("mlflow.sklearn").addFilter(_drop_pickle_advice)
    if not verbose:
        # Dependencies warn about their own internals; the CLI user cannot act on those.
        for module in ("mlflow", "pydantic", "sklearn", "alembic", "sqlalchemy"):
            warnings.filterwarnings("ignore", module=module + ".*")


def _drop_pickle_advice(record: logging.LogRecord) -> bool:
    # lightkeeper pins the pickle format on purpose (it loads models it logged itself).
    return "pickle or cloudpickle format" not in record.getMessage()


def _register() -> None:
    from lightkeeper.cli import (
        alarms,
        batch,
        demo,
        deploy,
        drift,
        gate,
        gold,
        labels,
        models,
        monitor,
        tokens,
        train,
        workspace,
    )

    train.register(app)
    models.register(app)
    gold.register(app)
    gate.register(app)
    deploy.register(app)
    batch.register(app)
    drift.register(app)
    monitor.register(app)
    alarms.register(app)
    labels.register(app)
    tokens.register(app)
    workspace.register(app)
    demo.register(app)


_register()


def main() -> None:
    """Entry point of the console scripts: user errors print a message, never a traceback."""
    try:
        app()
    except LightkeeperError as exc:
        from lightkeeper.cli._output import fail

        fail(exc.code, exc.message, exc.hint)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug of ours or a dependency's: say so, keep the trace in -v
        from lightkeeper.cli._output import fail

        logging.getLogger("lightkeeper").debug("internal error", exc_info=True)
        fail(
            "LK-ERROR",
            f"internal error: {type(exc).__name__}: {exc}",
            "rerun with -v for the full trace, and please report it",
        )
        if "-v" in sys.argv or "--verbose" in sys.argv:
            raise
        sys.exit(70)
