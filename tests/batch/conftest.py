"""Batch tests share one workspace built once through the real gate, copied per test.

Versions of the ``credit`` model (entity key ``customer_id``, chunks of 1,000 rows, a 20%
holdout): 1 and 2 are good (2 behaves like 1); 3 raises on a row with income 123.456.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "gate"))
sys.path.insert(0, str(Path(__file__).parents[1] / "serving"))
from batch_workspace import ANA, BATCH, OPS
from credit_workspace import BOOM_ON_VALUE
from gate_project import gold_frame, write_project

from lightkeeper import Lightkeeper, Settings
from lightkeeper.auth import Principal
from support import copy_home, sqlite_url


@pytest.fixture(scope="session")
def batch_workspace(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    """The workspace home described above (SQLite ops database inside it)."""
    root = tmp_path_factory.mktemp("batch-workspace")
    home = root / "home"
    home.mkdir()
    shutil.copy(mlflow_template, home / "mlflow.db")
    lk = Lightkeeper(_settings(home))
    append = BATCH.format(chunk_rows=1000)
    good = write_project(root, append=append)
    gold = gold_frame(600)
    gold["customer_id"] = range(len(gold))
    owner = Principal("bea", "owner")
    lk.gold_add(
        "credit-gold", gold, owner="risk", label_column="defaulted", project_dir=good, by=owner
    )
    lk.gold_approve("credit-gold", 1, by=owner)
    for project in (good, good, write_project(root, extra=BOOM_ON_VALUE, append=append)):
        number = lk.train(project, by=ANA).version
        lk.gate_run("credit", number, by=ANA)
        lk.gate_accept("credit", number, by=OPS)
    lk.close()
    return home


def _settings(home: Path) -> Settings:
    return Settings.load({"home": home, "database_url": sqlite_url(home)}, environ={})


@pytest.fixture
def home(batch_workspace: Path, tmp_path: Path) -> Path:
    """A private copy of the session's workspace."""
    return copy_home(batch_workspace, tmp_path)


@pytest.fixture
def database_url(home: Path) -> str:
    """The copy's SQLite ops database."""
    return sqlite_url(home)


@pytest.fixture
def lk(settings: Settings) -> Iterator[Lightkeeper]:
    """The application object of the copied workspace, with a released batch deployment."""
    app = Lightkeeper(settings)
    app.deployment_create("credit-nightly", model="credit", kind="batch", by=OPS)
    app.release("credit-nightly", 1, reason="first nightly", by=OPS)
    yield app
    app.close()
