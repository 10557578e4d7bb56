"""Prediction logs in Parquet files, indexed in the ops database, queried with DuckDB.

Layout under the log root (``<home>/logs``)::

    deployment=<name>/hour=<YYYY-MM-DDTHH>/<source>-<uuid>.parquet

A write is one file per deployment and hour, written whole under a temporary name and
renamed, then entered in the index (:class:`~lightkeeper.store.logfiles.LogFileStore`)
in one transaction: a file is part of the logs once its index row is, so a reader never
sees half a batch. Reads take the live files of the window from the index (a consistent
snapshot, even while compaction swaps files) and let DuckDB read only the columns the
query needs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lightkeeper.clock import Clock
from lightkeeper.errors import DatabaseUnavailable, InvalidInput, LogStoreUnavailable, first_line
from lightkeeper.logstore.place import Place
from lightkeeper.logstore.records import INPUT, INPUT_JSON, OUTPUT, OUTPUT_JSON, new_ids, to_table
from lightkeeper.store.db import Database
from lightkeeper.store.logfiles import LogFile, LogFileStore
from lightkeeper.store.predictions import PredictionRecord

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

log = logging.getLogger(__name__)

#: Retired files are deleted this long after compaction retired them (readers that took
#: the file list before the swap are done by then).
GRACE = timedelta(minutes=10)
#: The most buckets a traffic series may have.
MAX_BUCKETS = 10_000


class LogStore:
    """Append prediction records; read them back for monitors, labels, the rollout
    controller and people."""

    def __init__(self, db: Database, clock: Clock, location: str | Path) -> None:
        self.place = Place(location)
        self.index = LogFileStore(db, clock)
        self._db = db
        self._clock = clock

    @property
    def root(self) -> Path:
        """The folder of the logs (a local place only)."""
        if not self.place.local:
            raise InvalidInput(
                f"the logs are at {self.place.shown}, not in a local folder",
                hint="use lk.logs.place for a location of any kind",
            )
        return Path(self.place.base)

    # -- writing ------------------------------------------------------------------------
    def add_many(self, records: Sequence[PredictionRecord]) -> None:
        """Write records (all or none): one file per deployment and hour.

        Raises:
            LogStoreUnavailable: the files cannot be written (retry later).
            DatabaseUnavailable: the index cannot be written (retry later).
        """
        if not records:
            return
        written = self._write(records, source="serve")
        try:
            self.index.add(written)
        except BaseException:
            self._remove(written)
            raise

    def replace(
        self, deployment: str, request_ids: Sequence[str], records: Sequence[PredictionRecord]
    ) -> None:
        """Replace the records of ``request_ids`` (a batch partition's earlier samples) by
        ``records`` in one swap; labels of the replaced predictions go too."""
        old = self.index.live(deployment, batch_requests=list(request_ids)) if request_ids else []
        dropped = self._ids(old)
        request = records[0].request_id if records else None
        written = self._write(records, source="batch", batch_request=request) if records else []
        try:
            if not self.index.swap(old, written, deployment=deployment, drop_labels=dropped):
                raise DatabaseUnavailable(
                    f"the logged sample of {deployment} changed while it was replaced",
                    hint="run the batch partition again",
                )
        except BaseException:
            self._remove(written)
            raise

    def _write(
        self,
        records: Sequence[PredictionRecord],
        *,
        source: str,
        batch_request: str | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[LogFile]:
        groups: dict[tuple[str, datetime], list[int]] = {}
        for i, record in enumerate(records):
            at = record.at.astimezone(UTC)
            groups.setdefault((record.deployment, _hour(at)), []).append(i)
        numbers = list(ids) if ids is not None else new_ids(len(records))
        written: list[LogFile] = []
        try:
            for (deployment, hour), members in groups.items():
                chosen = [records[i] for i in members]
                table = to_table(chosen, [numbers[i] for i in members])
                path = _path(deployment, hour, source)
                self._put(table, path)
                ats = [r.at for r in chosen]
                written.append(
                    LogFile(
                        deployment=deployment,
                        hour=hour,
                        path=path,
                        rows=len(chosen),
                        min_at=min(ats),
                        max_at=max(ats),
                        source=source,
                        batch_request=batch_request,
                    )
                )
        except OSError as exc:
            self._remove(written)
            raise LogStoreUnavailable(
                f"cannot write prediction logs under {self.place.shown}: {first_line(exc)}",
                hint="free disk space or fix the folder's permissions; records are kept "
                "and written again",
            ) from exc
        return written

    def _put(self, table: pa.Table, path: str) -> None:
        self.place.write(table, path)

    def _remove(self, files: Sequence[LogFile]) -> None:
        for f in files:
            try:
                self.place.remove(f.path)
            except OSError as exc:  # an orphan file is harmless: only indexed files count
                log.warning("cannot remove %s: %s", f.path, exc)

    def migrate(self, chunk: int = 50_000) -> int:
        """Move the records an older lightkeeper kept in the ops database into files,
        keeping their ids (labels refer to them); returns how many moved. Each chunk's
        files are entered and its rows deleted in one transaction, so an interrupted
        migration resumes where it stopped."""
        from lightkeeper.store.predictions import LegacyPredictionLogs

        legacy = LegacyPredictionLogs(self._db)
        moved = 0
        while True:
            ids, records = legacy.oldest(chunk)
            if not records:
                break
            written = self._write(records, source="migrated", ids=ids)
            try:
                self.index.add(written, delete_legacy=ids)
            except BaseException:
                self._remove(written)
                raise
            moved += len(records)
        if moved:
            log.info(
                "moved %d prediction records from the ops database to %s", moved, self.place.shown
            )
        return moved

    # -- reading ------------------------------------------------------------------------
    def count(self, deployment: str) -> int:
        """How many records a deployment has (from the index: no file is read)."""
        return self.index.rows(deployment)

    def find(
        self,
        deployment: str,
        *,
        since: datetime | None = None,
        request_id: str | None = None,
        arm: str | None = None,
        limit: int = 100,
    ) -> list[PredictionRecord]:
        """Records of a deployment, newest first (a request's rows in order, its shadow
        rows beside them)."""
        from lightkeeper.logstore.records import to_records

        where: list[str] = ["TRUE"]
        params: list[object] = []
        if since is not None:
            where.append('"at" >= ?')
            params.append(since)
        if request_id is not None:
            where.append("request_id = ?")
            params.append(request_id)
        if arm is not None:
            where.append("arm = ?")
            params.append(arm)
        with self._logs(deployment, start=since) as con:
            if con is None:
                return []
            sql = (
                f"SELECT * FROM logs WHERE {' AND '.join(where)} "
                'ORDER BY "at" DESC, request_id, "row", arm LIMIT ?'
            )
            table = _relation(con, sql, [*params, limit]).to_arrow_table()
        return to_records(table, deployment)

    def outcomes(self, deployment: str, *, since: datetime, limit: int) -> list[tuple[Any, ...]]:
        """(arm, version, request_id, row, output, latency_ms, error, flags) since a time,
        newest first: the lean read the rollout controller needs."""
        import orjson

        with self._logs(deployment, start=since) as con:
            if con is None:
                return []
            output = _output_sql(_columns(con))
            sql = (
                f'SELECT arm, version, request_id, "row", {output}, latency_ms, error, flags '
                'FROM logs WHERE "at" >= ? ORDER BY "at" DESC LIMIT ?'
            )
            rows = con.execute(sql, [since, limit]).fetchall()
        return [(*r[:4], _decoded(r[4], r[5]), r[6], r[7], _flags(r[8], orjson)) for r in rows]

    def served_frames(
        self,
        deployment: str,
        *,
        start: datetime,
        end: datetime,
        features: Sequence[str] | None,
        chunk: int = 200_000,
    ) -> Iterator[pd.DataFrame]:
        """The rows answered in ``[start, end)``: a frame per chunk with the ``features``
        asked for (all logged ones with ``None``; absent ones all missing), ``output`` and
        ``version``. Streamed, so memory does not grow with the window. Shadow copies and
        failed attempts are left out: the window is what clients got."""
        with self._logs(deployment, start=start, end=end) as con:
            if con is None:
                return
            present = _columns(con)
            logged = _features(present)
            wanted = list(logged) if features is None else list(features)
            select = [_feature_sql(name, present) for name in wanted]
            output = _output_sql(present)
            sql = (
                f"SELECT {', '.join([*select, output, 'version'])} FROM logs "
                'WHERE "at" >= ? AND "at" < ? AND arm <> \'shadow\' AND error IS NULL'
            )
            reader = _relation(con, sql, [start, end]).to_arrow_reader(chunk)
            decode = [n for n in wanted if INPUT_JSON + n in present and INPUT + n not in present]
            for batch in reader:
                frame = batch.to_pandas()
                yield _decode_frame(frame, wanted, decode)

    def by_request(
        self, deployment: str, request_ids: Sequence[str]
    ) -> list[tuple[int, datetime, str, int, int, Any]]:
        """(id, at, request_id, row, version, output) of the answered rows of these requests."""
        import pyarrow as pa

        with self._logs(deployment) as con:
            if con is None:
                return []
            wanted = pa.table({"request_id": pa.array(list(request_ids), pa.string())})
            con.register("wanted", wanted)
            output = _output_sql(_columns(con))
            sql = (
                f'SELECT id, "at", request_id, "row", version, {output} FROM logs '
                "WHERE request_id IN (SELECT request_id FROM wanted) "
                "AND arm <> 'shadow' AND error IS NULL"
            )
            rows = con.execute(sql).fetchall()
        return [(r[0], r[1].astimezone(UTC), r[2], r[3], r[4], _decoded(r[5], r[6])) for r in rows]

    def traffic(
        self, deployment: str, *, start: datetime, end: datetime, every: timedelta
    ) -> list[dict[str, Any]]:
        """Volume, errors and latency per time bucket of ``every`` and arm in
        ``[start, end)``, buckets counted from ``start``: ``{"start", "arm", "requests",
        "rows", "errors", "error_rate", "latency_ms": {"p50", "p95", "p99"}}``, oldest
        first. Buckets without traffic are left out. A request is counted by its first
        row (rows are numbered from 0 in each request), which costs nothing, where
        counting distinct request ids would cost seconds over millions of rows."""
        seconds = int(every.total_seconds())
        if seconds < 1:
            raise InvalidInput(
                "a traffic bucket must be at least one second", hint="use e.g. 1m, 1h, 1d"
            )
        if (end - start) / every > MAX_BUCKETS:
            raise InvalidInput(
                f"{(end - start) / every:,.0f} buckets of {seconds} s are too many "
                f"(at most {MAX_BUCKETS:,})",
                hint="ask for a shorter window or longer buckets",
            )
        with self._logs(deployment, start=start, end=end) as con:
            if con is None:
                return []
            rows = con.execute(
                f"SELECT time_bucket(INTERVAL '{seconds} seconds', \"at\", ?::TIMESTAMPTZ) "
                'AS bucket, arm, count(*) FILTER (WHERE "row" = 0), count(*), count(error), '
                "quantile_cont(latency_ms, [0.5, 0.95, 0.99]) FROM logs "
                'WHERE "at" >= ? AND "at" < ? GROUP BY ALL ORDER BY bucket, arm',
                [start, start, end],
            ).fetchall()
        return [
            {
                "start": bucket.astimezone(UTC).isoformat(),
                "arm": arm,
                "requests": requests,
                "rows": count,
                "errors": errors,
                "error_rate": errors / count,
                "latency_ms": dict(zip(("p50", "p95", "p99"), latency, strict=True)),
            }
            for bucket, arm, requests, count, errors, latency in rows
        ]

    def match_keys(
        self,
        deployment: str,
        columns: Sequence[str],
        keys: Sequence[tuple[str, ...]],
        times: pd.Series[Any] | None,
    ) -> list[tuple[int, datetime, int, Any] | None]:
        """For each wanted entity key (as text, see below) and time (a UTC datetime series
        aligned with ``keys``), the newest answered prediction with that key at or before
        the time (at any time without ``times``): ``(id, at, version, output)``, or
        ``None`` when there is none.

        Keys are compared as text the way :func:`key_text` writes them: ``7`` for 7, 7.0
        and "7"; a date or time as ISO 8601 (``2015-01-01T00:00:00``) however written.
        One join in DuckDB (ASOF: the newest prediction not after the label's time).

        Raises:
            InvalidInput: a key column holds values of mixed types in the logs.
        """
        import numpy as np
        import pyarrow as pa

        result: list[tuple[int, datetime, int, Any] | None] = [None] * len(keys)
        with self._logs(deployment) as con:
            if con is None or not keys:
                return result
            present = _columns(con)
            for name in columns:
                if INPUT + name not in present:
                    if INPUT_JSON + name in present:
                        raise InvalidInput(
                            f"the logged values of the key {name!r} are of mixed types",
                            hint="join these labels by request_id instead",
                        )
                    return result  # a key never logged: nothing matches
            types = dict(
                con.execute("SELECT column_name, column_type FROM (DESCRIBE logs)").fetchall()
            )
            never = datetime(9999, 12, 31, tzinfo=UTC)
            wanted = {"idx": pa.array(range(len(keys)), pa.int64())}
            for k in range(len(columns)):
                wanted[f"k{k}"] = pa.array([key[k] for key in keys], pa.string())
            stamp = pa.timestamp("us", tz="UTC")
            wanted["t"] = (
                pa.array(times, stamp)
                if times is not None
                else pa.array(np.full(len(keys), np.datetime64(never.replace(tzinfo=None), "us")))
                .cast(pa.timestamp("us"))
                .cast(stamp)
            )
            con.register("wanted", pa.table(wanted))
            mine, theirs = [], []
            for k, name in enumerate(columns):
                column, kind = _quote(INPUT + name), types[INPUT + name]
                if kind in _INTEGERS:  # compare as numbers: no text for millions of rows
                    mine.append(f"TRY_CAST(k{k} AS BIGINT) AS k{k}")
                    theirs.append(f"CAST({column} AS BIGINT) AS k{k}")
                else:
                    mine.append(f"k{k}")
                    theirs.append(f"{_key_sql(column, kind)} AS k{k}")
            output = _output_sql(present)
            on = " AND ".join(f"w.k{k} = p.k{k}" for k in range(len(columns)))
            table = _relation(
                con,
                'SELECT w.idx, p.id, p."at", p.version, p.output, p.output_json '
                f"FROM (SELECT idx, t, {', '.join(mine)} FROM wanted) w ASOF JOIN "
                f'(SELECT id, "at", version, {output}, {", ".join(theirs)} FROM logs '
                "WHERE arm <> 'shadow' AND error IS NULL) p "
                f'ON {on} AND w.t >= p."at"',
                [],
            ).to_arrow_table()
            # times as naive UTC values: Python datetimes with a zone cost 4 us each to make
            naive = table.column(2).cast(pa.timestamp("us")).to_pylist()
            rows = zip(*(table.column(i).to_pylist() for i in (0, 1, 3, 4, 5)), naive, strict=True)
        for idx, pid, version, value, text, at in rows:
            result[idx] = (pid, at.replace(tzinfo=UTC), version, _decoded(value, text))
        return result

    def _ids(self, files: Sequence[LogFile]) -> list[int]:
        if not files:
            return []
        import duckdb

        con = duckdb.connect()
        try:
            self.place.view(con, "old", [f.path for f in files])
            return [row[0] for row in con.execute("SELECT id FROM old").fetchall()]
        finally:
            con.close()

    @contextmanager
    def _logs(
        self, deployment: str, *, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """A DuckDB connection with the view ``logs`` over the live files of the window
        (``None`` when there are none)."""
        files = self.index.live(deployment, start=start, end=end)
        if not files:
            yield None
            return
        import duckdb

        con = duckdb.connect()
        try:
            self.place.view(con, "logs", [f.path for f in files])
            yield con
        except (duckdb.IOException, OSError) as exc:
            raise LogStoreUnavailable(
                f"cannot read the prediction logs of {deployment}: {first_line(exc)}",
                hint=f"check {self.place.shown}",
            ) from exc
        finally:
            con.close()


def _relation(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object]
) -> duckdb.DuckDBPyRelation:
    """A query as a relation: Arrow results without an extra copy."""
    relation = con.sql(sql, params=params or None)
    assert relation is not None  # a SELECT always has one
    return relation


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _path(deployment: str, hour: datetime, source: str) -> str:
    return f"deployment={deployment}/hour={hour:%Y-%m-%dT%H}/{source}-{uuid.uuid4().hex}.parquet"


def _columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    description = con.execute("SELECT * FROM logs LIMIT 0").description or []
    return {str(d[0]) for d in description}


def _features(present: set[str]) -> list[str]:
    names: dict[str, None] = {}
    for column in sorted(present):
        if column.startswith(INPUT):
            names[column[len(INPUT) :]] = None
        elif column.startswith(INPUT_JSON):
            names[column[len(INPUT_JSON) :]] = None
    return list(names)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _feature_sql(name: str, present: set[str]) -> str:
    """The feature's typed column, else its JSON column, else missing (as ``name``)."""
    if INPUT + name in present:
        return f"{_quote(INPUT + name)} AS {_quote(name)}"
    if INPUT_JSON + name in present:
        return f"{_quote(INPUT_JSON + name)} AS {_quote(name)}"
    return f"NULL AS {_quote(name)}"


def _output_sql(present: set[str]) -> str:
    """Two columns: the typed output and the JSON one (either may be missing)."""
    typed = _quote(OUTPUT) if OUTPUT in present else "NULL"
    text = _quote(OUTPUT_JSON) if OUTPUT_JSON in present else "NULL"
    return f"{typed} AS output, {text} AS output_json"


_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
_DATE_RE = r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?"


def key_text(value: Any) -> str:
    """A key value as text, the same for 7, 7.0 and "7", and for a date however written
    (2015-01-01, 2015-01-01 00:00:00, 2015-01-01T00:00:00.000, a Timestamp)."""
    import re

    import pandas as pd

    item = getattr(value, "item", None)
    value = item() if callable(item) else value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) or (isinstance(value, str) and re.fullmatch(_DATE_RE, value)):
        return str(pd.Timestamp(value).isoformat())
    return str(value)


def _key_sql(column: str, kind: str) -> str:
    """The SQL for :func:`key_text` of a logged key column of DuckDB type ``kind``."""
    if kind == "BOOLEAN":
        return f"CASE WHEN {column} THEN 'True' ELSE 'False' END"
    if kind in ("FLOAT", "DOUBLE"):
        return (
            f"CASE WHEN isfinite({column}) AND {column} = trunc({column}) "
            f"THEN CAST(CAST({column} AS HUGEINT) AS VARCHAR) ELSE CAST({column} AS VARCHAR) END"
        )
    if kind == "VARCHAR":
        stamp = f"TRY_CAST({column} AS TIMESTAMP)"
        iso = (
            f"strftime({stamp}, '%Y-%m-%dT%H:%M:%S') || CASE WHEN strftime({stamp}, '%f') "
            f"<> '000000' THEN '.' || strftime({stamp}, '%f') ELSE '' END"
        )
        return (
            f"CASE WHEN regexp_full_match({column}, '{_DATE_RE}') AND {stamp} IS NOT NULL "
            f"THEN {iso} ELSE {column} END"
        )
    return f"CAST({column} AS VARCHAR)"


def _decoded(value: Any, text: str | None) -> Any:
    if value is None and text is not None:
        import orjson

        return orjson.loads(text)
    return value


def _flags(text: str | None, orjson: Any) -> list[str] | None:
    return orjson.loads(text) if text else None


def _decode_frame(frame: pd.DataFrame, wanted: list[str], decode: list[str]) -> pd.DataFrame:
    import orjson

    for name in decode:
        frame[name] = [None if v is None else orjson.loads(v) for v in frame[name]]
    if frame["output_json"].notna().any():
        texts = frame["output_json"]
        frame["output"] = [
            orjson.loads(t) if o is None and t is not None else o
            for o, t in zip(frame["output"].tolist(), texts.tolist(), strict=True)
        ]
    return frame.drop(columns=["output_json"])
