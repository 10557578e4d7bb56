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
    """One setting: its name, type, default and help text.

    ``secret`` marks a value that can hold a credential (a URL with a password, a token):
    it is masked wherever lightkeeper shows it (``lightkeeper settings``, errors).
    """

    name: str
    type: type
    default: Any
    help: str
    env: tuple[str, ...] = ()
    secret: bool = False

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
        secret=True,
    ),
    Setting(
        "tracking_uri",
        str,
        None,
        "MLflow tracking and registry URI of the model store. "
        "Default: MLflow sqlite store mlflow.db and folder artifacts/ inside the home.",
        env=("MLFLOW_TRACKING_URI",),
        secret=True,
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
        secret=True,
    ),
    Setting(
        "smtp_url",
        str,
        "smtp://127.0.0.1:25",
        "SMTP server for e-mail alarm sinks without their own url: smtp://[user@]host:port, "
        "or smtps:// for TLS. The password, if any, comes from the sink's secret_env.",
        secret=True,
    ),
    Setting("smtp_from", str, "lightkeeper@localhost", "Sender address of alarm e-mails."),
    Setting(
        "log_level", str, "INFO", "Log level of the CLI and servers: DEBUG, INFO, WARNING, ERROR."
    ),
    Setting(
        "logs_url",
        str,
        None,
        "Where the prediction logs are kept: a folder, or a URL of a filesystem pyarrow "
        "opens (s3://bucket/prefix, gs://..., hdfs://..., file://...). Default: logs/ "
        "inside the home.",
        secret=True,
    ),
    Setting(
        "serve_rollout",
        str,
        "auto",
        "Whether `lightkeeper serve` judges its deployment's canary: auto (only while no "
        "`lightkeeper up` control plane holds the rollout lease), on, or off.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}
#: The URL schemes of the filesystems pyarrow opens (a plain folder needs none).
LOGS_SCHEMES = ("file", "s3", "gs", "gcs", "hdfs", "viewfs", "abfs", "abfss", "mock")
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
        shown = mask(str(raw)) if setting.secret else raw
        raise SettingsError(
            f"setting {setting.name} from {source} is {shown!r}, which is not {kind}",
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
    logs_url: str | None
    serve_rollout: str
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
        mode = str(values["serve_rollout"]).lower()
        if mode not in {"auto", "on", "off"}:
            raise SettingsError(
                f"setting serve_rollout from {sources['serve_rollout']} is {mode!r}",
                hint="use auto, on or off",
            )
        values["serve_rollout"] = mode
        _check_smtp_url(values["smtp_url"], sources["smtp_url"])
        _check_logs_url(values["logs_url"], sources["logs_url"])
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

    @property
    def logs_location(self) -> str:
        """Where the prediction logs are (:mod:`lightkeeper.logstore`): ``logs_url``, or
        the folder logs/ inside the home."""
        return self.logs_url or str(self.home / "logs")

    def rows(self) -> list[dict[str, str]]:
        """Each setting with its value (secrets masked), source and help, for
        ``lightkeeper settings``."""
        return [
            {
                "name": s.name,
                "value": _shown(s, getattr(self, s.name)),
                "source": self.sources[s.name],
                "env": s.env_names[0],
                "help": s.help,
            }
            for s in SETTINGS
        ]

    def redact(self, text: str) -> str:
        """``text`` with the credentials in secret settings' values replaced by ``***``
        (for messages that quote what a library said, URLs included)."""
        for setting in SETTINGS:
            value = getattr(self, setting.name)
            if setting.secret and value:
                for needle, replacement in _credentials(str(value)):
                    text = text.replace(needle, replacement)
        return text


_SECRET_PARAMETER = re.compile(r"pass|secret|token|key|auth", re.IGNORECASE)
_SHORTEST_ALONE = 4  # a shorter credential is only replaced where it stands in its URL


def mask(value: str) -> str:
    """A secret setting's value fit to show: a URL with its password (and credential-like
    query parameters) as ``***``, a token as its first characters."""
    if "://" not in value:  # a token: its first characters; a broken URL: nothing
        token = len(value) > 12 and not any(c in value for c in ":@/")
        return value[:6] + "..." if token else "***"
    for needle, replacement in _credentials(value):
        value = value.replace(needle, replacement)
    return value


def _credentials(value: str) -> list[tuple[str, str]]:
    """What to replace, and by what, so that a secret setting's value is not shown:
    each credential in its URL form first, then on its own."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    if "://" not in value:
        return [(value, "***")] if len(value) >= _SHORTEST_ALONE else []
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:  # not even a URL: everything after the scheme
        return [(value.split("://", 1)[1], "***")]
    pairs: list[tuple[str, str]] = []
    secrets: list[str] = []
    if password:
        pairs.append((f":{password}@", ":***@"))
        secrets += {password, unquote(password)}  # libraries may quote it decoded
    for name, given in parse_qsl(parts.query):
        if given and _SECRET_PARAMETER.search(name):
            pairs.append((f"{name}={given}", f"{name}=***"))
            secrets.append(given)
    pairs += [(secret, "***") for secret in secrets if len(secret) >= _SHORTEST_ALONE]
    return pairs


def _shown(setting: Setting, value: Any) -> str:
    if setting.secret and value:
        return mask(str(value))
    return str(value)


def _check_logs_url(url: str | None, source: str) -> None:
    if url is None or "://" not in url:
        return
    scheme = url.split("://", 1)[0].lower()
    if scheme not in LOGS_SCHEMES:
        raise SettingsError(
            f"setting logs_url from {source} is {mask(url)!r}, not a filesystem the logs "
            "can be kept on",
            hint=f"use a folder, or a URL starting with one of: {', '.join(LOGS_SCHEMES)}",
        )


def _check_smtp_url(url: str, source: str) -> None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (reading it checks it)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise SettingsError(
            f"setting smtp_url from {source} is {mask(url)!r}, which is not an SMTP server URL",
            hint="use smtp://[user@]host[:port] or smtps://[user@]host[:port]",
        )


def _read_settings_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        # the problem and where, not the quoted line: it may hold a password
        problem = getattr(exc, "problem", None) or type(exc).__name__
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SettingsError(
            f"{path} is not valid YAML: {problem}{where}", hint="fix the file or delete it"
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
