"""Batch outputs: staged chunk by chunk, published in one step, replacing the partition.

Every chunk is staged atomically (one transaction, or a file renamed into place), so
after a crash the staged chunks are exactly the complete ones. Publishing replaces the
partition's rows (SQL: delete + insert + drop the staging tables in one transaction;
Parquet: the staged folder renamed into ``partition=<p>``), so readers see the old
partition or the new one, never a mix, and a rerun replaces instead of duplicating.
Rejected rows are staged and published the same way, beside the output.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa

from lightkeeper.batch import sql
from lightkeeper.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

    from lightkeeper.manifest import BatchOutput

CHUNK = "_lk_chunk"


class Sink(Protocol):
    """Where scored chunks go."""

    description: str

    def staged(self) -> dict[int, tuple[int, int]]:
        """Complete staged chunks: index -> (output rows, rejected rows)."""
        ...

    def read_staged(self, columns: list[str]) -> Iterator[pd.DataFrame]:
        """Staged output rows (some columns), for the summary of a taken-over run."""
        ...

    def write(self, chunk: int, output: pd.DataFrame, rejects: pd.DataFrame) -> None:
        """Stage one chunk, all or nothing."""
        ...

    def publish(self, partition: str) -> None:
        """Replace the partition with everything staged, in one step; clears the stage."""
        ...

    def discard(self) -> None:
        """Drop whatever is staged."""
        ...

    def close(self) -> None:
        """Let go of connections."""
        ...


def open_sink(spec: BatchOutput, *, stage: str) -> Sink:
    """The sink a manifest's (or the command line's) ``output`` describes.

    ``stage`` names the staging area; the same deployment, partition and output always
    get the same one, so a rerun finds what an interrupted run staged.
    """
    if spec.path is not None:
        return ParquetSink(Path(spec.path), stage=stage)
    assert spec.url is not None and spec.table is not None
    return SqlSink(sql.expand(spec.url, what="the output url"), spec.table, stage=stage)


class SqlSink:
    """A table at any SQLAlchemy URL; rejects go to ``<table>_rejects``."""

    def __init__(self, url: str, table: str, *, stage: str) -> None:
        self.engine = sql.engine(url)
        self.table = table
        self.rejects_table = f"{table}_rejects"
        self._stage = f"{stage}_out"
        self._stage_rejects = f"{stage}_rejects"
        self.description = f"table {table} at {sql.describe(url)}"

    def staged(self) -> dict[int, tuple[int, int]]:
        done: dict[int, list[int]] = {}
        with self.engine.connect() as conn:
            inspector = sa.inspect(conn)
            for slot, name in ((0, self._stage), (1, self._stage_rejects)):
                if not inspector.has_table(name):
                    continue
                staged = sa.table(name, sa.column(CHUNK))
                query = sa.select(staged.c[CHUNK], sa.func.count()).group_by(staged.c[CHUNK])
                for chunk, count in conn.execute(query):
                    done.setdefault(int(chunk), [0, 0])[slot] = int(count)
        return {chunk: (counts[0], counts[1]) for chunk, counts in sorted(done.items())}

    def read_staged(self, columns: list[str]) -> Iterator[pd.DataFrame]:
        import pandas as pd

        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table(self._stage):
                return
            staged = sa.table(self._stage, *(sa.column(c) for c in columns))
            yield from pd.read_sql_query(sa.select(staged), conn, chunksize=100_000)

    def write(self, chunk: int, output: pd.DataFrame, rejects: pd.DataFrame) -> None:
        with self.engine.begin() as conn:
            for name, frame in ((self._stage, output), (self._stage_rejects, rejects)):
                if len(frame):
                    frame.assign(**{CHUNK: chunk}).to_sql(
                        name, conn, if_exists="append", index=False, chunksize=10_000
                    )

    def publish(self, partition: str) -> None:
        with self.engine.begin() as conn:
            for stage, target in (
                (self._stage, self.table),
                (self._stage_rejects, self.rejects_table),
            ):
                self._replace(conn, stage, target, partition)

    def _replace(self, conn: sa.Connection, stage: str, target: str, partition: str) -> None:
        inspector = sa.inspect(conn)
        metadata = sa.MetaData()
        if inspector.has_table(stage):
            staged = sa.Table(stage, metadata, autoload_with=conn)
            columns = [c for c in staged.columns if c.name != CHUNK]
        else:
            staged, columns = None, []
        if not inspector.has_table(target):
            if staged is None:
                return  # nothing staged and nothing to replace
            sa.Table(target, metadata, *(sa.Column(c.name, c.type) for c in columns)).create(conn)
        existing = sa.Table(target, metadata, autoload_with=conn)
        lacking = [c.name for c in columns if c.name not in existing.columns]
        if lacking:
            raise InvalidInput(
                f"the table {target} has no column {', '.join(lacking)} "
                "(an earlier run with another model or schema created it)",
                hint=f"write to another table, or add the columns to {target}",
            )
        if "partition" in existing.columns:
            conn.execute(existing.delete().where(existing.c.partition == partition))
        if staged is not None:
            names = [c.name for c in columns]
            conn.execute(
                existing.insert().from_select(names, sa.select(*(staged.c[n] for n in names)))
            )
            staged.drop(conn)

    def discard(self) -> None:
        with self.engine.begin() as conn:
            for name in (self._stage, self._stage_rejects):
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {_quote(conn, name)}"))

    def close(self) -> None:
        self.engine.dispose()


def _quote(conn: sa.Connection, name: str) -> str:
    return str(conn.dialect.identifier_preparer.quote(name))


class ParquetSink:
    """A Parquet dataset folder, partitioned as ``partition=<p>/``; rejects go to
    ``_rejects/partition=<p>/`` (folders starting with ``_`` are hidden from readers)."""

    def __init__(self, root: Path, *, stage: str) -> None:
        self.root = root
        self._stage = root / "_lk_staging" / stage
        self.description = f"Parquet dataset {root}"

    def _file(self, kind: str, chunk: int) -> Path:
        return self._stage / kind / f"part-{chunk:06d}.parquet"

    def staged(self) -> dict[int, tuple[int, int]]:
        import pyarrow.parquet as pq

        done: dict[int, tuple[int, int]] = {}
        out = self._stage / "out"
        if not out.is_dir():
            return done
        for file in sorted(out.glob("part-*.parquet")):
            chunk = int(file.stem.removeprefix("part-"))
            rejects = self._file("rejects", chunk)
            rejected = pq.ParquetFile(rejects).metadata.num_rows if rejects.exists() else 0
            done[chunk] = (pq.ParquetFile(file).metadata.num_rows, rejected)
        return done

    def read_staged(self, columns: list[str]) -> Iterator[pd.DataFrame]:
        import pyarrow.parquet as pq

        for file in sorted((self._stage / "out").glob("part-*.parquet")):
            yield pq.read_table(file, columns=columns).to_pandas()

    def write(self, chunk: int, output: pd.DataFrame, rejects: pd.DataFrame) -> None:
        # rejects first: a chunk counts as staged once its output file is in place
        for kind, frame in (("rejects", rejects), ("out", output)):
            if kind == "rejects" and not len(frame):
                continue
            target = self._file(kind, chunk)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.partial")
            frame.drop(columns=["partition"], errors="ignore").to_parquet(partial, index=False)
            os.replace(partial, target)

    def publish(self, partition: str) -> None:
        for kind, parent in (("out", self.root), ("rejects", self.root / "_rejects")):
            staged = self._stage / kind
            target = parent / f"partition={partition}"
            if not staged.is_dir():
                staged.mkdir(parents=True)  # an empty partition replaces the old one
            for empty in [f for f in staged.iterdir() if _rows(f) == 0]:
                empty.unlink()
            parent.mkdir(parents=True, exist_ok=True)
            replaced = self.root / "_lk_replaced" / f"{kind}-{partition}-{os.getpid()}"
            if target.exists():
                replaced.parent.mkdir(parents=True, exist_ok=True)
                os.replace(target, replaced)
            os.replace(staged, target)
            shutil.rmtree(replaced, ignore_errors=True)
        shutil.rmtree(self._stage, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self._stage, ignore_errors=True)

    def close(self) -> None:
        pass


def _rows(file: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(file).metadata.num_rows) if file.suffix == ".parquet" else 1
