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
    from lightkeeper.settings import Settings

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

    def lk(self, *, create: bool = False) -> Lightkeeper:
        """The workspace's application object.

        Args:
            create: make the workspace if it does not exist yet (commands that add
                something: train, register, gold add, deployments create, tokens create,
                db upgrade, up). Every other command refuses to run on a workspace that is
                not there, naming the home it looked in, and leaves nothing behind.
        """
        if self._lk is None:
            from lightkeeper.app import Lightkeeper
            from lightkeeper.settings import Settings

            settings = Settings.load(self.overrides)
            if not create:
                _require_workspace(settings)
            self._lk = Lightkeeper(settings)
        return self._lk

    def close(self) -> None:
        """Release the workspace's database connections."""
        if self._lk is not None:
            self._lk.close()

    def redact(self, text: str) -> str:
        """``text`` without the credentials of secret settings (database, model store and
        SMTP passwords, the API token), as far as the settings can be read."""
        from lightkeeper.errors import SettingsError
        from lightkeeper.settings import Settings

        try:
            settings = self._lk.settings if self._lk is not None else Settings.load(self.overrides)
        except SettingsError:  # its own messages are masked where they are made
            return text
        return settings.redact(text)


def _require_workspace(settings: Settings) -> None:
    """Raise :class:`WorkspaceNotFound` when the ops database is a SQLite file not there."""
    from lightkeeper.errors import WorkspaceNotFound
    from lightkeeper.store.db import normalise_url

    url = normalise_url(settings.database_url)
    if not url.drivername.startswith("sqlite") or not url.database:
        return  # a server database: it exists or says so itself
    path = Path(url.database)
    if path.exists():
        return
    source = settings.sources.get("home", "default")
    where = "the default ./.lightkeeper" if source == "default" else source
    raise WorkspaceNotFound(
        f"no lightkeeper workspace at {settings.home} (home from {where}): its ops "
        f"database {path} does not exist",
        hint="run this in the folder that holds the workspace (for the demo: cd "
        "lightkeeper-demo), or pass --home / set LIGHTKEEPER_HOME; lightkeeper demo or "
        "lightkeeper train PROJECT creates one",
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
    if isinstance(ctx.obj, State):  # made by main(), which prints errors with it
        ctx.obj.overrides.update(given)
        ctx.obj.verbose = verbose
    else:
        ctx.obj = State(given, verbose)
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
    """Entry point of the console scripts: user errors print a message, never a traceback
    (nor a password: a library's words quoted in a message are redacted)."""
    state = State({}, verbose=False)
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
