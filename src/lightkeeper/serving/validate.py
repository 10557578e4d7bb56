"""Request rows against the manifest's input schema: a client mistake is a 4xx naming the field."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from lightkeeper.errors import InvalidInput, PayloadTooLarge
from lightkeeper.manifest import InputField, Manifest

MAX_ROWS = 10_000


def check_rows(rows: list[Any], manifest: Manifest) -> list[list[str]]:
    """Validate records; returns per-row flags (fields accepted despite ``on_invalid: flag``).

    Raises:
        InvalidInput: the first rejected field, named as ``rows[i].field``.
    """
    if not rows:
        raise InvalidInput("the request has no rows", hint="send at least one record")
    if len(rows) > MAX_ROWS:
        raise PayloadTooLarge(
            f"the request has {len(rows):,} rows, more than {MAX_ROWS:,}",
            hint="split it, or score large sets with a batch deployment",
        )
    allowed = {
        f.name: {str(c) for c in f.categories}
        for f in manifest.input_schema
        if f.categories is not None
    }
    flags: list[list[str]] = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidInput(
                f"rows[{index}] is a {type(row).__name__}, not an object",
                hint='send records like {"feature": value, ...}',
            )
        row_flags: list[str] = []
        for field in manifest.input_schema:
            problem = _problem(field, row.get(field.name), allowed.get(field.name))
            if problem is None:
                continue
            where = f"rows[{index}].{field.name}"
            if field.on_invalid == "flag" and field.name in row:
                row_flags.append(f"{field.name}: {problem}")
                continue
            raise InvalidInput(f"{where}: {problem}", hint=_expected(field))
        flags.append(row_flags)
    return flags


def _problem(field: InputField, value: Any, categories: set[str] | None) -> str | None:
    if value is None:
        return "is required" if field.required else None
    kind = field.type
    if kind == "float" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return f"{value!r} is not a number"
    if kind == "float" and not math.isfinite(float(value)):
        return f"{value!r} is not a finite number"
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "int" and (isinstance(value, bool) or not whole):
        return f"{value!r} is not a whole number"
    if kind == "bool" and not isinstance(value, bool):
        return f"{value!r} is not true or false"
    if kind in ("str", "category") and not isinstance(value, str | int):
        return f"{value!r} is not text"
    if kind == "datetime":
        try:
            datetime.fromisoformat(str(value))
        except ValueError:
            return f"{value!r} is not an ISO date/time"
        return None
    if kind in ("float", "int"):
        if field.min is not None and value < field.min:
            return f"{value} is below the minimum {field.min}"
        if field.max is not None and value > field.max:
            return f"{value} is above the maximum {field.max}"
    if categories is not None and str(value) not in categories:
        return f"{value!r} is not a known category"
    return None


def _expected(field: InputField) -> str:
    parts: list[str] = [field.type]
    if field.min is not None or field.max is not None:
        parts.append(f"from {field.min} to {field.max}")
    if field.categories is not None:
        parts.append("one of " + ", ".join(map(str, field.categories)))
    return f"{field.name} must be " + " ".join(parts)
