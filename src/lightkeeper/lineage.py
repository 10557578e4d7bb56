"""Where a version came from: its lineage, the registry's record of it, and the
fingerprints (training-data content hash, code version) that lineage is made of."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


#: The prefix of lightkeeper's MLflow version tags.
TAG = "lightkeeper."


@dataclass(frozen=True)
class Lineage:
    """Where a version came from: data, code, manifest and person."""

    data_hash: str | None = None
    data_rows: int | None = None
    data_columns: list[str] = field(default_factory=list)
    code_commit: str | None = None
    code_dirty: bool | None = None
    manifest_hash: str | None = None
    project: str | None = None
    registered_by: str | None = None

    def tags(self) -> dict[str, str]:
        """The lineage as MLflow version tags (values are strings, absent ones left out)."""
        values = {
            "data.hash": self.data_hash,
            "data.rows": self.data_rows,
            "data.columns": ",".join(self.data_columns) if self.data_columns else None,
            "code.commit": self.code_commit,
            "code.dirty": None if self.code_dirty is None else str(self.code_dirty).lower(),
            "manifest.hash": self.manifest_hash,
            "project": self.project,
            "registered_by": self.registered_by,
        }
        return {TAG + k: str(v)[:5000] for k, v in values.items() if v is not None}

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> Lineage:
        """Read lineage back from version tags; missing tags stay ``None``."""

        def get(key: str) -> str | None:
            return tags.get(TAG + key)

        rows, dirty, columns = get("data.rows"), get("code.dirty"), get("data.columns")
        return cls(
            data_hash=get("data.hash"),
            data_rows=int(rows) if rows else None,
            data_columns=columns.split(",") if columns else [],
            code_commit=get("code.commit"),
            code_dirty=None if dirty is None else dirty == "true",
            manifest_hash=get("manifest.hash"),
            project=get("project"),
            registered_by=get("registered_by"),
        )


@dataclass(frozen=True)
class VersionInfo:
    """One registered model version with its lineage, params and metrics."""

    model: str
    version: int
    created_at: datetime
    status: str
    source: str
    run_id: str | None
    aliases: list[str]
    lineage: Lineage
    flavor: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        lineage = self.lineage
        return {
            "model": self.model,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "status": self.status,
            "source": self.source,
            "run_id": self.run_id,
            "aliases": self.aliases,
            "flavor": self.flavor,
            "registered_by": lineage.registered_by,
            "lineage": {
                "data": {
                    "hash": lineage.data_hash,
                    "rows": lineage.data_rows,
                    "columns": lineage.data_columns,
                },
                "code": {"commit": lineage.code_commit, "dirty": lineage.code_dirty},
                "manifest_hash": lineage.manifest_hash,
                "project": lineage.project,
            },
            "params": self.params,
            "metrics": self.metrics,
            "tags": self.tags,
        }


@dataclass(frozen=True)
class ModelSummary:
    """A registered model: its newest version and aliases."""

    name: str
    description: str
    latest_version: int | None
    versions: int
    aliases: dict[str, int]
    updated_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "description": self.description,
            "latest_version": self.latest_version,
            "versions": self.versions,
            "aliases": self.aliases,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


@dataclass(frozen=True)
class DataFingerprint:
    """Content hash, row count and columns of a data frame."""

    hash: str
    rows: int
    columns: list[str]


def fingerprint_frame(frame: pd.DataFrame) -> DataFingerprint:
    """Hash a frame's content: column names, dtypes and values (not the index).

    The same data gives the same hash in any process; a changed value, column or dtype
    gives another.
    """
    import pandas as pd

    digest = hashlib.sha256()
    for name, dtype in frame.dtypes.items():
        digest.update(f"{name}\x1f{dtype}\x1e".encode())
    values = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest.update(values.tobytes())
    return DataFingerprint(
        hash=f"sha256:{digest.hexdigest()}",
        rows=len(frame),
        columns=[str(c) for c in frame.columns],
    )


@dataclass(frozen=True)
class CodeVersion:
    """The git commit of a project folder and whether it had uncommitted changes."""

    commit: str | None
    dirty: bool | None


def code_version(folder: Path) -> CodeVersion:
    """The git commit of ``folder``, or ``None`` values outside a git repository."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(folder), *args],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return CodeVersion(None, None)
    status = git("status", "--porcelain", "--", ".")
    return CodeVersion(commit, bool(status))


def text_hash(text: str) -> str:
    """sha256 of a text, prefixed with the algorithm."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
