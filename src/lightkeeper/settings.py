"""One table of settings: defaults, the workspace settings file, env vars, CLI flags.

Each :class:`Setting` is declared once in :data:`SETTINGS`; that table drives the
``settings.yaml`` file in the workspace home, the ``LIGHTKEEPER_<NAME>`` environment
variables, the CLI flags and ``docs/settings.md`` (a test keeps the docs in step).
Later sources win: default < settings file < environment < explicit override.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lightkeeper.errors import SettingsError

SETTINGS_FILE = "settings.yaml"


@dataclass(frozen=True)
class Setting:
    """One setting: its name, type, default and help text."""

    name: str
    type: type
    default: Any
    help: str
    env: tuple[str, ...] = ()

    @property
    def env_names(self) -> tuple[str, ...]:
        """Environment variables read for this setting, the first one wins."""
        return (f"LIGHTKEEPER_{self.name.upper()}", *self.env)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "home",
        Path,
        Path(".lightkeeper"),
        "Workspace home: ops database, model store and artifacts live here by default.",
    ),
    Setting(
        "database_url",
        str,
        None,
        "Ops database as a SQLAlchemy URL (sqlite:///... or postgresql+psycopg://...). "
        "Default: SQLite file ops.db inside the home.",
    ),
    Setting(
        "tracking_uri",
        str,
        None,
        "MLflow tracking and registry URI of the model store. "
        "Default: MLflow sqlite store mlflow.db and folder artifacts/ inside the home.",
        env=("MLFLOW_TRACKING_URI",),
    ),
    Setting("host", str, "127.0.0.1", "Address the control-plane HTTP API listens on."),
    Setting("port", int, 8700, "Port the control-plane HTTP API listens on."),
    Setting(
        "auth",
        bool,
        False,
        "Require an API token (Authorization: Bearer) on the HTTP API. Off for the "
        "embedded single-user default, where the local user acts as admin.",
    ),
    Setting(
        "token",
        str,
        None,
        "API token the CLI acts with (its role is checked). Without one, and with auth "
        "off, the local user acts as admin.",
    ),
    Setting(
        "smtp_url",
        str,
        "smtp://127.0.0.1:25",
        "SMTP server for e-mail alarm sinks without their own url: smtp://[user@]host:port, "
        "or smtps:// for TLS. The password, if any, comes from the sink's secret_env.",
    ),
    Setting("smtp_from", str, "lightkeeper@localhost", "Sender address of alarm e-mails."),
    Setting(
        "log_level", str, "INFO", "Log level of the CLI and servers: DEBUG, INFO, WARNING, ERROR."
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(setting: Setting, raw: Any, source: str) -> Any:
    if raw is None:
        return None
    try:
        if setting.type is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(raw)
        if setting.type is int:
            if isinstance(raw, bool):
                raise ValueError(raw)
            return int(str(raw).strip())
        if setting.type is Path:
            return Path(str(raw)).expanduser()
        return str(raw)
    except ValueError:
        kind = {bool: "true or false", int: "a whole number"}.get(setting.type, "text")
        raise SettingsError(
            f"setting {setting.name} from {source} is {raw!r}, which is not {kind}",
            hint=f"set {setting.name} to {kind}",
        ) from None


@dataclass(frozen=True)
class Settings:
    """Resolved settings; ``sources`` says where each value came from."""

    home: Path
    database_url: str
    tracking_uri: str
    host: str
    port: int
    auth: bool
    token: str | None
    smtp_url: str
    smtp_from: str
    log_level: str
    sources: Mapping[str, str]

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Resolve every setting from defaults, the settings file, env vars and overrides.

        Args:
            overrides: explicit values (CLI flags, test fixtures); ``None`` values are ignored.
            environ: environment to read, ``os.environ`` by default.
        """
        env = os.environ if environ is None else environ
        given = {k: v for k, v in (overrides or {}).items() if v is not None}
        unknown = sorted(set(given) - set(_BY_NAME))
        if unknown:
            raise SettingsError(
                f"unknown setting(s): {', '.join(unknown)}",
                hint=f"known settings: {', '.join(_BY_NAME)}",
            )
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}

        def resolve(setting: Setting, file_values: Mapping[str, Any], file_label: str) -> None:
            value, source = setting.default, "default"
            if setting.name in file_values:
                value, source = file_values[setting.name], file_label
            for var in setting.env_names:
                if env.get(var):
                    value, source = env[var], f"env {var}"
                    break
            if setting.name in given:
                value, source = given[setting.name], "override"
            values[setting.name] = _coerce(setting, value, source)
            sources[setting.name] = source

        resolve(_BY_NAME["home"], {}, "")
        home = Path(values["home"]).absolute()
        values["home"] = home
        file_path = home / SETTINGS_FILE
        file_values = _read_settings_file(file_path)
        for setting in SETTINGS[1:]:
            resolve(setting, file_values, f"file {file_path}")
        if values["database_url"] is None:
            values["database_url"] = f"sqlite:///{home / 'ops.db'}"
        if values["tracking_uri"] is None:
            values["tracking_uri"] = f"sqlite:///{home / 'mlflow.db'}"
        level = str(values["log_level"]).upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise SettingsError(
                f"setting log_level from {sources['log_level']} is {level!r}",
                hint="use one of DEBUG, INFO, WARNING, ERROR",
            )
        values["log_level"] = level
        if not 0 < values["port"] < 65536:
            raise SettingsError(
                f"setting port from {sources['port']} is {values['port']}",
                hint="use a port between 1 and 65535",
            )
        return cls(sources=sources, **values)

    @property
    def artifact_root(self) -> Path:
        """Folder for artifacts of the embedded model store and workspace data."""
        return self.home / "artifacts"

    def rows(self) -> list[dict[str, str]]:
        """Each setting with its value, source and help, for ``lightkeeper settings``."""
        return [
            {
                "name": s.name,
                "value": _shown(s.name, getattr(self, s.name)),
                "source": self.sources[s.name],
                "env": s.env_names[0],
                "help": s.help,
            }
            for s in SETTINGS
        ]


def _shown(name: str, value: Any) -> str:
    if name == "token" and value:
        return str(value)[:6] + "..."
    if name in {"database_url", "tracking_uri"} and value:
        from lightkeeper.registry import mask_uri

        return mask_uri(str(value))
    return str(value)


def _read_settings_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(
            f"{path} is not valid YAML: {exc}", hint="fix the file or delete it"
        ) from None
    if not isinstance(data, dict):
        raise SettingsError(
            f"{path} must be a mapping of setting: value", hint="see docs/settings.md"
        )
    unknown = sorted(set(data) - set(_BY_NAME) - {"home"})
    if unknown or "home" in data:
        bad = ", ".join(unknown or ["home"])
        raise SettingsError(
            f"{path}: unknown or misplaced setting(s): {bad}",
            hint=f"the file may set: {', '.join(s.name for s in SETTINGS[1:])}",
        )
    return data


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str, *, what: str) -> str:
    """``${NAME}`` replaced by the environment variable (credentials stay out of manifests).

    Raises:
        SettingsError: a variable is not set.
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SettingsError(
                f"{what} uses ${{{name}}}, which is not set",
                hint=f"export {name}=... in the process that needs it",
            )
        return os.environ[name]

    return _VARIABLE.sub(value, text)
