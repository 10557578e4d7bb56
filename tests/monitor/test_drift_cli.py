"""``lightkeeper drift REFERENCE CURRENT`` on files."""

from __future__ import annotations

import json
from pathlib import Path

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
