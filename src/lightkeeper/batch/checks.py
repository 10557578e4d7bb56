"""Chunk validation against the input schema, column by column (no Python loop per row).

The rules are the online ones (:mod:`lightkeeper.serving.validate`): a missing required
value, a wrong type, a value out of range or an unknown category rejects the row with
the first reason, unless the field says ``on_invalid: flag``, which keeps the row and
records the problem in the ``flags`` column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from lightkeeper.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

    from lightkeeper.manifest import InputField


@dataclass
class Checked:
    """One chunk split into rows to score and rows rejected (with reasons)."""

    good: pd.DataFrame
    rejected: pd.DataFrame  # the bad rows as they came
    reasons: np.ndarray  # one reason per rejected row
    flags: np.ndarray | None  # per good row: "field: problem; ..." or None


def check_chunk(
    frame: pd.DataFrame, fields: list[InputField], required: list[str], keys: list[str]
) -> Checked:
    """Validate a chunk; numeric fields come back as numbers (Decimal and text converted).

    Raises:
        InvalidInput: a column the model needs is missing from the input altogether.
    """
    import pandas as pd

    missing = [c for c in [*keys, *(f.name for f in fields), *required] if c not in frame]
    if missing:
        raise InvalidInput(
            f"the input has no column {', '.join(dict.fromkeys(missing))}",
            hint=f"the input has {', '.join(map(str, frame.columns[:20]))}; "
            "select the columns the model needs (input_schema and entity_key)",
        )
    rows = len(frame)
    reason = np.full(rows, None, dtype=object)
    flag_parts: list[np.ndarray] = []
    for key in keys:
        _first(reason, frame[key].isna().to_numpy(), f"{key}: the entity key is missing")
    original = frame
    frame = frame.copy(deep=False)
    for field in fields:
        values, problems = _field(frame[field.name], field)
        frame[field.name] = values
        for bad, text in problems:
            if field.on_invalid == "flag":
                part = np.full(len(bad), None, dtype=object)
                part[bad] = f"{field.name}: {text}"
                flag_parts.append(part)
            else:
                _first(reason, bad, f"{field.name}: {text}")
    ok = pd.isna(reason)
    flags = None
    if any(f.on_invalid == "flag" for f in fields):
        joined: list[str | None] = [None] * rows
        for part in flag_parts:
            for i in np.flatnonzero(pd.notna(part)):
                joined[i] = part[i] if joined[i] is None else f"{joined[i]}; {part[i]}"
        flags = np.asarray(joined, dtype=object)[ok]
    return Checked(
        good=frame[ok],
        rejected=original[~ok],
        reasons=reason[~ok],
        flags=flags,
    )


def _first(reason: np.ndarray, bad: np.ndarray, text: str) -> None:
    """Record ``text`` for bad rows that have no reason yet (the first problem wins)."""
    if bad.any():
        import pandas as pd

        reason[bad & pd.isna(reason)] = text


def _field(series: pd.Series, field: InputField) -> tuple[pd.Series, list[tuple[np.ndarray, str]]]:
    import pandas as pd

    null = series.isna().to_numpy()
    problems: list[tuple[np.ndarray, str]] = []
    if field.required:
        problems.append((null, "is required"))
    kind = field.type
    if kind in ("float", "int"):
        if series.dtype == bool:
            return series, [*problems, (~null, "is not a number (true/false)")]
        numbers = pd.to_numeric(series, errors="coerce")
        problems.append((numbers.isna().to_numpy() & ~null, "is not a number"))
        values = numbers.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(values)
        problems.append((~finite & ~np.isnan(values), "is not a finite number"))
        if kind == "int":
            problems.append((finite & (values != np.round(values)), "is not a whole number"))
        if isinstance(field.min, int | float):
            problems.append((finite & (values < field.min), f"is below the minimum {field.min}"))
        if isinstance(field.max, int | float):
            problems.append((finite & (values > field.max), f"is above the maximum {field.max}"))
        return numbers, problems
    if kind == "bool":
        known = series.isin([True, False]).to_numpy()
        return series, [*problems, (~known & ~null, "is not true or false")]
    if kind == "datetime":
        parsed = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
        return series, [*problems, (parsed.isna().to_numpy() & ~null, "is not a date/time")]
    if field.categories is not None:
        allowed = {str(c) for c in field.categories}
        known = series.astype(str).isin(allowed).to_numpy()
        problems.append((~known & ~null, "is not a known category"))
    return series, problems
