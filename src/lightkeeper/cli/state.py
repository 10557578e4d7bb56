"""What the global options set, and the one typed way commands reach it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from lightkeeper.app import Lightkeeper
    from lightkeeper.settings import Settings


@dataclass
class CliState:
    """The global options (settings overrides, verbosity); the app object is built on first
    use, so ``--help`` and commands that need no workspace stay cheap."""

    overrides: dict[str, object] = field(default_factory=dict)
    verbose: bool = False
    _lk: Lightkeeper | None = field(default=None, init=False, repr=False)

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


def state(ctx: typer.Context) -> CliState:
    """The state the root callback keeps on the context, for a command to use."""
    found = ctx.find_object(CliState)
    if found is None:  # only a command called outside ``lightkeeper.cli.app`` gets here
        raise RuntimeError("no CliState on the context: invoke commands through the CLI app")
    return found


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
