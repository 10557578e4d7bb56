"""The CLI, driven in-process through its real entry point, and as a subprocess where it matters."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lightkeeper.cli import main


@pytest.fixture
def run(cli):
    """The shared in-process CLI runner."""
    return cli


def test_train_then_list_and_show(run, project: Path) -> None:
    code, out, err = run("train", str(project))
    assert code == 0, err
    assert "registered credit-risk version 1" in out

    code, out, _ = run("models", "list")
    assert code == 0 and "credit-risk" in out

    code, out, _ = run("models", "list", "--json")
    [model] = json.loads(out)["models"]
    assert (model["name"], model["latest_version"]) == ("credit-risk", 1)

    code, out, _ = run("models", "show", "credit-risk", "1", "--json")
    shown = json.loads(out)
    assert shown["lineage"]["data"]["rows"] == 8
    assert shown["registered_by"]

    code, out, _ = run("models", "show", "credit-risk")
    assert code == 0 and "versions" in out

    code, out, _ = run("models", "show", "credit-risk", "1")
    assert code == 0 and "data hash" in out and "sha256:" in out

    code, out, _ = run("audit", "--json", "--kind", "version")
    [entry] = json.loads(out)["entries"]
    assert entry["subject"] == "model:credit-risk/1"

    code, out, _ = run("audit", "--since", "1h")
    assert code == 0 and "version.registered" in out


@pytest.mark.parametrize(
    ("args", "code_name", "message"),
    [
        (("models", "show", "nope"), "LK-MODEL-NOT-FOUND", "no registered model named 'nope'"),
        (("train", "/nonexistent/project"), "LK-MANIFEST-INVALID", "/nonexistent/project"),
        (("audit", "--since", "last tuesday"), "LK-INVALID-INPUT", "--since 'last tuesday'"),
    ],
)
def test_user_errors_print_code_and_hint_without_traceback(
    run, args: tuple[str, ...], code_name: str, message: str
) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert f"error [{code_name}]" in err and message in err and "hint:" in err
    assert "Traceback" not in err + out


def test_a_failing_train_entrypoint_is_a_clear_error(run, tmp_path: Path) -> None:
    from support import make_project

    project = make_project(tmp_path, body="raise ValueError('labels missing')")
    code, out, err = run("train", str(project))
    assert code == 2
    assert "LK-TRAINING-FAILED" in err and "labels missing" in err
    assert "Traceback" not in err
    code, out, _ = run("models", "list", "--json")
    assert json.loads(out) == {"models": []}


def test_settings_show_value_and_source(run, home: Path) -> None:
    code, out, _ = run("settings", "--json")
    rows = {r["name"]: r for r in json.loads(out)["settings"]}
    assert rows["home"]["value"] == str(home) and rows["home"]["source"] == "override"
    assert rows["port"]["source"] == "default"
    code, out, _ = run("settings")
    assert code == 0 and "database_url" in out


def test_db_upgrade_reports_the_revision(run) -> None:
    from lightkeeper.store.db import head_revision

    head = head_revision()
    code, out, _ = run("db", "upgrade")
    assert code == 0 and head in out
    code, out, _ = run("db", "upgrade")
    assert f"up to date (revision {head})" in out


def test_unreachable_database_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, home: Path
) -> None:
    url = "postgresql://lk:hunter2@127.0.0.1:1/ops"
    monkeypatch.setattr(
        sys, "argv", ["lightkeeper", "--home", str(home), "--database-url", url, "audit"]
    )
    with pytest.raises(SystemExit) as exit_info:
        main()
    _, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert "LK-DATABASE-UNAVAILABLE" in err and "127.0.0.1:1/ops" in err
    assert "hunter2" not in err and "Traceback" not in err


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIGHTKEEPER_")}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_import_and_help_stay_cheap(tmp_path: Path) -> None:
    heavy = ("mlflow", "pandas", "sklearn", "sqlalchemy", "fastapi")
    check = (
        "import sys, lightkeeper\n"
        "from lightkeeper.cli import app\n"
        "sys.argv = ['lightkeeper', '--help']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        f"loaded = [m for m in {heavy!r} if m in sys.modules]\n"
        "print('LOADED', loaded)\n"
    )
    done = _python(check, tmp_path)
    assert "LOADED []" in done.stdout, done.stdout + done.stderr
    assert "Usage" in done.stdout


def test_console_scripts_and_module_entry_point(tmp_path: Path) -> None:
    for command in (
        ["lightkeeper", "--help"],
        ["lk", "--help"],
        [sys.executable, "-m", "lightkeeper", "--help"],
    ):
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert "models" in done.stdout


def test_models_register_by_uri(run, project: Path) -> None:
    code, out, err = run("train", str(project), "--json")
    assert code == 0, err
    source = json.loads(out)["source"]
    code, out, err = run("models", "register", "copy", source, "--reason", "shadow copy")
    assert code == 0, err
    assert "registered copy version 1 (sklearn)" in out
    code, out, err = run("models", "register", "copy", "runs:/nope/model")
    assert code == 2 and "LK-MODEL-LOAD-FAILED" in err and "Traceback" not in err


def test_ids_names_and_durations_out_of_range_are_clear_errors(run, project: Path) -> None:
    assert run("train", str(project))[0] == 0
    huge = str(2**64 + 1)
    for args in (
        ("alarms", "show", huge),
        ("monitor", "show", huge),
        ("tokens", "revoke", huge),
        ("gold", "approve", "credit-gold", huge),
    ):
        code, _, err = run(*args)
        assert code == 2 and "Input should be less than or equal to 2147483647" in err, err
        assert "Traceback" not in err and "internal error" not in err

    code, _, err = run("models", "show", "credit-risk", huge)
    assert code == 2 and f"[LK-INVALID-INPUT]: version {huge} is not a version number" in err

    code, _, err = run("deployments", "create", "-online", "--model", "credit-risk")
    assert code == 2, err
    code, _, err = run("deployments", "create", "crédit", "--model", "credit-risk")
    assert code == 2 and "deployment name 'crédit' is not a valid name" in err
    assert "ASCII letters, digits, '-' and '_'" in err

    code, _, err = run("audit", "--since", "99999999999d")
    assert code == 2 and "--since '99999999999d' is neither a duration nor a date" in err
