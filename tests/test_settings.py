import json
import re
import sys
from pathlib import Path

import pytest

from lightkeeper import Lightkeeper
from lightkeeper.errors import SettingsError
from lightkeeper.settings import SETTINGS, Settings, mask


def test_defaults_live_inside_the_home(tmp_path: Path) -> None:
    settings = Settings.load({"home": tmp_path}, environ={})
    assert settings.database_url == f"sqlite:///{tmp_path / 'ops.db'}"
    assert settings.tracking_uri == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert (settings.host, settings.port, settings.auth) == ("127.0.0.1", 8700, False)
    assert settings.sources["port"] == "default"
    assert settings.sources["home"] == "override"


def test_home_defaults_to_dot_lightkeeper_in_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings.load(environ={}).home == tmp_path / ".lightkeeper"


def test_file_then_env_then_override_win_in_that_order(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text("port: 9000\nhost: 0.0.0.0\nauth: true\n")
    env = {"LIGHTKEEPER_PORT": "9100", "LIGHTKEEPER_HOME": str(tmp_path)}
    settings = Settings.load({"host": "127.0.0.2"}, environ=env)
    assert settings.port == 9100 and settings.sources["port"] == "env LIGHTKEEPER_PORT"
    assert settings.host == "127.0.0.2" and settings.sources["host"] == "override"
    assert settings.auth is True and settings.sources["auth"].startswith("file ")
    assert settings.sources["home"] == "env LIGHTKEEPER_HOME"


def test_mlflow_tracking_uri_is_honoured(tmp_path: Path) -> None:
    settings = Settings.load(
        {"home": tmp_path}, environ={"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"}
    )
    assert settings.tracking_uri == "http://127.0.0.1:5000"
    assert settings.sources["tracking_uri"] == "env MLFLOW_TRACKING_URI"


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"LIGHTKEEPER_PORT": "eighty"}, "port from env LIGHTKEEPER_PORT is 'eighty'"),
        ({"LIGHTKEEPER_PORT": "70000"}, "port .* is 70000"),
        ({"LIGHTKEEPER_AUTH": "maybe"}, "auth .* not true or false"),
        ({"LIGHTKEEPER_LOG_LEVEL": "LOUD"}, "log_level .* 'LOUD'"),
    ],
)
def test_bad_values_name_the_setting_and_the_source(
    tmp_path: Path, env: dict[str, str], match: str
) -> None:
    with pytest.raises(SettingsError, match=match):
        Settings.load({"home": tmp_path}, environ=env)


def test_unknown_key_in_the_settings_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text("prot: 9000\n")
    with pytest.raises(SettingsError, match=r"unknown or misplaced setting.*prot"):
        Settings.load({"home": tmp_path}, environ={})


def test_broken_settings_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text("port: [9000\n")
    with pytest.raises(SettingsError, match="not valid YAML"):
        Settings.load({"home": tmp_path}, environ={})


def test_unknown_override_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"unknown setting.*colour"):
        Settings.load({"home": tmp_path, "colour": "blue"}, environ={})


def test_docs_list_every_setting() -> None:
    docs = (Path(__file__).parents[1] / "docs" / "settings.md").read_text()
    for setting in SETTINGS:
        assert f"`{setting.name}`" in docs, f"docs/settings.md lacks {setting.name}"
        for env in setting.env_names:
            assert f"`{env}`" in docs, f"docs/settings.md lacks {env}"
        assert setting.help in docs.replace("\n", " "), f"help of {setting.name} differs"


