"""Fingerprints for lineage: training-data content hash and code version."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


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
