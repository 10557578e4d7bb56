"""Serving tests share one workspace built once through the real gate, copied per test.

Versions of the ``credit`` model in it (all released-eligible: accepted or overridden):
1 and 2 are good and identical in behaviour; 3 raises when a row has income 123.456 (not
in the gold data, so it passed the gate); 4 raises on every request of under 40 rows (its
gate run failed; an admin overrode it), so its warm-up fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lightkeeper import Lightkeeper, Settings
from lightkeeper.testing import OPERATOR, build_workspace, copy_workspace, credit_project
from support import BOOM_ON_VALUE

ROLLOUT = """
rollout:
  observe_seconds: 3
  min_requests: 40
  max_error_rate: 0.05
  max_divergence: 0.3
"""
BOOM_ALWAYS = "steps.insert(0, FunctionTransformer(lambda X: X if len(X) >= 40 else 1 / 0))"


@pytest.fixture(scope="session")
def credit_workspace(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    """The workspace home described above (SQLite ops database inside it)."""
    root = tmp_path_factory.mktemp("credit-workspace")
    good = credit_project(root, append=ROLLOUT)
    boom = credit_project(root, extra=BOOM_ON_VALUE, append=ROLLOUT)
    broken = credit_project(root, extra=BOOM_ALWAYS, append=ROLLOUT)
    return build_workspace(
        root / "home", [good, good, boom, broken], overridden={4}, mlflow_store=mlflow_template
    )


@pytest.fixture
def home(credit_workspace: Path, tmp_path: Path) -> Path:
    """A private copy of the session's workspace."""
    return copy_workspace(credit_workspace, tmp_path / "home")


@pytest.fixture
def lk(settings: Settings) -> Iterator[Lightkeeper]:
    """The application object of the copied workspace, with an online deployment."""
    app = Lightkeeper(settings)
    app.releases.create("credit-online", model="credit", kind="online", by=OPERATOR)
    yield app
    app.close()
