"""Shared fixtures: temporary workspaces on SQLite and a real PostgreSQL server."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from lightkeeper import Lightkeeper, Settings
from lightkeeper.testing import empty_mlflow_store, sqlite_url
from support import Served, make_project

PG_ENV = "LIGHTKEEPER_TEST_POSTGRES_URL"


def _postgres_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        message = (
            f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/postgres)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; under CI=true a missing service is a failure")
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[sa.Engine]:
    """An engine on the PostgreSQL server's maintenance database."""
    from lightkeeper.store.db import normalise_url

    engine = sa.create_engine(normalise_url(_postgres_admin_url()), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {_postgres_admin_url()} is not reachable: {exc}")
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_admin: sa.Engine) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"lk_test_{uuid.uuid4().hex[:12]}"
    with postgres_admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = postgres_admin.url.set(database=name)
    yield url.render_as_string(hide_password=False)
    with postgres_admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the store contract suite (tests/store) and the tests marked
    ``both_databases`` (a few end-to-end paths) on SQLite and on PostgreSQL; every
    other workspace test runs on SQLite, which shares the code above the store."""
    if "database_url" not in metafunc.fixturenames:
        return
    in_store = metafunc.definition.path.parent.name == "store"
    if in_store or metafunc.definition.get_closest_marker("both_databases"):
        metafunc.parametrize(
            "database_url",
            ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
            indirect=True,
        )


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The ops database URL: SQLite inside the workspace home (where a workspace keeps it,
    and where a copied one has it), or PostgreSQL where the test runs on both."""
    if getattr(request, "param", "sqlite") == "sqlite":
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        return sqlite_url(home)
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated MLflow sqlite store; copying it saves each test MLflow's start-up."""
    return empty_mlflow_store(tmp_path_factory.mktemp("mlflow-template") / "mlflow.db")


@pytest.fixture
def home(tmp_path: Path, mlflow_template: Path) -> Path:
    """A workspace home with an empty MLflow store in place."""
    folder = tmp_path / "home"
    folder.mkdir(exist_ok=True)  # database_url may have made it for its SQLite file
    shutil.copy(mlflow_template, folder / "mlflow.db")
    return folder


@pytest.fixture
def settings(home: Path, database_url: str) -> Settings:
    """Settings of a temporary workspace, isolated from the caller's environment."""
    return Settings.load({"home": home, "database_url": database_url}, environ={})


@pytest.fixture
def lk(settings: Settings) -> Iterator[Lightkeeper]:
    """The application object of a temporary workspace."""
    app = Lightkeeper(settings)
    yield app
    app.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small trainable project."""
    return make_project(tmp_path / "projects")


@pytest.fixture
def serve() -> Iterator[Served]:
    """Serve ASGI apps with uvicorn on 127.0.0.1; ``serve(app)`` returns the base URL."""
    served = Served()
    yield served
    served.stop()


@pytest.fixture
def cli(
    home: Path,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., tuple[int, str, str]]:
    """Run ``lightkeeper ARGS`` in-process against the temporary workspace.

    Returns (exit code, stdout, stderr); ``token=`` sets LIGHTKEEPER_TOKEN for that call.
    """
    import sys

    from lightkeeper.cli import main
    from lightkeeper.store.db import Database

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("LIGHTKEEPER_TOKEN", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    db = Database(database_url)  # the workspace exists: read commands refuse a missing one
    db.upgrade()
    db.dispose()

    def invoke(*args: str, token: str | None = None) -> tuple[int, str, str]:
        if token:
            monkeypatch.setenv("LIGHTKEEPER_TOKEN", token)
        else:
            monkeypatch.delenv("LIGHTKEEPER_TOKEN", raising=False)
        argv = ["lightkeeper", "--home", str(home), "--database-url", database_url, *args]
        monkeypatch.setattr(sys, "argv", argv)
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke
