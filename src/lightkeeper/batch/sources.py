"""Batch inputs: a SQL query or table, or Parquet / CSV files, read chunk by chunk.

Chunks come in a fixed order (SQL ordered by the entity key, files in name order), so
chunk ``i`` is the same rows on a rerun and an interrupted run can be taken over.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa

from lightkeeper.batch import sql
from lightkeeper.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

    from lightkeeper.manifest import BatchInput


class Source(Protocol):
    """Rows to score, in chunks."""

    description: str

    def count(self) -> int | None:
        """Rows in the input, when cheap to know (for progress and ETA)."""
        ...

    def chunks(self, rows: int) -> Iterator[pd.DataFrame]:
        """The input in chunks of about ``rows`` rows, always in the same order."""
        ...

    def close(self) -> None:
        """Let go of connections."""
        ...


def open_source(spec: BatchInput, *, order_by: list[str]) -> Source:
    """The source a manifest's (or the command line's) ``input`` describes."""
    if spec.path is not None:
        return FileSource(spec.path)
    assert spec.url is not None
    return SqlSource(
        sql.expand(spec.url, what="the input url"),
        query=spec.query,
        table=spec.table,
        order_by=order_by,
    )


class SqlSource:
    """A query or table at any SQLAlchemy URL, streamed and ordered by the entity key."""

    def __init__(
        self, url: str, *, query: str | None, table: str | None, order_by: list[str]
    ) -> None:
        self.engine = sql.engine(url)
        preparer = self.engine.dialect.identifier_preparer
        if table is not None:
            parts = table.split(".")
            self._from = ".".join(preparer.quote(part) for part in parts)
            what = f"table {table}"
        else:
            assert query is not None
            self._from = f"({query.strip().rstrip(';')}) AS lk_source"
            what = "query"
        self._order = ", ".join(preparer.quote(column) for column in order_by)
        self.description = f"{what} at {sql.describe(url)}"

    def count(self) -> int | None:
        with self._connect() as conn:
            return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {self._from}")).scalar_one())

    def chunks(self, rows: int) -> Iterator[pd.DataFrame]:
        import pandas as pd

        statement = f"SELECT * FROM {self._from}"
        if self._order:
            statement += f" ORDER BY {self._order}"
        with self._connect() as conn:
            streaming = conn.execution_options(stream_results=True, max_row_buffer=rows)
            try:
                yield from pd.read_sql_query(sa.text(statement), streaming, chunksize=rows)
            except sa.exc.DBAPIError as exc:
                raise _unreadable(self.description, exc) from None

    def close(self) -> None:
        self.engine.dispose()

    def _connect(self) -> sa.Connection:
        try:
            return self.engine.connect()
        except sa.exc.DBAPIError as exc:
            raise _unreadable(self.description, exc) from None


def _unreadable(description: str, exc: sa.exc.DBAPIError) -> InvalidInput:
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return InvalidInput(
        f"cannot read the {description}: {detail}",
        hint="check the url, the query or table name, and that the database is reachable",
    )


class FileSource:
    """Parquet or CSV files: one file, a folder of them, or a glob pattern."""

    def __init__(self, path: str) -> None:
        self.files = _files(path)
        self.parquet = self.files[0].suffix.lower() == ".parquet"
        kinds = {f.suffix.lower() for f in self.files}
        if len(kinds) > 1:
            raise InvalidInput(
                f"{path} mixes {' and '.join(sorted(kinds))} files",
                hint="point the input at one kind of file",
            )
        count = len(self.files)
        self.description = f"{path} ({count} {'Parquet' if self.parquet else 'CSV'} file"
        self.description += "s)" if count != 1 else ")"

    def close(self) -> None:
        pass

    def count(self) -> int | None:
        if self.parquet:
            import pyarrow.parquet as pq

            total = 0
            for file in self.files:
                try:
                    total += pq.ParquetFile(file).metadata.num_rows
                except (OSError, ValueError) as exc:
                    raise _broken(file, exc) from None
            return total
        lines = 0
        for file in self.files:  # newlines, minus the header: good enough for an ETA
            with file.open("rb") as handle:
                while block := handle.read(1 << 20):
                    lines += block.count(b"\n")
            lines -= 1
        return max(lines, 0)

    def chunks(self, rows: int) -> Iterator[pd.DataFrame]:
        import pandas as pd

        for file in self.files:
            try:
                if self.parquet:
                    import pyarrow.parquet as pq

                    # pre_buffer keeps every row group read so far: memory would grow
                    reader = pq.ParquetFile(file, pre_buffer=False)
                    for batch in reader.iter_batches(batch_size=rows):
                        yield batch.to_pandas()
                else:
                    yield from pd.read_csv(file, chunksize=rows)
            except (OSError, ValueError) as exc:
                raise _broken(file, exc) from None


def _broken(file: Path, exc: Exception) -> InvalidInput:
    return InvalidInput(
        f"cannot read {file}: {exc}", hint="check that the file is complete and valid"
    )


def _files(path: str) -> list[Path]:
    candidate = Path(path)
    if candidate.is_dir():
        found = sorted(p for p in candidate.rglob("*") if p.suffix.lower() in (".parquet", ".csv"))
    elif any(ch in path for ch in "*?["):
        found = sorted(Path(p) for p in glob.glob(path, recursive=True))
    else:
        found = [candidate] if candidate.is_file() else []
    found = [p for p in found if p.is_file() and not p.name.startswith((".", "_"))]
    if not found:
        raise InvalidInput(
            f"no input files at {path}",
            hint="give a .parquet or .csv file, a folder of them, or a glob like data/*.parquet",
        )
    unknown = [p for p in found if p.suffix.lower() not in (".parquet", ".csv")]
    if unknown:
        raise InvalidInput(
            f"{unknown[0]} is neither .parquet nor .csv", hint="convert it, or leave it out"
        )
    return found
