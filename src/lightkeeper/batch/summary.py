"""The score distribution of a run: class shares, and quantiles from a uniform sample."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

SAMPLE = 100_000  # scores kept for quantiles (a uniform sample of all rows)
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


class ScoreSummary:
    """Accumulate predictions chunk by chunk in bounded memory."""

    def __init__(self, *, classification: bool, seed: int = 0) -> None:
        self.classification = classification
        self._rng = np.random.default_rng(seed)
        self._classes: dict[str, int] = {}
        self._sample = np.empty(0)
        self._priority = np.empty(0)
        self._count = 0
        self._sum = 0.0
        self._min = np.inf
        self._max = -np.inf
        self.rows = 0

    def add(self, predictions: np.ndarray, scores: np.ndarray | None) -> None:
        """One chunk: its predicted labels (or values) and scores (a class probability)."""
        self.rows += len(predictions)
        if self.classification:
            import pandas as pd

            # hash counting on the raw values; only the few distinct labels become text
            for label, count in pd.Series(predictions).value_counts(dropna=False).items():
                key = str(label)
                self._classes[key] = self._classes.get(key, 0) + int(count)
        values = scores if scores is not None else predictions
        if values.dtype.kind not in "iuf":
            return
        values = values.astype(float)
        values = values[np.isfinite(values)]
        if not len(values):
            return
        self._count += len(values)
        self._sum += float(values.sum())
        self._min = min(self._min, float(values.min()))
        self._max = max(self._max, float(values.max()))
        # bottom-k by random priority: a uniform sample without replacement of all rows
        priority = self._rng.random(len(values))
        sample = np.concatenate([self._sample, values])
        priorities = np.concatenate([self._priority, priority])
        if len(sample) > SAMPLE:
            keep = np.argpartition(priorities, SAMPLE)[:SAMPLE]
            sample, priorities = sample[keep], priorities[keep]
        self._sample, self._priority = sample, priorities

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        out: dict[str, Any] = {"rows": self.rows}
        if self._classes:
            total = sum(self._classes.values())
            out["class_shares"] = {k: round(v / total, 6) for k, v in sorted(self._classes.items())}
        if self._count:
            out["score"] = {
                "count": self._count,
                "mean": self._sum / self._count,
                "min": self._min,
                "max": self._max,
                "quantiles": {
                    str(q): float(v)
                    for q, v in zip(QUANTILES, np.quantile(self._sample, QUANTILES), strict=True)
                },
            }
        return out


class RowSample:
    """A uniform sample without replacement of a run's scored rows, in bounded memory.

    Bottom-k by random priority, as the score sample: each row draws a priority and the
    ``size`` smallest are kept; a chunk's rows above the current cut are dropped before
    anything is copied, so a long run costs little once the sample is full.
    """

    def __init__(self, size: int, *, seed: int = 0) -> None:
        self.size = size
        self._rng = np.random.default_rng(seed)
        self._rows: pd.DataFrame | None = None
        self._priority = np.empty(0)

    def add(self, frame: pd.DataFrame, columns: list[str], **extra: np.ndarray) -> None:
        """Offer one chunk: ``columns`` of ``frame`` and the ``extra`` arrays beside them
        (the same every chunk). Only the rows that may enter the sample are copied."""
        import pandas as pd

        if self.size == 0 or frame.empty:
            return
        priority = self._rng.random(len(frame))
        positions = np.arange(len(frame))
        if self._rows is not None and len(self._priority) >= self.size:
            positions = np.flatnonzero(priority < self._priority.max())
            if not len(positions):
                return
            priority = priority[positions]
        rows = frame.iloc[positions][columns].reset_index(drop=True)
        for name, values in extra.items():
            rows[name] = np.asarray(values)[positions]
        frames = [rows] if self._rows is None else [self._rows, rows]
        combined = pd.concat(frames, ignore_index=True)
        priorities = np.concatenate([self._priority, priority])
        if len(combined) > self.size:
            chosen = np.argpartition(priorities, self.size)[: self.size]
            combined = combined.iloc[chosen].reset_index(drop=True)
            priorities = priorities[chosen]
        self._rows, self._priority = combined, priorities

    def rows(self) -> pd.DataFrame | None:
        """The sample (None when nothing was offered)."""
        return self._rows
