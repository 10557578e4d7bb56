"""Compaction: a deployment's many small log files of one hour become one.

Model servers write a file per batch (about one a second under load), which keeps a
prediction visible within a second but leaves thousands of small files an hour. A round
merges each hour's small files into one file sorted by time, and swaps them in the index
in one transaction (the swap fails, and the new file is removed, if another process
swapped any of them first). A reader that took its file list before the swap still
reads the old files, which are deleted only :data:`~lightkeeper.logstore.store.GRACE`
after they were retired: no row is lost or counted twice.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from lightkeeper.clock import Clock
from lightkeeper.decisions import Decision
from lightkeeper.errors import first_line
from lightkeeper.logstore.store import GRACE, LogStore, _path
from lightkeeper.store.logfiles import LogFile

log = logging.getLogger(__name__)

#: An hour is compacted once it has this many small files.
MIN_FILES = 4
#: A file with at least this many rows is left as it is.
BIG_FILE_ROWS = 500_000


class Compactor:
    """One round of compaction over every deployment (a control-plane loop)."""

    def __init__(self, *, logs: LogStore, clock: Clock) -> None:
        self.logs = logs
        self.clock = clock

    def round(self) -> list[Decision]:
        """Merge the hours with :data:`MIN_FILES` small files or more; delete retired files
        past their grace period. One decision per deployment."""
        decisions = []
        for deployment in self.logs.index.deployments():
            try:
                decisions.append(self.compact(deployment))
            except Exception as exc:  # the next round tries again
                log.warning("cannot compact the logs of %s: %s", deployment, exc)
                decisions.append(Decision.failed(deployment, first_line(exc)))
        self.purge()
        return decisions

    def compact(self, deployment: str) -> Decision:
        """Merge each hour's small files of ``deployment`` into one."""
        hours: dict[object, list[LogFile]] = {}
        for f in self.logs.index.live(deployment):
            if f.source != "batch" and f.rows < BIG_FILE_ROWS:
                hours.setdefault(f.hour, []).append(f)
        merged, files = 0, 0
        for group in hours.values():
            if len(group) >= MIN_FILES and self._merge(deployment, group):
                merged += 1
                files += len(group)
        if merged == 0:
            return Decision.skipped(deployment, "no hour has enough small files", key="idle")
        return Decision.ran(deployment, f"merged {files} files into {merged}")

    def _merge(self, deployment: str, group: Sequence[LogFile]) -> bool:
        import duckdb

        hour = group[0].hour
        path = _path(deployment, hour, "compacted")
        place = self.logs.place
        merged_file = place.scratch(path)
        con = duckdb.connect()
        try:
            place.view(con, "small", [f.path for f in group])
            con.execute(
                'COPY (SELECT * FROM small ORDER BY "at", request_id, "row") '
                f"TO '{_escaped(merged_file)}' (FORMAT parquet, COMPRESSION zstd)"
            )
            place.put(merged_file, path)
        finally:
            con.close()
            merged_file.unlink(missing_ok=True)
        merged = LogFile(
            deployment=deployment,
            hour=hour,
            path=path,
            rows=sum(f.rows for f in group),
            min_at=min(f.min_at for f in group),
            max_at=max(f.max_at for f in group),
            source="compacted",
        )
        if not self.logs.index.swap(group, [merged], deployment=deployment):
            place.remove(path)
            return False
        return True

    def purge(self) -> int:
        """Delete the files retired more than the grace period ago; returns how many."""
        gone = self.logs.index.gone_before(self.clock.now() - GRACE)
        for f in gone:
            try:
                self.logs.place.remove(f.path)
            except OSError as exc:
                log.warning("cannot delete the retired log file %s: %s", f.path, exc)
        if gone:
            self.logs.index.forget(gone)
        return len(gone)


def _escaped(path: os.PathLike[str]) -> str:
    return str(path).replace("'", "''")