# A setting whose name says it holds a URL, a token, a password or a key can carry a
# credential, so it must be flagged secret (and is then masked everywhere).
CAN_HOLD_A_CREDENTIAL = re.compile(r"(_url|_uri|token|password|secret|key)$")
PASSWORD = "Pw-7f3c9a1e"
# per secret setting: a value carrying PASSWORD that loads, and one that fails a command
# with an error quoting the value (or a library's words about it)
SECRETS: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "database_url": (
        f"postgresql://lk:{PASSWORD}@127.0.0.1:1/ops",
        f"postgresql://lk:{PASSWORD}@127.0.0.1:1/ops",
        ("audit",),
        "LK-DATABASE-UNAVAILABLE",
    ),
    "tracking_uri": (
        f"http://lk:{PASSWORD}@127.0.0.1:1",
        f"http://lk:{PASSWORD}@127.0.0.1:1",
        ("models", "list"),
        "LK-MODEL-STORE-UNAVAILABLE",
    ),
    "smtp_url": (
        f"smtps://alarms:{PASSWORD}@mail.example:465",
        f"smtp://alarms:{PASSWORD}@mail.example:notaport",
        ("settings",),
        "LK-SETTINGS-INVALID",
    ),
    "token": (f"lk_{PASSWORD}", f"lk_{PASSWORD}", ("tokens", "list"), "LK-UNAUTHENTICATED"),
    "logs_url": (
        f"s3://reader:{PASSWORD}@bucket/logs",
        f"nosuch://reader:{PASSWORD}@bucket/logs",
        ("settings",),
        "LK-SETTINGS-INVALID",
    ),
}


def test_every_setting_that_can_hold_a_credential_is_flagged_secret() -> None:
    can_hold = {s.name for s in SETTINGS if CAN_HOLD_A_CREDENTIAL.search(s.name)}
    flagged = {s.name for s in SETTINGS if s.secret}
    assert can_hold == flagged
    assert set(SECRETS) == flagged, "each secret setting needs its case in SECRETS"


def _lightkeeper(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], home: Path, *args: str
) -> tuple[int, str]:
    from lightkeeper.cli import main

    monkeypatch.setattr(sys, "argv", ["lightkeeper", "--home", str(home), *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_a_secret_setting_is_masked_in_settings_and_in_errors(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good, bad, command, code = SECRETS[name]
    setting = next(s for s in SETTINGS if s.name == name)
    for variable in (v for s in SETTINGS for v in s.env_names):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("COLUMNS", "300")
    workspace = Lightkeeper(Settings.load({"home": tmp_path}, environ={}))
    workspace.health()  # the ops database is there: commands run up to the secret's use
    workspace.close()
    monkeypatch.setenv(setting.env_names[0], good)

    status, table = _lightkeeper(monkeypatch, capsys, tmp_path, "settings")
    assert status == 0 and PASSWORD not in table
    status, out = _lightkeeper(monkeypatch, capsys, tmp_path, "settings", "--json")
    [row] = [r for r in json.loads(out)["settings"] if r["name"] == name]
    assert status == 0 and PASSWORD not in out
    assert row["value"] == mask(good) and row["source"] == f"env {setting.env_names[0]}"
    assert "***" in row["value"] or row["value"].endswith("...")

    monkeypatch.setenv(setting.env_names[0], bad)
    status, said = _lightkeeper(monkeypatch, capsys, tmp_path, *command)
    assert status == 2 and f"[{code}]" in said, said
    assert PASSWORD not in said


def test_a_database_url_that_does_not_parse_is_shown_masked() -> None:
    from lightkeeper.store.db import normalise_url

    with pytest.raises(SettingsError, match=r"database_url 'postgresql://lk:\*\*\*@h:x/o' is not"):
        normalise_url(f"postgresql://lk:{PASSWORD}@h:x/o")
    with pytest.raises(SettingsError, match=r"database_url '\*\*\*' is not a database URL"):
        normalise_url(f"lk:{PASSWORD}@h/o")


def test_redact_removes_the_credentials_a_library_quotes(tmp_path: Path) -> None:
    settings = Settings.load(
        {
            "home": tmp_path,
            "database_url": "postgresql://lk:p%40ss-word@db/ops?sslpassword=keyphrase",
            "tracking_uri": "https://me:ab@mlflow.internal",
        },
        environ={},
    )
    said = (
        "could not connect to postgresql://lk:p%40ss-word@db/ops (password p@ss-word, "
        "sslpassword=keyphrase); GET https://me:ab@mlflow.internal/api failed: about"
    )
    assert settings.redact(said) == (
        "could not connect to postgresql://lk:***@db/ops (password ***, sslpassword=***); "
        "GET https://me:***@mlflow.internal/api failed: about"  # "ab" alone is left be
    )
