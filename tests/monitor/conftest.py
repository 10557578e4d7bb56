"""Monitor tests share one workspace built once through the real gate, copied per test.

The ``credit`` model has versions 1 and 2 (alike, both accepted); the online deployment
``credit-online`` has version 1 released. Prediction logs are written per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lightkeeper import Lightkeeper
from lightkeeper.testing import build_workspace, copy_workspace, credit_project, workspace

MONITORING = """
monitoring:
  window: 1d
  every: 1h
"""


@pytest.fixture(scope="session")
def monitor_workspace(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    """The workspace home described above (SQLite ops database inside it)."""
    root = tmp_path_factory.mktemp("monitor-workspace")
    project = credit_project(root, append=MONITORING)
    return build_workspace(
        root / "home", [project, project], deployment="credit-online", mlflow_store=mlflow_template
    )


@pytest.fixture
def home(monitor_workspace: Path, tmp_path: Path) -> Path:
    """A private copy of the session's workspace."""
    return copy_workspace(monitor_workspace, tmp_path / "home")


@pytest.fixture
def lk(home: Path) -> Iterator[Lightkeeper]:
    """The application object of the copied workspace."""
    app = workspace(home)
    yield app
    app.close()
