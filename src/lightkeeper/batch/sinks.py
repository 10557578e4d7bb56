"""Batch outputs: staged chunk by chunk, published in one step, replacing the partition.

Every chunk is staged atomically (one transaction, or a file renamed into place), so
after a crash the staged chunks are exactly the complete ones. Publishing replaces the
partition's rows (SQL: delete + insert + drop the staging tables in one transaction;
Parquet: the staged folder renamed into ``partition=<p>``), so readers see the old
partition or the new one, never a mix, and a rerun replaces instead of duplicating.
Rejected rows are staged and published the same way, beside the output. A run that
fails on too many rejects publishes nothing but keeps its rejects, under its run id and
apart from every partition (:meth:`Sink.keep_rejects`), for a look at what went wrong.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from lightkeeper.batch import sql
from lightkeeper.errors import InvalidInput, PublishRefused
from lightkeeper.files import write_atomic
from lightkeeper.settings import expand_env

if TYPE_CHECKING:
    import pandas as pd

    from lightkeeper.manifest import BatchOutput

CHUNK = "_lk_chunk"


class Sink(Protocol):
    """Where scored chunks go."""

    description: str

    def begin(self, meta: dict[str, Any]) -> dict[int, tuple[int, int]]:
        """Open the stage for a run described by ``meta``; returns the complete chunks
        (index -> output rows, rejected rows) a run with the very same ``meta`` staged
        before, or ``{}`` after clearing whatever else was there."""
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

    def keep_rejects(self, run_id: int) -> str:
        """Move the staged rejects, in one step, to where a failed run's rejects are kept
        (never where a partition's are); returns where that is."""
        ...

    def discard(self) -> None:
        """Drop whatever is staged, metadata included."""
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
    return SqlSink(expand_env(spec.url, what="the output url"), spec.table, stage=stage)


class SqlSink:
    """A table at any SQLAlchemy URL (``schema.table`` allowed); rejects go to
    ``<table>_rejects``."""

    def __init__(self, url: str, table: str, *, stage: str) -> None:
        self.engine = sql.engine(url)
        schema, _, name = table.rpartition(".")
        self.schema = schema or None
        self.table = name
        self.rejects_table = f"{name}_rejects"
        self._stage = f"{stage}_out"
        self._stage_rejects = f"{stage}_rejects"
        self._stage_meta = f"{stage}_meta"
        self.description = f"table {table} at {sql.describe(url)}"

    def begin(self, meta: dict[str, Any]) -> dict[int, tuple[int, int]]:
        text = json.dumps(meta, sort_keys=True, default=str)
        with self.engine.begin() as conn:
            self._check_schema(conn)
            stored = sa.table(self._stage_meta, sa.column("meta"), schema=self.schema)
            if sa.inspect(conn).has_table(self._stage_meta, schema=self.schema):
                found = conn.execute(sa.select(stored.c.meta)).scalar()
                if found == text:
                    return self._staged(conn)
        self.discard()
        with self.engine.begin() as conn:
            sa.Table(
                self._stage_meta, sa.MetaData(), sa.Column("meta", sa.Text), schema=self.schema
            ).create(conn)
            conn.execute(stored.insert().values(meta=text))
        return {}

    def _check_schema(self, conn: sa.Connection) -> None:
        """A ``schema.table`` output needs the schema (or, on SQLite, the attached database)
        to exist: lightkeeper creates tables, never schemas."""
        if self.schema is None:
            return
        schemas = sa.inspect(conn).get_schema_names()
        if self.schema not in schemas:
            raise InvalidInput(
                f"the output {self.description} names the schema {self.schema!r}, which does "
                "not exist there",
                hint=f"create it first (CREATE SCHEMA {self.schema}), or write to a table in "
                f"one that exists: {', '.join(sorted(schemas))}",
            )

    def _staged(self, conn: sa.Connection) -> dict[int, tuple[int, int]]:
        done: dict[int, list[int]] = {}
        inspector = sa.inspect(conn)
        for slot, name in ((0, self._stage), (1, self._stage_rejects)):
            if not inspector.has_table(name, schema=self.schema):
                continue
            staged = sa.table(name, sa.column(CHUNK), schema=self.schema)
            query = sa.select(staged.c[CHUNK], sa.func.count()).group_by(staged.c[CHUNK])
            for chunk, count in conn.execute(query):
                done.setdefault(int(chunk), [0, 0])[slot] = int(count)
        return {chunk: (counts[0], counts[1]) for chunk, counts in sorted(done.items())}

    def read_staged(self, columns: list[str]) -> Iterator[pd.DataFrame]:
        import pandas as pd

        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table(self._stage, schema=self.schema):
                return
            staged = sa.table(self._stage, *(sa.column(c) for c in columns), schema=self.schema)
            yield from pd.read_sql_query(sa.select(staged), conn, chunksize=100_000)

    def write(self, chunk: int, output: pd.DataFrame, rejects: pd.DataFrame) -> None:
        with self.engine.begin() as conn:
            for name, frame in ((self._stage, output), (self._stage_rejects, rejects)):
                if len(frame):
                    frame.assign(**{CHUNK: chunk}).to_sql(
                        name,
                        conn,
                        schema=self.schema,
                        if_exists="append",
                        index=False,
                        chunksize=10_000,
                    )

    def publish(self, partition: str) -> None:
        with self.engine.begin() as conn:
            for stage, target in (
                (self._stage, self.table),
                (self._stage_rejects, self.rejects_table),
            ):
                self._replace(conn, stage, target, partition)
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {self._quoted(conn, self._stage_meta)}"))

    def _replace(self, conn: sa.Connection, stage: str, target: str, partition: str) -> None:
        inspector = sa.inspect(conn)
        metadata = sa.MetaData(schema=self.schema)
        if inspector.has_table(stage, schema=self.schema):
            staged = sa.Table(stage, metadata, autoload_with=conn)
            columns = [c for c in staged.columns if c.name != CHUNK]
        else:
            staged, columns = None, []
        if not inspector.has_table(target, schema=self.schema):
            if staged is None:
                return  # nothing staged and nothing to replace
            sa.Table(target, metadata, *(sa.Column(c.name, c.type) for c in columns)).create(conn)
        existing = sa.Table(target, metadata, autoload_with=conn, extend_existing=True)
        lacking = [c.name for c in columns if c.name not in existing.columns]
        if lacking:
            raise PublishRefused(
                f"the table {target} has no column {', '.join(lacking)} "
                "(an earlier run with another model or schema created it)",
                hint=f"add the columns to {target} (or write to another table) and run again: "
                "the scored chunks are kept and taken over",
            )
        if "partition" in existing.columns:
            conn.execute(existing.delete().where(existing.c.partition == partition))
        if staged is not None:
            names = [c.name for c in columns]
            conn.execute(
                existing.insert().from_select(names, sa.select(*(staged.c[n] for n in names)))
            )
            staged.drop(conn)

    def keep_rejects(self, run_id: int) -> str:
        """Into ``<table>_rejects`` with the run's ``run_id`` and no partition (NULL), so
        no query of a partition's rejects sees them."""
        with self.engine.begin() as conn:
            inspector = sa.inspect(conn)
            if inspector.has_table(self._stage_rejects, schema=self.schema):
                metadata = sa.MetaData(schema=self.schema)
                staged = sa.Table(self._stage_rejects, metadata, autoload_with=conn)
                columns = [c for c in staged.columns if c.name != CHUNK]
                if not inspector.has_table(self.rejects_table, schema=self.schema):
                    fresh = (sa.Column(c.name, c.type) for c in columns)
                    sa.Table(self.rejects_table, metadata, *fresh).create(conn)
                kept = sa.Table(
                    self.rejects_table, metadata, autoload_with=conn, extend_existing=True
                )
                names = [c.name for c in columns if c.name != "partition"]
                lacking = [name for name in names if name not in kept.columns]
                if lacking:
                    missing = f"the table {self.rejects_table} has no column {lacking[0]}"
                    raise PublishRefused(missing)
                rows = sa.select(*(staged.c[name] for name in names))
                conn.execute(kept.insert().from_select(names, rows))
                staged.drop(conn)
        table = f"{self.schema}.{self.rejects_table}" if self.schema else self.rejects_table
        where = self.engine.url.render_as_string(hide_password=True)
        return f"table {table} at {where}, run_id {run_id} (partition NULL)"

    def discard(self) -> None:
        with self.engine.begin() as conn:
            for name in (self._stage, self._stage_rejects, self._stage_meta):
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {self._quoted(conn, name)}"))

    def _quoted(self, conn: sa.Connection, name: str) -> str:
        preparer = conn.dialect.identifier_preparer
        quoted = str(preparer.quote(name))
        return f"{preparer.quote_schema(self.schema)}.{quoted}" if self.schema else quoted

    def close(self) -> None:
        self.engine.dispose()


class ParquetSink:
    """A Parquet dataset folder, partitioned as ``partition=<p>/``; rejects go to
    ``_rejects/partition=<p>/`` (folders starting with ``_`` are hidden from readers).

    Every chunk of a run is written with the Arrow schema of its first chunk (columns
    that chunk had only nulls in are text), so the partition reads as one dataset.
    """

    def __init__(self, root: Path, *, stage: str) -> None:
        self.root = root
        self._stage = root / "_lk_staging" / stage
        self._schemas: dict[str, Any] = {}
        self.description = f"Parquet dataset {root}"

    def _file(self, kind: str, chunk: int) -> Path:
        return self._stage / kind / f"part-{chunk:06d}.parquet"

    def begin(self, meta: dict[str, Any]) -> dict[int, tuple[int, int]]:
        text = json.dumps(meta, sort_keys=True, default=str)
        marker = self._stage / "meta.json"
        if marker.is_file() and marker.read_text() == text:
            return self._staged()
        self.discard()
        self._stage.mkdir(parents=True)
        write_atomic(marker, text)
        return {}

    def _staged(self) -> dict[int, tuple[int, int]]:
        done: dict[int, tuple[int, int]] = {}
        for file in sorted((self._stage / "out").glob("part-*.parquet")):
            chunk = int(file.stem.removeprefix("part-"))
            rejects = self._file("rejects", chunk)
            try:
                rows = _rows(file)
                rejected = _rows(rejects) if rejects.exists() else 0
            except (OSError, ValueError):  # torn by a crash: not staged, score it again
                file.unlink(missing_ok=True)
                continue
            done[chunk] = (rows, rejected)
        return done

    def read_staged(self, columns: list[str]) -> Iterator[pd.DataFrame]:
        import pyarrow.parquet as pq

        for file in sorted((self._stage / "out").glob("part-*.parquet")):
            yield pq.read_table(file, columns=columns).to_pandas()

    def write(self, chunk: int, output: pd.DataFrame, rejects: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        # rejects first: a chunk counts as staged once its output file is in place
        for kind, frame in (("rejects", rejects), ("out", output)):
            if kind == "rejects" and not len(frame):
                self._file(kind, chunk).unlink(missing_ok=True)  # left by an earlier attempt
                continue
            with warnings.catch_warnings():  # pyarrow reads Series.values (pandas 3.1 warns)
                warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
                table = pa.Table.from_pandas(
                    frame.drop(columns=["partition"], errors="ignore"), preserve_index=False
                )
            schema = self._schemas.get(kind)
            if schema is None:
                schema = self._schemas.setdefault(kind, _settled(table.schema))
            table = table.select(schema.names).cast(schema)
            target = self._file(kind, chunk)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.partial")
            pq.write_table(table, partial)
            os.replace(partial, target)

    def publish(self, partition: str) -> None:
        for kind, parent in (("out", self.root), ("rejects", self.root / "_rejects")):
            staged = self._stage / kind
            target = parent / f"partition={partition}"
            staged.mkdir(parents=True, exist_ok=True)  # an empty partition replaces the old
            for file in list(staged.iterdir()):
                if file.name.startswith(".") or _rows(file) == 0:
                    file.unlink()  # a torn partial, or a chunk with no rows of this kind
            parent.mkdir(parents=True, exist_ok=True)
            replaced = self.root / "_lk_replaced" / f"{kind}-{partition}"
            shutil.rmtree(replaced, ignore_errors=True)
            if target.exists():
                replaced.parent.mkdir(parents=True, exist_ok=True)
                os.replace(target, replaced)
            os.replace(staged, target)
            shutil.rmtree(replaced, ignore_errors=True)
        self.discard()

    def keep_rejects(self, run_id: int) -> str:
        """Into ``_rejects/_failed/run=<id>/``: readers of ``_rejects`` skip it (``_``)."""
        staged = self._stage / "rejects"
        target = self.root / "_rejects" / "_failed" / f"run={run_id}"
        staged.mkdir(parents=True, exist_ok=True)
        for file in list(staged.iterdir()):
            if file.name.startswith("."):
                file.unlink()  # a torn partial
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)  # a run id is used once; but be sure
        os.replace(staged, target)
        return str(target)

    def discard(self) -> None:
        shutil.rmtree(self._stage, ignore_errors=True)
        self._schemas.clear()
        with suppress(OSError):  # the staging folder, once nothing is staged there
            self._stage.parent.rmdir()

    def close(self) -> None:
        pass


def _settled(schema: Any) -> Any:
    """A chunk's schema with all-null columns typed as text (later chunks may have values)."""
    import pyarrow as pa

    return pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in schema])


def _rows(file: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(file).metadata.num_rows)
