"""Labels: join outcomes that arrive later to the predictions they judge.

By request id (``request_id`` and optionally ``row`` columns: what online clients got back)
or by entity key and time (the manifest's ``entity_key`` columns, and optionally a time
column: the newest prediction for that key at or before the outcome; without one, the
newest prediction for the key). Each matched prediction keeps one label; ingesting again
replaces it. Unmatched rows are counted and shown, never silently dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lightkeeper.errors import InvalidInput
from lightkeeper.events import LabelsIngested
from lightkeeper.logstore.store import key_text
from lightkeeper.monitor.monitors import champion
from lightkeeper.store.labels import Label

if TYPE_CHECKING:
    import pandas as pd

    from lightkeeper.auth import Principal, Whoami
    from lightkeeper.events import EventBus
    from lightkeeper.logstore import LogStore
    from lightkeeper.registry import Registry
    from lightkeeper.store.deploy import DeployStore
    from lightkeeper.store.labels import LabelStore

log = logging.getLogger(__name__)

_EXAMPLES = 5


@dataclass(frozen=True)
class Ingested:
    """What an ingest matched, and what it could not."""

    deployment: str
    joined_by: str  # request id | entity key
    rows: int
    matched: int
    unmatched: int
    missing_label: int
    duplicates: int = 0  # rows for a prediction another row already labelled (last wins)
    examples: list[str] = field(default_factory=list)  # some unmatched rows

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "deployment": self.deployment,
            "joined_by": self.joined_by,
            "rows": self.rows,
            "matched": self.matched,
            "unmatched": self.unmatched,
            "missing_label": self.missing_label,
            "duplicates": self.duplicates,
            "unmatched_examples": self.examples,
        }


class LabelIngester:
    """Join outcomes to a deployment's logged predictions and store them as labels."""

    def __init__(
        self,
        *,
        deployments: DeployStore,
        registry: Registry,
        predictions: LogStore,
        labels: LabelStore,
        bus: EventBus,
        whoami: Whoami,
    ) -> None:
        self._whoami = whoami
        self.deployments = deployments
        self.registry = registry
        self.predictions = predictions
        self.labels = labels
        self.bus = bus

    def ingest(
        self,
        deployment: str,
        frame: pd.DataFrame,
        *,
        label: str | None = None,
        at: str | None = None,
        by: Principal | None = None,
    ) -> Ingested:
        """Join ``frame``'s outcomes to the deployment's logged predictions and store them.

        Raises:
            InvalidInput: no label column, no way to join, or not one row matched.
        """
        by = by or self._whoami()
        by.require("monitor.run")
        _target, _version, manifest = champion(
            self.deployments, self.registry, deployment, "no prediction to label"
        )
        column = label or (manifest.target.name if manifest.target else None)
        if column is None:
            raise InvalidInput(
                "which column holds the outcome?",
                hint="pass --label COLUMN (the manifest has no target)",
            )
        columns = [str(c) for c in frame.columns]
        if column not in columns:
            raise InvalidInput(
                f"the labels have no column {column!r}",
                hint=f"columns: {', '.join(columns)}; pass --label COLUMN",
            )
        if at is not None and at not in columns:
            raise InvalidInput(
                f"the labels have no time column {at!r}", hint=f"columns: {', '.join(columns)}"
            )
        keys = list(manifest.entity_key or [])
        present = frame[frame[column].notna()]
        missing = len(frame) - len(present)
        if "request_id" in columns:
            joined_by, found, unmatched = (
                "request id",
                *_by_request(self.predictions, deployment, present, column),
            )
        elif keys and all(k in columns for k in keys):
            joined_by, found, unmatched = (
                "entity key",
                *_by_key(self.predictions, deployment, present, column, keys, at),
            )
        else:
            need = (
                f"or the entity key column(s) {', '.join(keys)}"
                if keys
                else "(the model has no entity_key)"
            )
            raise InvalidInput(
                f"cannot join the labels to predictions: no request_id column {need}",
                hint=f"columns: {', '.join(columns)}",
            )
        unique = _unique(found)
        duplicates = len(found) - len(unique)
        found = _typed(unique)
        if present.shape[0] and not found:
            raise InvalidInput(
                f"none of the {len(present):,} labels matched a logged prediction of {deployment} "
                f"(joined by {joined_by}); nothing was stored",
                hint="check the ids or keys (e.g. " + ", ".join(unmatched[:3]) + "); predictions "
                "are logged while logging.predictions is on, batch runs log a sample",
            )
        stored = self.labels.upsert(deployment, found)
        result = Ingested(
            deployment=deployment,
            joined_by=joined_by,
            rows=len(frame),
            matched=stored,
            unmatched=len(unmatched),
            missing_label=missing,
            duplicates=duplicates,
            examples=unmatched[:_EXAMPLES],
        )
        log.info("labels for %s: %d matched, %d unmatched", deployment, stored, result.unmatched)
        self.bus.publish(
            LabelsIngested(
                actor=by.name,
                deployment=deployment,
                joined_by=joined_by,
                rows=result.rows,
                matched=result.matched,
                unmatched=result.unmatched,
            )
        )
        return result


