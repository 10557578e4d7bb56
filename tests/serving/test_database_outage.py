"""PostgreSQL stops while traffic flows: serving goes on, logging resumes when it returns.

The test runs its own PostgreSQL server (initdb in a temporary folder) so it can stop and
start it without disturbing the shared one.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from lightkeeper.testing import (
    build_workspace,
    credit_gold,
    credit_project,
    free_port,
    wait_for,
    workspace,
)
from support import Load, Served


class PrivatePostgres:
    """A throwaway PostgreSQL server on 127.0.0.1 that a test may stop and start."""

    def __init__(self, folder: Path) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            message = "PostgreSQL server binaries are not installed (apt install postgresql)"
            if os.environ.get("CI") == "true":
                pytest.fail(message + "; under CI=true a missing service is a failure")
            pytest.skip(message)
        self.bin = Path(found[-1]).parent
        self.folder = folder
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
        self._run("initdb", "-D", str(folder / "data"), "-A", "trust", "-U", "postgres")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self._as, str(self.bin / tool), *args], check=True, capture_output=True, timeout=60
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "server.log")
        self._run(
            "pg_ctl", "-D", str(self.folder / "data"), "-o", options, "-l", log, "-w", "start"
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    folder = Path(tempfile.mkdtemp(prefix="lk-pg-"))
    folder.chmod(0o755)
    server = PrivatePostgres(folder)
    server.start()
    try:
        yield server
    finally:
        with suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.postgres
def test_serving_goes_on_while_postgres_is_down(
    tmp_path: Path, mlflow_template: Path, serve: Served
) -> None:
    with private_postgres() as pg:
        project = credit_project(tmp_path)
        home = build_workspace(
            tmp_path / "home",
            [project],
            gold=credit_gold(300),
            deployment="credit-online",
            mlflow_store=mlflow_template,
            database_url=pg.url,
        )
        lk = workspace(home, database_url=pg.url)
        try:
            app = lk.serving_app("credit-online", heartbeat=0.2)
            writer = app.state.server.writer
            base = serve(app)
            with Load(base, clients=2) as load:
                wait_for(lambda: writer.written > 20)
                pg.stop()
                during = len(load.answers)
                wait_for(lambda: writer.failures > 0 and len(load.answers) > during + 50)
                assert writer.last_error is not None and writer.pending > 0
                pg.start()
                wait_for(lambda: writer.last_error is None, timeout=30)
            assert writer.flush(timeout=30)
            assert load.failures == []
            assert writer.dropped == 0
            assert lk.logs.count("credit-online") == len(load.answers)
            wait_for(lambda: lk.stores.signals.all()[0].alive(lk.clock.now()))
        finally:
            # The server's writer and heartbeat use the database until it has shut down:
            # stop it first, then close the database, then the private server stops.
            serve.stop()
            lk.close()
