"""Entity keys of a batch input: their text, and the keys that appear more than once.

Every output row stands for one entity, so a key that appears twice in the input is
reported (``batch.duplicate_keys``): ``reject`` sends every row of such a key to the
rejects; ``keep_last`` scores the last one (in the order the input is read) and rejects
the earlier ones as superseded.

Chunks do not see each other, so duplicates are found before scoring, in bounded
memory. A file input is read once more, its key columns only: each key is hashed to 64
bits (8 bytes a row, sorted in place), and only when some hash occurs twice are the
rows with such a hash read again (key columns only) and their exact keys counted, so a
hash collision costs a pass, never a wrong verdict. A SQL input asks the database
(``GROUP BY key HAVING COUNT(*) > 1``). The scoring pass then holds only the duplicated
keys and their hashes, and hashes a chunk's keys only when there are any.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

Policy = Literal["reject", "keep_last"]
Key = tuple[str, ...]
KeyCounts = tuple[dict[Key, int], np.ndarray]  # duplicated keys with their counts; hashes
KEY_CHUNK_ROWS = 1_000_000  # rows per chunk of a key-only read (a few columns: cheap)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # combines the hashes of a composite key's columns


def key_text(frame: pd.DataFrame, keys: list[str]) -> list[str]:
    """Entity keys as text, the same text online routing keys use (``1234``, ``a|b``)."""
    columns: list[list[str]] = [frame[k].map(plain_text).tolist() for k in keys]
    if len(columns) == 1:
        return columns[0]
    return ["|".join(parts) for parts in zip(*columns, strict=True)]


def plain_text(value: Any) -> str:
    """One key value as text: ``1234.0`` read from a nullable column is key ``1234``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def key_hashes(frame: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """A 64-bit hash of each row's key, and whether the row has a complete key.

    Equal key texts (:func:`plain_text`) hash alike whatever the column types of the
    chunk or file (``Int64`` or ``int64``, ``1234.0`` or ``1234``, any datetime unit).
    """
    import pandas as pd

    combined = np.zeros(len(frame), dtype=np.uint64)
    present = np.ones(len(frame), dtype=bool)
    for key in keys:
        column = frame[key]
        present &= column.notna().to_numpy()
        with np.errstate(over="ignore"):
            combined = combined * _MIX ^ pd.util.hash_array(_comparable(column), categorize=False)
    return combined, present


def _comparable(column: pd.Series) -> np.ndarray:
    """The column as an array whose equal values are equal keys (nulls as anything)."""
    import pandas as pd

    kind = column.dtype.kind
    if kind in "iub":
        return np.asarray(column.to_numpy(dtype=np.int64, na_value=0))
    if kind == "f":
        values: np.ndarray = column.to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2**62)
        if whole.all():
            return values.astype(np.int64)
        out = np.where(np.isnan(values), 0.0, values).view(np.int64).copy()
        out[whole] = values[whole].astype(np.int64)
        return out
    if kind == "M":
        try:
            if isinstance(column.dtype, pd.DatetimeTZDtype):
                column = column.dt.tz_convert("UTC").dt.tz_localize(None)
            return np.asarray(column.to_numpy(dtype="datetime64[ns]")).view(np.int64)
        except (OverflowError, ValueError):  # beyond nanosecond range: compare as text
            pass
    if isinstance(column.dtype, pd.StringDtype) or (
        kind == "O" and pd.api.types.infer_dtype(column, skipna=True) == "string"
    ):
        return np.asarray(column.to_numpy(dtype=object, na_value=""))  # text is its own key text
    return np.asarray(column.map(plain_text, na_action="ignore").fillna(""), dtype=object)