def _plain(value: Any) -> Any:
    """A label as a JSON value (numpy scalars to Python, whole floats stay floats)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _typed(found: list[Label]) -> list[Label]:
    """Labels in the type of the outputs they judge ("1" for 1, 1.0 for 1, "1" for "1").

    Raises:
        InvalidInput: a label that cannot be read as its prediction's type.
    """
    typed = []
    for label in found:
        value, output = label.label, label.output
        if isinstance(output, list) and len(output) == 1:
            output = output[0]
        try:
            if isinstance(output, bool):
                text = str(value).strip().lower()
                if text not in ("true", "false", "1", "0", "1.0", "0.0"):
                    raise ValueError(value)
                value = text in ("true", "1", "1.0")
            elif isinstance(output, int):
                number = float(value)
                if not number.is_integer():
                    raise ValueError(value)
                value = int(number)
            elif isinstance(output, float):
                value = float(value)
            elif isinstance(output, str):
                value = key_text(value) if not isinstance(value, str) else value
        except (TypeError, ValueError):
            raise InvalidInput(
                f"the label {value!r} cannot be compared with the model's outputs "
                f"(like {output!r}); nothing was stored",
                hint="the outcome column must hold values of the kind the model predicts",
            ) from None
        typed.append(Label(label.prediction_id, label.predicted_at, label.version, output, value))
    return typed


def _by_request(
    predictions: LogStore, deployment: str, frame: pd.DataFrame, column: str
) -> tuple[list[Label], list[str]]:
    rows = frame["row"].astype(int).tolist() if "row" in frame.columns else [0] * len(frame)
    ids = frame["request_id"].astype(str).tolist()
    known: dict[tuple[str, int], tuple[int, datetime, int, Any]] = {}
    for start in range(0, len(ids), 5000):
        for pid, at, request_id, row, version, output in predictions.by_request(
            deployment, sorted(set(ids[start : start + 5000]))
        ):
            known[(request_id, row)] = (pid, at, version, output)
    if "row" not in frame.columns:
        several = sorted({request_id for request_id, row in known if row > 0})
        if several:
            raise InvalidInput(
                f"request {several[0]} scored several rows, and the labels have no row column "
                "to say which one each label is for",
                hint="add a row column (0 for the first row of a request)",
            )
    found, unmatched = [], []
    for request_id, row, value in zip(ids, rows, frame[column].tolist(), strict=True):
        hit = known.get((request_id, row))
        if hit is None:
            unmatched.append(f"request {request_id} row {row}")
            continue
        pid, when, version, output = hit
        found.append(Label(pid, when, version, output, _plain(value)))
    return found, unmatched


def _by_key(
    predictions: LogStore,
    deployment: str,
    frame: pd.DataFrame,
    column: str,
    keys: list[str],
    at: str | None,
) -> tuple[list[Label], list[str]]:
    import pandas as pd

    wanted = [tuple(key_text(v) for v in row) for row in frame[keys].itertuples(index=False)]
    stamps = None
    if at is not None:
        stamps = pd.to_datetime(frame[at], utc=True, errors="coerce", format="ISO8601")
        if stamps.isna().any():
            raise InvalidInput(
                f"the time column {at!r} has values that are not dates or times",
                hint="use ISO 8601, e.g. 2026-11-27T06:00:00Z",
            )
    matches = predictions.match_keys(deployment, keys, wanted, stamps)
    times: list[datetime | None] = (
        [None] * len(frame) if stamps is None else [t.to_pydatetime() for t in stamps]
    )
    found, unmatched = [], []
    for key, moment, value, hit in zip(wanted, times, frame[column].tolist(), matches, strict=True):
        if hit is None:
            before = f" at or before {moment.astimezone(UTC):%Y-%m-%d %H:%M}" if moment else ""
            unmatched.append(f"key {', '.join(key)}{before}")
            continue
        pid, when, version, output = hit
        found.append(Label(pid, when, version, output, _plain(value)))
    return found, unmatched


def _unique(found: list[Label]) -> list[Label]:
    """One label per prediction: the last row wins (a later correction)."""
    return list({label.prediction_id: label for label in found}.values())
