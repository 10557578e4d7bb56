"""The ``lightkeeper`` (and ``lk``) command line. The only place that prints."""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path

import typer

from lightkeeper.cli.state import CliState
from lightkeeper.errors import LightkeeperError

app = typer.Typer(
    name="lightkeeper",
    help="Keep machine-learning models working in production.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


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
    given: dict[str, object] = {
        "home": home,
        "database_url": database_url,
        "tracking_uri": tracking_uri,
    }
    # The only place that sets ctx.obj; commands read it through cli.state.state(ctx).
    cli = ctx.obj if isinstance(ctx.obj, CliState) else None  # made by main(), for errors
    if cli is None:
        cli = ctx.obj = CliState(given, verbose)
    else:
        cli.overrides.update(given)
        cli.verbose = verbose
    ctx.call_on_close(cli.close)
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
        loops,
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
    loops.register(app)
    labels.register(app)
    tokens.register(app)
    workspace.register(app)
    demo.register(app)


_register()


def main() -> None:
    """Entry point of the console scripts: user errors print a message, never a traceback
    (nor a password: a library's words quoted in a message are redacted)."""
    state = CliState()
    try:
        app(obj=state)
    except LightkeeperError as exc:
        from lightkeeper.cli._output import fail

        fail(exc.code, state.redact(exc.message), state.redact(exc.hint))
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug of ours or a dependency's: say so, keep the trace in -v
        from lightkeeper.cli._output import fail

        logging.getLogger("lightkeeper").debug("internal error", exc_info=True)
        fail(
            "LK-ERROR",
            state.redact(f"internal error: {type(exc).__name__}: {exc}"),
            "rerun with -v for the full trace, and please report it",
        )
        if "-v" in sys.argv or "--verbose" in sys.argv:
            raise
        sys.exit(70)
