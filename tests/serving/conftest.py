"""Serving tests share one workspace built once through the real gate, copied per test.

Versions of the ``credit`` model in it (all released-eligible: accepted or overridden):
1 and 2 are good and identical in behaviour; 3 raises when a row has income 123.456 (not
in the gold data, so it passed the gate); 4 raises on every request of under 40 rows (its
gate run failed; an admin overrode it), so its warm-up fails.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "gate"))
from credit_workspace import ADMIN, ANA, BOOM_ALWAYS, BOOM_ON_VALUE, OPS, ROLLOUT
from gate_project import gold_frame, write_project

from lightkeeper import Lightkeeper, Settings
from lightkeeper.auth import Principal
from support import copy_home, sqlite_url


@pytest.fixture(scope="session")
def credit_workspace(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    """The workspace home described above (SQLite ops database inside it)."""
    root = tmp_path_factory.mktemp("credit-workspace")
    home = root / "home"
    home.mkdir()
    shutil.copy(mlflow_template, home / "mlflow.db")
    lk = Lightkeeper(_settings(home))
    good = write_project(root, append=ROLLOUT)
    lk.gold_add(
        "credit-gold",
        gold_frame(600),
        owner="risk",
        label_column="defaulted",
        segment_column="region",
        project_dir=good,
        by=Principal("bea", "owner"),
    )
    lk.gold_approve("credit-gold", 1, by=Principal("bea", "owner"))
    for project in (good, good, write_project(root, extra=BOOM_ON_VALUE, append=ROLLOUT)):
        number = lk.train(project, by=ANA).version
        lk.gate_run("credit", number, by=ANA)
        lk.gate_accept("credit", number, by=OPS)
    broken = lk.train(write_project(root, extra=BOOM_ALWAYS, append=ROLLOUT), by=ANA).version
    lk.gate_run("credit", broken, by=ANA)
    lk.gate_accept("credit", broken, override=True, reason="test: warm-up must fail", by=ADMIN)
    lk.close()
    return home


def _settings(home: Path) -> Settings:
    return Settings.load({"home": home, "database_url": sqlite_url(home)}, environ={})


@pytest.fixture
def home(credit_workspace: Path, tmp_path: Path) -> Path:
    """A private copy of the session's workspace."""
    return copy_home(credit_workspace, tmp_path)


@pytest.fixture
def database_url(home: Path) -> str:
    """The copy's SQLite ops database."""
    return sqlite_url(home)


@pytest.fixture
def lk(settings: Settings) -> Iterator[Lightkeeper]:
    """The application object of the copied workspace, with an online deployment."""
    app = Lightkeeper(settings)
    app.deployment_create("credit-online", model="credit", kind="online", by=OPS)
    yield app
    app.close()
