"""Probe rows for the input contract: every row that satisfies the input schema must score."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lightkeeper.manifest import InputField, Manifest

if TYPE_CHECKING:
    import pandas as pd


def _values(field: InputField, gold: pd.Series) -> list[Any]:
    """Edge values of one field: its bounds, every category, both booleans, missing if allowed."""
    present = gold.dropna()
    values: list[Any] = []
    if field.type in {"float", "int"}:
        low: Any = field.min if field.min is not None else (present.min() if len(present) else 0)
        high: Any = field.max if field.max is not None else (present.max() if len(present) else 1)
        low_f, high_f = float(low), float(high)
        middle = (low_f + high_f) / 2
        if field.type == "int":
            values = [int(low_f), int(high_f), int(middle)]
        else:
            values = [low_f, high_f, middle]
    elif field.type == "bool":
        values = [True, False]
    elif field.type == "category":
        values = list(field.categories or [])
    elif field.type == "str":
        values = ["", "x" * 200, str(present.iloc[0]) if len(present) else "a"]
    elif field.type == "datetime":
        low = field.min if isinstance(field.min, datetime) else datetime(1970, 1, 1, tzinfo=UTC)
        high = field.max if isinstance(field.max, datetime) else datetime(2100, 1, 1, tzinfo=UTC)
        values = [low, high]
    if not field.required:
        values.append(None)
    return values


def probe_rows(manifest: Manifest, gold: pd.DataFrame) -> pd.DataFrame:
    """Rows that satisfy the schema: a typical gold row, varied one field at a time.

    Each field runs through its edge values (bounds and midpoint, every category, both
    booleans, missing where the field is optional) while the others keep typical values.
    """
    import pandas as pd

    base = gold.iloc[0][manifest.feature_names].to_dict()
    rows = [dict(base)]
    for field in manifest.input_schema:
        for value in _values(field, gold[field.name]):
            row = dict(base)
            row[field.name] = value
            rows.append(row)
    frame = pd.DataFrame(rows, columns=manifest.feature_names)
    for field in manifest.input_schema:
        if field.type == "float":
            frame[field.name] = frame[field.name].astype("float64")
        elif field.type == "int" and frame[field.name].notna().all():
            frame[field.name] = frame[field.name].astype("int64")
        elif field.type == "datetime":
            frame[field.name] = pd.to_datetime(frame[field.name], utc=True)
    return frame
