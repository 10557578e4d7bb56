"""``lightkeeper batch run`` and ``batch runs`` from the command line, and the API twin."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from lightkeeper import Lightkeeper
from lightkeeper.web.api import build_api
from support import customers


def test_run_prints_a_summary_and_runs_lists_it(
    lk: Lightkeeper, cli, serve, tmp_path: Path
) -> None:
    customers(1500).to_parquet(tmp_path / "in.parquet")
    out = tmp_path / "scores"
    args = ["--input", str(tmp_path / "in.parquet"), "--output", str(out)]
    code, text, err = cli("batch", "run", "credit-nightly", *args, "--partition", "2026-11-27")
    assert code == 0, err
    assert "published credit-nightly partition 2026-11-27 (run 1): 1,500 rows out" in text
    assert "versions v1: 1,500" in text
    code, text, _ = cli("batch", "run", "credit-nightly", *args, "--partition", "p2", "--json")
    assert code == 0 and json.loads(text)["rows_out"] == 1500
    code, text, _ = cli("batch", "runs", "credit-nightly", "--json")
    runs = json.loads(text)["runs"]
    assert [(r["id"], r["partition"], r["status"]) for r in runs] == [
        (2, "p2", "succeeded"),
        (1, "2026-11-27", "succeeded"),
    ]
    code, text, _ = cli("batch", "runs", "credit-nightly")
    assert code == 0 and "2026-11-27" in text and "v1: 1,500" in text
    base = serve(build_api(lk))
    url = f"{base}/api/v1/deployments/credit-nightly/batch-runs?partition=p2"
    answer = httpx.get(url, timeout=30).json()
    assert [r["id"] for r in answer["runs"]] == [2] and answer["runs"][0]["summary"]["rows"] == 1500


def test_bad_command_lines_say_what_to_do(lk: Lightkeeper, cli, tmp_path: Path) -> None:
    code, _, err = cli("batch", "run", "credit-nightly", "--output", str(tmp_path / "s"))
    assert code == 2 and "no input for credit-nightly" in err and "--input" in err
    code, _, err = cli(
        "batch", "run", "credit-nightly", "--input", "x.parquet", "--query", "SELECT 1"
    )
    assert code == 2 and "--query and --table read from a database URL" in err
    code, _, err = cli(
        "batch", "run", "credit-nightly", "--input", f"sqlite:///{tmp_path / 'w.db'}"
    )
    assert code == 2 and "exactly one of --query and --table" in err
    code, _, err = cli("batch", "runs", "nope")
    assert code == 2 and "nope" in err
