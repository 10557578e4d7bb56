"""Deploy tests start from a workspace whose ``credit`` model has versions 1, 2 and 3,
each through the real gate and accepted by an operator, and no deployment yet.

On SQLite each test gets a private copy of one workspace built per session. On
PostgreSQL (tests marked ``both_databases``) an ops database cannot be copied, so the
same workspace is built afresh for the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lightkeeper.testing import build_workspace, copy_workspace, credit_project

VERSIONS = 3


@pytest.fixture(scope="session")
def deploy_workspace(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    """The workspace home described above (SQLite ops database inside it)."""
    root = tmp_path_factory.mktemp("deploy-workspace")
    project = credit_project(root)
    return build_workspace(root / "home", [project] * VERSIONS, mlflow_store=mlflow_template)


@pytest.fixture
def home(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path, mlflow_template: Path
) -> Path:
    """This test's workspace: a copy of the session's, or built afresh on PostgreSQL."""
    if database_url.startswith("sqlite"):
        return copy_workspace(request.getfixturevalue("deploy_workspace"), tmp_path / "home")
    project = credit_project(tmp_path / "project")
    return build_workspace(
        tmp_path / "home",
        [project] * VERSIONS,
        mlflow_store=mlflow_template,
        database_url=database_url,
    )


@pytest.fixture
def versions() -> list[int]:
    """The accepted versions of ``credit`` in the workspace, oldest first."""
    return list(range(1, VERSIONS + 1))
