"""Alerts tests share one workspace built once through the real gate, copied per test;
each test gets its own recording HTTP server and SMTP server on 127.0.0.1."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "gate"))
sys.path.insert(0, str(Path(__file__).parents[1] / "monitor"))
from alerts_workspace import ALERTS, ANA, HOOK_SECRET, OPS
from gate_project import gold_frame, write_project

from lightkeeper import Lightkeeper, Settings
from lightkeeper.auth import Principal
from support import Inbox, Recorder, copy_home, sqlite_url


@pytest.fixture(scope="session")
def alerts_workspace(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    """Version 1 of ``credit`` released to the online deployment ``credit-online``."""
    root = tmp_path_factory.mktemp("alerts-workspace")
    home = root / "home"
    home.mkdir()
    shutil.copy(mlflow_template, home / "mlflow.db")
    lk = Lightkeeper(_settings(home))
    project = write_project(root, drop=("runbook", "alarms"), append=ALERTS)
    owner = Principal("bea", "owner")
    lk.gold_add(
        "credit-gold",
        gold_frame(600),
        owner="risk",
        label_column="defaulted",
        project_dir=project,
        by=owner,
    )
    lk.gold_approve("credit-gold", 1, by=owner)
    number = lk.train(project, by=ANA).version
    lk.gate_run("credit", number, by=ANA)
    lk.gate_accept("credit", number, by=OPS)
    lk.deployment_create("credit-online", model="credit", kind="online", by=OPS)
    lk.release("credit-online", number, reason="first", by=OPS)
    lk.close()
    return home


def _settings(home: Path) -> Settings:
    return Settings.load({"home": home, "database_url": sqlite_url(home)}, environ={})


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    """The webhook, chat and ticket systems."""
    with Recorder() as recorder:
        monkeypatch.setenv("LK_TEST_HOOKS", recorder.url)
        monkeypatch.setenv("LK_TEST_HOOK_SECRET", HOOK_SECRET)
        yield recorder


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """The mail server."""
    with Inbox() as server:
        monkeypatch.setenv("LK_TEST_SMTP", server.url)
        yield server


@pytest.fixture
def home(alerts_workspace: Path, tmp_path: Path) -> Path:
    """A private copy of the session's workspace."""
    return copy_home(alerts_workspace, tmp_path)


@pytest.fixture
def database_url(home: Path) -> str:
    """The copy's SQLite ops database."""
    return sqlite_url(home)


@pytest.fixture
def lk(home: Path, hooks: Recorder, inbox: Inbox) -> Iterator[Lightkeeper]:
    """The application object of the copied workspace, its sinks listening."""
    app = Lightkeeper(_settings(home))
    yield app
    app.close()
