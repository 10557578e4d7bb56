"""The Parquet sink on its own: one schema per run, torn files, the stage's identity."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lightkeeper.batch.sinks import ParquetSink

META = {"release_id": 1, "input": "in", "fingerprint": {"rows": 4}}


def chunk(flags: list[str | None], start: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"id": [start, start + 1], "prediction": [0, 1], "flags": flags, "partition": "p"}
    )


def test_chunks_share_the_first_schema_with_all_null_columns_as_text(tmp_path: Path) -> None:
    sink = ParquetSink(tmp_path, stage="s")
    assert sink.begin(META) == {}
    empty = pd.DataFrame({"id": pd.Series([], dtype="int64"), "reason": pd.Series([], dtype=str)})
    sink.write(0, chunk([None, None], 0), empty)
    sink.write(1, chunk(["age: high", None], 2), empty)
    sink.publish("p")
    out = pd.read_parquet(tmp_path).sort_values("id")
    assert out["flags"].isna().tolist() == [True, True, False, True]
    assert out["flags"].iloc[2] == "age: high"
    assert not (tmp_path / "_lk_staging").exists()


def test_a_torn_chunk_is_not_staged_and_other_metadata_starts_over(tmp_path: Path) -> None:
    sink = ParquetSink(tmp_path, stage="s")
    sink.begin(META)
    empty = pd.DataFrame({"id": pd.Series([], dtype="int64")})
    sink.write(0, chunk([None, None], 0), empty)
    sink.write(1, chunk([None, None], 2), empty)
    (tmp_path / "_lk_staging" / "s" / "out" / "part-000001.parquet").write_bytes(b"")  # torn
    assert ParquetSink(tmp_path, stage="s").begin(META) == {0: (2, 0)}
    assert ParquetSink(tmp_path, stage="s").begin({**META, "release_id": 2}) == {}
    assert not list((tmp_path / "_lk_staging" / "s").glob("out/*"))
