"""Where the log files live: a local folder, or any filesystem pyarrow opens by URL.

A local folder (the default, ``<home>/logs``) is written with a temporary name and a
rename, and DuckDB reads its files directly. A URL (``s3://bucket/prefix``,
``gs://...``, ``hdfs://...``) is written object by object (an object store shows an
object whole or not at all) and read through Arrow datasets, which DuckDB scans with the
same column and filter pushdown. No DuckDB extension is needed, so nothing is downloaded
at run time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lightkeeper.errors import InvalidInput
from lightkeeper.settings import mask

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    import pyarrow.fs as pafs


class Place:
    """A location of log files and the few operations the log store needs on it."""

    def __init__(self, location: str | Path) -> None:
        import pyarrow as pa
        import pyarrow.fs as pafs

        text = str(location)
        self.shown = mask(text)
        self.fs: pafs.FileSystem
        if "://" in text and not text.startswith("file://"):
            try:
                self.fs, base = pafs.FileSystem.from_uri(text)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
                # the library's message repeats the URL, credentials and all: not shown
                raise InvalidInput(
                    f"the logs location {self.shown} is not a filesystem pyarrow can open",
                    hint="use a folder, or an s3://, gs://, hdfs:// or file:// URL (logs_url)",
                ) from None
            self.local = False
        else:
            folder = text.removeprefix("file://")
            base = str(Path(folder).expanduser().absolute())
            self.fs, self.local = pafs.LocalFileSystem(), True
        self.base = base.rstrip("/")

    def full(self, path: str) -> str:
        """The location of a file, given its path relative to the base."""
        return f"{self.base}/{path}"

    def write(self, table: pa.Table, path: str) -> None:
        """Write ``table`` as one Parquet file, visible whole or not at all."""
        import pyarrow.parquet as pq

        target = self.full(path)
        if self.local:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            temporary = f"{Path(target).parent}/.{Path(target).name}.tmp"
            pq.write_table(table, temporary, compression="zstd")
            os.replace(temporary, target)
            return
        self.fs.create_dir(target.rpartition("/")[0], recursive=True)
        pq.write_table(table, target, filesystem=self.fs, compression="zstd")

    def scratch(self, path: str) -> Path:
        """A local file to build ``path`` in before :meth:`put`: beside the target in a
        local folder (so the move is a rename on one filesystem), else a temporary one."""
        if self.local:
            target = Path(self.full(path))
            target.parent.mkdir(parents=True, exist_ok=True)
            return target.with_name(f".{target.name}.tmp")
        import tempfile

        handle, name = tempfile.mkstemp(prefix="lightkeeper-log-", suffix=".parquet")
        os.close(handle)
        return Path(name)

    def put(self, local_file: Path, path: str) -> None:
        """Move a finished local file to ``path``."""
        target = self.full(path)
        if self.local:
            os.replace(local_file, target)
            return
        self.fs.create_dir(target.rpartition("/")[0], recursive=True)
        with local_file.open("rb") as source, self.fs.open_output_stream(target) as sink:
            shutil.copyfileobj(source, sink, length=1 << 20)
        local_file.unlink()

    def remove(self, path: str) -> None:
        """Delete a file; one already gone is fine."""
        target = self.full(path)
        if self.local:
            Path(target).unlink(missing_ok=True)
            return
        with contextlib.suppress(FileNotFoundError):
            self.fs.delete_file(target)

    def view(self, con: duckdb.DuckDBPyConnection, name: str, paths: Sequence[str]) -> None:
        """Create the DuckDB view ``name`` over the files at ``paths`` (columns by name:
        a column a file lacks is missing there)."""
        fulls = [self.full(p) for p in paths]
        if self.local:
            quoted = ", ".join("'" + f.replace("'", "''") + "'" for f in fulls)
            con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{quoted}], "
                "union_by_name = true, hive_partitioning = false)"
            )
            return
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq

        schema = _united([pq.read_schema(f, filesystem=self.fs) for f in fulls])
        data = ds.dataset(fulls, schema=schema, filesystem=self.fs, format="parquet")
        con.register(f"{name}_files", data)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_files")


def _united(schemas: Sequence[pa.Schema]) -> pa.Schema:
    """One schema for files whose columns may differ, as DuckDB's ``union_by_name``
    makes it: every column of any file; numbers of different kinds as float64, any other
    disagreement as text."""
    import pyarrow as pa

    kinds: dict[str, list[pa.DataType]] = {}
    for schema in schemas:
        for field in schema:
            kinds.setdefault(field.name, []).append(field.type)
    fields = []
    for name, types in kinds.items():
        first = types[0]
        if all(t == first for t in types):
            chosen = first
        elif all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in types):
            chosen = pa.float64()
        else:
            chosen = pa.string()
        fields.append(pa.field(name, chosen))
    return pa.schema(fields)
