"""kill -9 in the middle of a run, then a rerun: every row exactly once, chunks taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from lightkeeper import Lightkeeper
from lightkeeper.manifest import BatchInput, BatchOutput
from lightkeeper.testing import OPERATOR
from support import customers


def test_a_killed_run_is_taken_over_and_every_row_lands_once(
    lk: Lightkeeper, tmp_path: Path, cli
) -> None:
    n = 150_000
    customers(n).to_parquet(tmp_path / "in.parquet", row_group_size=10_000)
    out = tmp_path / "scores"
    env = {
        **os.environ,
        "LIGHTKEEPER_HOME": str(lk.settings.home),
        "LIGHTKEEPER_DATABASE_URL": lk.settings.database_url,
    }
    command = [sys.executable, "-m", "lightkeeper", "batch", "run", "credit-nightly"]
    arguments = ["--input", str(tmp_path / "in.parquet"), "--output", str(out)]
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [*command, *arguments, "--partition", "2026-11-27"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    staged = out / "_lk_staging"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if len(list(staged.glob("*/out/part-*.parquet"))) >= 3:
            break
        time.sleep(0.01)
    assert process.poll() is None, log.read_text()
    process.send_signal(signal.SIGKILL)
    process.wait()
    taken = len(list(staged.glob("*/out/part-*.parquet")))
    assert 3 <= taken < n // 1000
    [killed] = lk.batch.runs("credit-nightly")
    assert killed.status == "running"  # nobody closed it: the process died

    done = lk.batch.run(
        "credit-nightly",
        input=BatchInput(path=str(tmp_path / "in.parquet")),
        output=BatchOutput(path=str(out)),
        partition="2026-11-27",
        by=OPERATOR,
    )
    assert done.resumed_chunks == taken and (done.rows_in, done.rows_out) == (n, n)
    assert done.versions == {"1": n} and done.summary["rows"] == n
    scores = pd.read_parquet(out)
    assert len(scores) == n and scores["customer_id"].is_unique
    assert set(scores["run_id"]) <= {killed.id, done.id} and done.id in set(scores["run_id"])
    closed = lk.stores.batch_runs.get(killed.id)
    assert closed.status == "failed" and "interrupted" in (closed.error or "")
    code, text, _ = cli("batch", "runs", "credit-nightly")
    assert code == 0 and "succeeded" in text and "interrupted" in text
