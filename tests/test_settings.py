from pathlib import Path

import pytest

from lightkeeper.errors import SettingsError
from lightkeeper.settings import SETTINGS, Settings


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


def test_passwords_never_show_in_settings(tmp_path: Path) -> None:
    settings = Settings.load(
        {
            "home": tmp_path,
            "database_url": "postgresql://lk:dbsecret@db/ops",
            "tracking_uri": "https://me:mlsecret@mlflow.internal",
            "token": "lk_supersecrettoken",
        },
        environ={},
    )
    shown = str(settings.rows())
    assert "dbsecret" not in shown and "mlsecret" not in shown and "supersecret" not in shown
