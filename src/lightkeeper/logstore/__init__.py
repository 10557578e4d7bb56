"""Prediction logs: Parquet files per deployment and hour, indexed in the ops database,
read with DuckDB, compacted in the background."""

from lightkeeper.logstore.store import LogStore

__all__ = ["LogStore"]