def repeated_hashes(
    chunks: Iterable[pd.DataFrame], keys: list[str], rows: int | None
) -> np.ndarray:
    """The hashes that occur more than once among the chunks' complete keys (sorted).

    ``rows`` (the input's row count, when known) sizes the buffer up front, so the pass
    holds 8 bytes a row and no copy of them.
    """
    buffer = np.empty(max(rows or 0, 1 << 16), dtype=np.uint64)
    filled = 0
    for frame in chunks:
        hashes, present = key_hashes(frame, keys)
        hashes = hashes[present]
        if filled + len(hashes) > len(buffer):
            grown = np.empty(max(2 * len(buffer), filled + len(hashes)), dtype=np.uint64)
            grown[:filled] = buffer[:filled]
            buffer = grown
        buffer[filled : filled + len(hashes)] = hashes
        filled += len(hashes)
    found = buffer[:filled]
    found.sort()
    return np.unique(found[1:][found[1:] == found[:-1]])


def count_keys(
    chunks: Iterable[pd.DataFrame], keys: list[str], hashes: np.ndarray
) -> dict[Key, int]:
    """How often each key whose hash is in ``hashes`` occurs, for those that occur twice."""
    counts: Counter[Key] = Counter()
    for frame in chunks:
        found, present = key_hashes(frame, keys)
        rows = np.flatnonzero(present & np.isin(found, hashes))
        if len(rows):
            counts.update(_tuples(frame.iloc[rows], keys))
    return {key: n for key, n in counts.items() if n > 1}


def duplicated_in_chunks(
    read: Callable[[], Iterator[pd.DataFrame]], keys: list[str], rows: int | None
) -> KeyCounts:
    """The duplicated keys (with their counts) and their hashes, from key-only chunks
    ``read()`` yields (called a second time only when some hash occurs twice)."""
    hashes = repeated_hashes(read(), keys, rows)
    if not len(hashes):
        return {}, hashes
    return count_keys(read(), keys, hashes), hashes


def counted(found: pd.DataFrame, keys: list[str]) -> KeyCounts:
    """The duplicated keys and their hashes from a frame of them: the key columns as the
    input has them, and their count in the last column (what a database answers)."""
    counts = dict(zip(_tuples(found, keys), (int(n) for n in found.iloc[:, -1]), strict=True))
    hashes, _ = key_hashes(found, keys)
    return counts, np.unique(hashes)


def _tuples(frame: pd.DataFrame, keys: list[str]) -> list[Key]:
    return list(zip(*(frame[k].map(plain_text).tolist() for k in keys), strict=True))


class DuplicateKeys:
    """Rows of a run's input whose entity key appears more than once, and what becomes of
    them under the policy; fed every chunk in input order (taken-over chunks too)."""

    def __init__(
        self, keys: list[str], policy: Policy, counts: dict[Key, int], hashes: np.ndarray
    ) -> None:
        self.keys = keys
        self.policy = policy
        self.counts = counts
        self.hashes = hashes
        self.rejected = 0
        self._seen: dict[Key, int] = {}

    def to_dict(self) -> dict[str, Any]:
        """For the run summary: the policy, keys found twice or more, their rows, rejects."""
        return {
            "policy": self.policy,
            "keys": len(self.counts),
            "rows": sum(self.counts.values()),
            "rejected": self.rejected,
        }

    def split(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
        """Which rows of the chunk the policy rejects (a mask) and why, or None for none."""
        if not self.counts:
            return None
        hashes, present = key_hashes(frame, self.keys)
        rows = np.flatnonzero(present & np.isin(hashes, self.hashes))
        if not len(rows):
            return None
        mask = np.zeros(len(frame), dtype=bool)
        reasons = np.full(len(frame), None, dtype=object)
        for row, key in zip(rows, _tuples(frame.iloc[rows], self.keys), strict=True):
            count = self.counts.get(key)
            if count is None:  # a hash collision with a duplicated key
                continue
            named = ", ".join(f"{k}={v}" for k, v in zip(self.keys, key, strict=True))
            if self.policy == "reject":
                reasons[row] = f"entity key ({named}) appears {count} times in the input"
            else:
                seen = self._seen[key] = self._seen.get(key, 0) + 1
                if seen >= count:
                    continue  # the last occurrence: scored
                reasons[row] = f"entity key ({named}) superseded by a later row"
            mask[row] = True
        if not mask.any():
            return None
        self.rejected += int(mask.sum())
        return mask, reasons[mask]
