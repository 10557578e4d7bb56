"""Batch inputs: a SQL query or table, or Parquet / CSV files, read chunk by chunk.

Chunks come in a fixed order (SQL ordered by the entity key, files in name order), so
chunk ``i`` is the same rows on a rerun and an interrupted run can be taken over.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from lightkeeper.batch import sql
from lightkeeper.batch.keys import KEY_CHUNK_ROWS, KeyCounts, counted, duplicated_in_chunks
from lightkeeper.errors import InputUnavailable, InvalidInput
from lightkeeper.settings import expand_env

if TYPE_CHECKING:
    import pandas as pd

    from lightkeeper.manifest import BatchInput


class Source(Protocol):
    """Rows to score, in chunks."""

    description: str

    def count(self) -> int | None:
        """Rows in the input, when cheap to know (for progress and ETA)."""
        ...

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this input's current content (files: names, sizes, times; SQL:
        the row count), so an interrupted run is taken over only on the same input."""
        ...

    def chunks(self, rows: int) -> Iterator[pd.DataFrame]:
        """The input in chunks of about ``rows`` rows, always in the same order."""
        ...

    def duplicate_keys(self, rows: int | None) -> KeyCounts:
        """The entity keys that appear more than once (each with its count) and their
        hashes (:mod:`lightkeeper.batch.keys`), in memory bounded by the input's row
        count (``rows``, when known) times 8 bytes."""
        ...

    def close(self) -> None:
        """Let go of connections."""
        ...


def open_source(spec: BatchInput, *, order_by: list[str]) -> Source:
    """The source a manifest's (or the command line's) ``input`` describes."""
    if spec.path is not None:
        return FileSource(spec.path, keys=order_by)
    assert spec.url is not None
    return SqlSource(
        expand_env(spec.url, what="the input url"),
        query=spec.query,
        table=spec.table,
        order_by=order_by,
    )


class SqlSource:
    """A query or table at any SQLAlchemy URL, streamed and ordered by the entity key.

    Integer columns with NULLs stay integers (nullable), so large keys keep every digit.
    """

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
            # a new line before ")": a trailing -- comment must not swallow it
            self._from = f"({query.strip().rstrip(';')}\n) lk_source"
            what = "query"
        self._keys = order_by
        self._quoted = [str(preparer.quote(column)) for column in order_by]
        self._order = ", ".join(self._quoted)
        self.description = f"{what} at {sql.describe(url)}"
        self._count: int | None = None

    def count(self) -> int | None:
        if self._count is None:
            with self._connect() as conn:
                try:
                    found = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {self._from}")
                    self._count = int(found.scalar_one())
                except sa.exc.DBAPIError as exc:
                    raise _unreadable(self.description, exc) from None
        return self._count

    def fingerprint(self) -> dict[str, Any]:
        return {"rows": self.count()}

    def chunks(self, rows: int) -> Iterator[pd.DataFrame]:
        import pandas as pd

        statement = f"SELECT * FROM {self._from}"
        if self._order:
            statement += f" ORDER BY {self._order}"
        with self._connect() as conn:
            streaming = conn.execution_options(stream_results=True, max_row_buffer=rows)
            try:
                # a plain string: the driver gets the query as written (no :name binds)
                yield from pd.read_sql_query(
                    statement, streaming, chunksize=rows, dtype_backend="numpy_nullable"
                )
            except sa.exc.DBAPIError as exc:
                raise _unreadable(self.description, exc) from None

    def duplicate_keys(self, rows: int | None) -> KeyCounts:
        import pandas as pd

        # the database counts: only the duplicated keys travel
        complete = " AND ".join(f"{k} IS NOT NULL" for k in self._quoted)
        statement = (
            f"SELECT {self._order}, COUNT(*) AS lk_count FROM {self._from} WHERE {complete} "
            f"GROUP BY {self._order} HAVING COUNT(*) > 1"
        )
        with self._connect() as conn:
            try:
                found = pd.read_sql_query(statement, conn, dtype_backend="numpy_nullable")
            except sa.exc.DBAPIError as exc:
                raise _unreadable(self.description, exc) from None
        return counted(found, self._keys)

    def close(self) -> None:
        self.engine.dispose()

    def _connect(self) -> sa.Connection:
        try:
            return self.engine.connect()
        except sa.exc.DBAPIError as exc:
            raise _unreadable(self.description, exc) from None


