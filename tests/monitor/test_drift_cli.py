"""``lightkeeper drift REFERENCE CURRENT`` on files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lightkeeper.monitor.drift import drift_from_data
from support import drift_sample


def test_drift_between_two_files_names_the_moved_columns(cli, tmp_path: Path) -> None:
    drift_sample(3000, 1).to_parquet(tmp_path / "ref.parquet")
    drift_sample(3000, 8, shift=0.8, mix=0.25).to_csv(tmp_path / "cur.csv", index=False)
    drift_sample(3000, 9).to_csv(tmp_path / "same.csv", index=False)
    ref, cur = str(tmp_path / "ref.parquet"), str(tmp_path / "cur.csv")
    code, text, _ = cli("drift", ref, cur, "--json")
    report = json.loads(text)
    assert code == 1 and report["drifted"] == ["score", "color"]
    code, text, _ = cli("drift", ref, cur)
    assert code == 1 and "2 of 3 columns drifted" in text and "DRIFT" in text
    code, text, _ = cli("drift", ref, str(tmp_path / "same.csv"))
    assert code == 0 and "0 of 3 columns drifted" in text
    code, _, err = cli("drift", ref, str(tmp_path / "missing.csv"))
    assert code == 2 and "no file at" in err


def test_only_the_common_columns_are_read_and_compared(cli, tmp_path: Path) -> None:
    reference = drift_sample(4000, 1).assign(only_ref=np.arange(4000.0))
    current = drift_sample(5000, 8, shift=0.8, mix=0.25).assign(only_cur="x")
    # A stored pandas index is the index, not a column: it is not compared.
    reference.set_index(pd.Index(np.arange(4000) * 3, name="id")).to_parquet(tmp_path / "r.parquet")
    current.set_index(pd.Index(np.arange(5000) * 7, name="id")).to_parquet(tmp_path / "c.parquet")
    code, text, _ = cli("drift", str(tmp_path / "r.parquet"), str(tmp_path / "c.parquet"), "--json")
    assert code == 1
    common = ["amount", "score", "color"]
    expected = drift_from_data(reference[common], current[common]).to_dict()
    assert json.loads(text) == json.loads(json.dumps(expected))
    current.to_csv(tmp_path / "c.csv", index=False)  # a Parquet file against a CSV file
    code, text, _ = cli("drift", str(tmp_path / "r.parquet"), str(tmp_path / "c.csv"), "--json")
    assert code == 1 and [f["feature"] for f in json.loads(text)["features"]] == common


def test_bad_input_is_a_clear_error(cli, tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    drift_sample(500, 1).to_parquet(good)
    pd.DataFrame({"other": [1, 2, 3]}).to_csv(tmp_path / "other.csv", index=False)
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 this is not a parquet file")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "data.json").write_text("{}")
    cases = {
        "other.csv": "the two data sets have no column in common",
        "broken.parquet": "cannot read",
        "empty.csv": "cannot read",
        "data.json": "is neither .csv nor .parquet",
        "missing.parquet": "no file at",
    }
    for name, message in cases.items():
        code, out, err = cli("drift", str(good), str(tmp_path / name))
        assert code == 2 and message in err and "Traceback" not in err, name
        assert out == "", name
    code, _, err = cli("drift", str(tmp_path / "broken.parquet"), str(good))
    assert code == 2 and "cannot read" in err and "broken.parquet" in err
    code, _, err = cli("drift", str(good), str(good), "--categorical", "nope")
    assert code == 2 and "nope are not in both data sets" in err


@pytest.mark.parametrize("window", [800, 30_000])
def test_the_command_imports_no_mlflow(tmp_path: Path, window: int) -> None:
    # A fresh process, as a user runs it: the heavy model store is never imported.
    drift_sample(40_000, 1).to_parquet(tmp_path / "ref.parquet")
    drift_sample(window, 2).to_parquet(tmp_path / "cur.parquet")
    files = [str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet")]
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lightkeeper", "drift", *files, "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["drifted"] == []
    modules = {
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "lightkeeper.monitor.drift" in modules  # the listing is what it seems
    assert not {m for m in modules if m.split(".")[0] in ("mlflow", "sklearn", "sqlalchemy")}
