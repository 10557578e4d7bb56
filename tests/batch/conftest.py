"""Batch tests share one workspace built once through the real gate, copied per test.

Versions of the ``credit`` model (entity key ``customer_id``, chunks of 1,000 rows, a 20%
holdout): 1 and 2 are good (2 behaves like 1); 3 raises on a row with income 123.456.
Each test's copy gets the batch deployment ``credit-nightly`` with version 1 released.

The ops database is the copy's SQLite file; tests of SQL sources and sinks run those on
SQLite and on PostgreSQL through their own ``warehouse`` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lightkeeper import Lightkeeper, Settings
from lightkeeper.testing import (
    OPERATOR,
    build_workspace,
    copy_workspace,
    credit_gold,
    credit_project,
)
from support import BATCH, BOOM_ON_VALUE


@pytest.fixture(scope="session")
def batch_workspace(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    """The workspace home described above (SQLite ops database inside it)."""
    root = tmp_path_factory.mktemp("batch-workspace")
    append = BATCH.format(chunk_rows=1000)
    good = credit_project(root, append=append)
    boom = credit_project(root, extra=BOOM_ON_VALUE, append=append)
    gold = credit_gold(600)
    gold["customer_id"] = range(len(gold))
    return build_workspace(
        root / "home", [good, good, boom], gold=gold, mlflow_store=mlflow_template
    )


@pytest.fixture
def home(batch_workspace: Path, tmp_path: Path) -> Path:
    """A private copy of the session's workspace."""
    return copy_workspace(batch_workspace, tmp_path / "home")


@pytest.fixture
def lk(settings: Settings) -> Iterator[Lightkeeper]:
    """The application object of the copied workspace, with a released batch deployment."""
    app = Lightkeeper(settings)
    app.releases.create("credit-nightly", model="credit", kind="batch", by=OPERATOR)
    app.releases.release("credit-nightly", 1, reason="first nightly", by=OPERATOR)
    yield app
    app.close()