def _unreadable(description: str, exc: sa.exc.DBAPIError) -> InvalidInput | InputUnavailable:
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    if _transient(exc):
        return InputUnavailable(
            f"cannot read the {description} now: {detail}",
            hint="when the database is back, run again: staged chunks are taken over",
        )
    return InvalidInput(
        f"cannot read the {description}: {detail}",
        hint="check the url, the query or table name, and the columns it returns",
    )


def _transient(exc: sa.exc.DBAPIError) -> bool:
    """A lost connection or a busy database, not a wrong query (SQLite reports both as
    OperationalError, so the message decides there)."""
    if exc.connection_invalidated or isinstance(exc, sa.exc.InterfaceError):
        return True
    if isinstance(exc, sa.exc.OperationalError):
        text = str(exc.orig).lower()
        return not any(word in text for word in ("no such", "syntax error", "does not exist"))
    return False


class FileSource:
    """Parquet or CSV files: one file, a folder of them, or a glob pattern.

    Integer columns with nulls stay integers (nullable); CSV key columns are read as
    text, so ``0042`` stays ``0042``.
    """

    def __init__(self, path: str, *, keys: list[str]) -> None:
        self.files = _files(path)
        self.keys = keys
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

    def fingerprint(self) -> dict[str, Any]:
        stats = []
        for file in self.files:
            stat = file.stat()
            stats.append([str(file), stat.st_size, stat.st_mtime_ns])
        return {"files": stats}

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
                        yield batch.to_pandas(types_mapper=_nullable_ints)
                else:
                    yield from pd.read_csv(
                        file,
                        chunksize=rows,
                        dtype={key: "string" for key in self.keys},
                        dtype_backend="numpy_nullable",
                    )
            except (OSError, ValueError) as exc:
                raise _broken(file, exc) from None

    def duplicate_keys(self, rows: int | None) -> KeyCounts:
        return duplicated_in_chunks(self._key_chunks, self.keys, rows)

    def _key_chunks(self) -> Iterator[pd.DataFrame]:
        """The key columns alone, in large chunks (a second read of the files)."""
        import pandas as pd

        for file in self.files:
            try:
                if self.parquet:
                    import pyarrow.parquet as pq

                    reader = pq.ParquetFile(file, pre_buffer=False)
                    _has_keys(file, reader.schema_arrow.names, self.keys)
                    for batch in reader.iter_batches(KEY_CHUNK_ROWS, columns=self.keys):
                        yield batch.to_pandas(types_mapper=_nullable_ints)
                else:
                    _has_keys(file, pd.read_csv(file, nrows=0).columns, self.keys)
                    yield from pd.read_csv(
                        file,
                        usecols=self.keys,
                        chunksize=KEY_CHUNK_ROWS,
                        dtype={key: "string" for key in self.keys},
                        dtype_backend="numpy_nullable",
                    )
            except (OSError, ValueError) as exc:
                if isinstance(exc, InvalidInput):
                    raise
                raise _broken(file, exc) from None


def _has_keys(file: Path, columns: Any, keys: list[str]) -> None:
    missing = [key for key in keys if key not in columns]
    if missing:
        raise InvalidInput(
            f"the input has no column {', '.join(missing)} (in {file.name})",
            hint=f"it has {', '.join(map(str, list(columns)[:20]))}; the entity_key of the "
            "manifest names the key column(s) every input row needs",
        )


def _nullable_ints(arrow_type: Any) -> Any:
    import pandas as pd
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):
        return pd.api.types.pandas_dtype(
            str(arrow_type).replace("int", "Int").replace("uInt", "UInt")
        )
    return None


def _broken(file: Path, exc: Exception) -> InvalidInput | InputUnavailable:
    if isinstance(exc, OSError) and not isinstance(exc, ValueError):  # ArrowInvalid is both
        return InputUnavailable(
            f"cannot read {file} now: {exc}",
            hint="when the file is readable again, run again: staged chunks are taken over",
        )
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
