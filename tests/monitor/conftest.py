"""Monitor tests share one workspace built once through the real gate, copied per test.

The ``credit`` model has versions 1 and 2 (alike, both accepted); the online deployment
``credit-online`` has version 1 released. Prediction logs are written per test.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "gate"))
from gate_project import gold_frame, write_project
from monitor_workspace import ANA, MONITORING, OPS

from lightkeeper import Lightkeeper, Settings
from lightkeeper.auth import Principal
from support import copy_home, sqlite_url


@pytest.fixture(scope="session")
def monitor_workspace(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    """The workspace home described above (SQLite ops database inside it)."""
    root = tmp_path_factory.mktemp("monitor-workspace")
    home = root / "home"
    home.mkdir()
    shutil.copy(mlflow_template, home / "mlflow.db")
    lk = Lightkeeper(_settings(home))
    project = write_project(root, append=MONITORING)
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
    for _ in range(2):
        number = lk.train(project, by=ANA).version
        lk.gate_run("credit", number, by=ANA)
        lk.gate_accept("credit", number, by=OPS)
    lk.deployment_create("credit-online", model="credit", kind="online", by=OPS)
    lk.release("credit-online", 1, reason="first", by=OPS)
    lk.close()
    return home


def _settings(home: Path) -> Settings:
    return Settings.load({"home": home, "database_url": sqlite_url(home)}, environ={})


@pytest.fixture
def home(monitor_workspace: Path, tmp_path: Path) -> Path:
    """A private copy of the session's workspace."""
    return copy_home(monitor_workspace, tmp_path)


@pytest.fixture
def database_url(home: Path) -> str:
    """The copy's SQLite ops database."""
    return sqlite_url(home)


@pytest.fixture
def lk(home: Path) -> Iterator[Lightkeeper]:
    """The application object of the copied workspace."""
    app = Lightkeeper(_settings(home))
    yield app
    app.close()
