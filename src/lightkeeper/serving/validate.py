"""Request rows against the manifest's input schema: a client mistake is a 4xx naming the field."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from lightkeeper.errors import InvalidInput, PayloadTooLarge
from lightkeeper.manifest import InputField, Manifest

MAX_ROWS = 10_000


class RowValidator:
    """Checks request rows against one version's input schema and model features.

    Built once per loaded version (category sets included), used on every request.
    """

    def __init__(self, manifest: Manifest | None, features: list[str] | None) -> None:
        self.fields = manifest.input_schema if manifest is not None else []
        self.categories = {
            f.name: {str(c) for c in f.categories} for f in self.fields if f.categories is not None
        }
        declared = {f.name for f in self.fields}
        # model features the schema does not cover still have to be sent
        self.extra_features = [n for n in features or [] if n not in declared]

    def check(self, rows: list[Any]) -> list[list[str]] | None:
        """Validate records; returns per-row flags (fields kept under ``on_invalid: flag``),
        ``None`` when no row has any.

        Raises:
            InvalidInput: the first rejected field, named as ``rows[i].field``.
            PayloadTooLarge: more than :data:`MAX_ROWS` rows.
        """
        if not rows:
            raise InvalidInput("the request has no rows", hint="send at least one record")
        if len(rows) > MAX_ROWS:
            raise PayloadTooLarge(
                f"the request has {len(rows):,} rows, more than {MAX_ROWS:,}",
                hint="split it, or score large sets with a batch deployment",
            )
        flags: list[list[str]] = []
        flagged = False
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                raise InvalidInput(
                    f"rows[{index}] is a {type(row).__name__}, not an object",
                    hint='send records like {"feature": value, ...}',
                )
            row_flags: list[str] = []
            for field in self.fields:
                problem = _problem(field, row.get(field.name), self.categories.get(field.name))
                if problem is None:
                    continue
                if field.on_invalid == "flag" and field.name in row:
                    row_flags.append(f"{field.name}: {problem}")
                    continue
                raise InvalidInput(f"rows[{index}].{field.name}: {problem}", hint=_expected(field))
            for name in self.extra_features:
                if name not in row:
                    raise InvalidInput(
                        f"rows[{index}].{name}: is required by the model",
                        hint=f"send every feature the model reads, {name} included",
                    )
            flags.append(row_flags)
            flagged = flagged or bool(row_flags)
        return flags if flagged else None


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
