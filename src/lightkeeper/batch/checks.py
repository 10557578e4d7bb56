"""Chunk validation against the input schema, column by column (no Python loop per row).

The rules are the online ones (:mod:`lightkeeper.inputs`): a missing required value, a
wrong type, a non-finite or too large number, a value out of range or an unknown
category rejects the row with the first reason. Under ``on_invalid: flag`` a value the
model can take (out of range, unknown category) is kept and the problem recorded in the
``flags`` column; a value it cannot take is replaced by the field's ``impute`` value and
flagged, or, without ``impute``, rejects the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from lightkeeper.errors import InvalidInput
from lightkeeper.inputs import FLOAT_LIMIT, impute_value

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
        unusable = np.zeros(rows, dtype=bool)
        for bad, text, usable in problems:
            if field.on_invalid == "flag" and (usable or field.impute is not None):
                bad = bad & ~unusable  # the first problem of a value names it
                part = np.full(len(bad), None, dtype=object)
                part[bad] = f"{field.name}: {text}" + ("" if usable else "; imputed")
                flag_parts.append(part)
                if not usable:
                    unusable |= bad
            else:
                _first(reason, bad, f"{field.name}: {text}")
        if unusable.any():
            values = values.astype(object) if impute_value(field) is not None else values
            values = values.mask(unusable, impute_value(field))
            if field.type in ("float", "int"):
                values = pd.to_numeric(values)
        frame[field.name] = values
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


Problems = list[tuple[np.ndarray, str, bool]]  # (rows, what is wrong, the model can take it)


def _field(series: pd.Series, field: InputField) -> tuple[pd.Series, Problems]:
    import pandas as pd

    null = series.isna().to_numpy()
    problems: Problems = []
    if field.required:
        problems.append((null, "is required", False))
    kind = field.type
    if kind in ("float", "int"):
        if series.dtype == bool:
            return series, [*problems, (~null, "is not a number (true/false)", False)]
        numbers = _numbers(series)
        problems.append((numbers.isna().to_numpy() & ~null, "is not a number", False))
        values = numbers.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(values)
        problems.append((~finite & ~np.isnan(values), "is not a finite number", False))
        huge = finite & (np.abs(values) > FLOAT_LIMIT)
        problems.append((huge, "is beyond the largest number a model takes (3.4e38)", False))
        finite &= ~huge
        if kind == "int":
            whole = finite & (values != np.round(values))
            problems.append((whole, "is not a whole number", False))
        if isinstance(field.min, int | float):
            low = finite & (values < field.min)
            problems.append((low, f"is below the minimum {field.min}", True))
        if isinstance(field.max, int | float):
            high = finite & (values > field.max)
            problems.append((high, f"is above the maximum {field.max}", True))
        return numbers, problems
    if kind == "bool":
        if series.dtype == bool:
            return series, problems
        if series.dtype == object:  # 1 and 0 compare equal to True and False: not booleans
            known = series.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)
        else:
            known = np.zeros(len(series), dtype=bool)
        return series, [*problems, (~known & ~null, "is not true or false", False)]
    if kind == "datetime":
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            bad = ~null  # numbers would be read as nanoseconds since 1970
        else:
            texts = series.map(lambda v: v if isinstance(v, str) else None)
            parsed = pd.to_datetime(texts, errors="coerce", utc=True, format="mixed")
            dated = series.map(lambda v: hasattr(v, "isoformat")).to_numpy(dtype=bool)
            bad = parsed.isna().to_numpy() & ~null & ~dated
        return series, [*problems, (bad, "is not a date/time", False)]
    if series.dtype == object:
        nested = series.map(lambda v: isinstance(v, dict | list | tuple | bytes)).to_numpy()
        problems.append((nested, "is not text", False))
    if field.categories is not None:
        allowed = {str(c) for c in field.categories}
        known = series.astype(str).isin(allowed).to_numpy()
        problems.append((~known & ~null, "is not a known category", True))
        series = _as_declared(series, field.categories, null)
    elif kind == "str" and pd.api.types.is_numeric_dtype(series):
        series = series.astype(object).where(~null, None).map(lambda v: v if v is None else str(v))
    return series, problems


def _numbers(series: pd.Series) -> pd.Series:
    """Numbers of a column; what is not one (text, true/false, a list) becomes missing."""
    import pandas as pd

    if series.dtype == object:
        series = series.map(lambda v: None if isinstance(v, bool | np.bool_) else v)
    try:
        return pd.to_numeric(series, errors="coerce")
    except (ArithmeticError, ValueError, TypeError):  # Decimal('sNaN'), ints past 1e308
        return pd.to_numeric(series.map(_number), errors="coerce")


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (ArithmeticError, ValueError, TypeError):
        return None


def _as_declared(series: pd.Series, categories: list[Any], null: np.ndarray) -> pd.Series:
    """Category values as the manifest declares them (text for text labels, numbers for
    numbers), so an encoder fitted on one never sees the other."""
    import pandas as pd

    kinds = {type(c) for c in categories}
    numeric = pd.api.types.is_numeric_dtype(series)
    if kinds == {str} and numeric:
        return series.astype(object).where(~null, None).map(lambda v: v if v is None else str(v))
    if str not in kinds and not numeric:
        labels = {str(c): c for c in categories}
        return series.map(lambda v: labels.get(str(v), v) if v is not None else v)
    return series
