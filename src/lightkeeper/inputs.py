"""What an input value may be: the one set of rules for online requests, batch rows and the gate.

A problem with a value is one of two kinds. A value the model *can take* is of the
field's type but outside the manifest's policy (below ``min``, above ``max``, an unknown
category). A value the model *cannot take* is of the wrong type: a missing required
value, text or a list in a number field, a non-finite number, a number beyond float32's
range (trees in scikit-learn, XGBoost and LightGBM read float32, so 1e308 would crash
them), a fraction in an int field, a nested value anywhere.

``on_invalid: reject`` refuses the row on either kind. ``on_invalid: flag`` keeps a
value the model can take and notes it in the row's flags; a value it cannot take is
replaced by the field's ``impute`` value (``missing`` gives the model a missing value)
and flagged, or, without ``impute``, refuses the row. A client's mistake is therefore
always a 4xx online and a reject in batch, never an error of the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lightkeeper.manifest import InputField

FLOAT_LIMIT = 3.4e38  # float32's largest finite value is 3.4028e38
MISSING = "missing"  # ``impute: missing``: the model gets a missing value


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one value, and whether the model can take it anyway."""

    text: str
    usable: bool


def problem(field: InputField, value: Any, categories: set[str] | None = None) -> Problem | None:
    """The problem with ``value`` for ``field``, ``None`` when it satisfies the schema.

    ``categories`` is the field's categories as text (pass it precomputed on hot paths).
    """
    if value is None:
        return Problem("is required", usable=False) if field.required else None
    kind = field.type
    if isinstance(value, dict | list):
        return Problem(f"is a nested {_json_kind(value)}, not a {kind} value", usable=False)
    if kind in ("float", "int"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return Problem(f"{_show(value)} is not a number", usable=False)
        number = float(value) if abs(value) < 1e300 or isinstance(value, float) else math.inf
        if not math.isfinite(number):
            return Problem(f"{_show(value)} is not a finite number", usable=False)
        if abs(number) > FLOAT_LIMIT:
            return Problem(
                f"{_show(value)} is beyond the largest number a model takes (3.4e38)",
                usable=False,
            )
        if kind == "int" and not (isinstance(value, int) or number.is_integer()):
            return Problem(f"{_show(value)} is not a whole number", usable=False)
        if field.min is not None and number < field.min:  # type: ignore[operator]  # numeric bounds on numeric fields (manifest check)
            return Problem(f"{_show(value)} is below the minimum {field.min}", usable=True)
        if field.max is not None and number > field.max:  # type: ignore[operator]
            return Problem(f"{_show(value)} is above the maximum {field.max}", usable=True)
        return None
    if kind == "bool":
        if not isinstance(value, bool):
            return Problem(f"{_show(value)} is not true or false", usable=False)
        return None
    if kind == "datetime":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return Problem(f"{_show(value)} is not an ISO date/time", usable=False)
        try:
            datetime.fromisoformat(str(value))
        except ValueError:
            return Problem(f"{_show(value)} is not an ISO date/time", usable=False)
        return None
    # str and category
    if isinstance(value, bool) or not isinstance(value, str | int):
        return Problem(f"{_show(value)} is not text", usable=False)
    if kind == "category":
        known = categories if categories is not None else _as_text(field.categories)
        if str(value) not in known:
            return Problem(f"{_show(value)} is not a known category", usable=True)
    return None


def impute_value(field: InputField) -> Any:
    """The value the model gets in place of one it cannot take (``None`` for ``missing``)."""
    return None if field.impute == MISSING else field.impute


def expected(field: InputField) -> str:
    """What the field takes, for an error's hint."""
    parts: list[str] = [field.type]
    if field.min is not None or field.max is not None:
        parts.append(f"from {field.min} to {field.max}")
    if field.categories is not None:
        parts.append("one of " + ", ".join(map(str, field.categories)))
    hint = f"{field.name} must be " + " ".join(parts)
    if field.on_invalid == "flag" and field.impute is None:
        hint += (
            "; on_invalid: flag keeps only values the model can take (set impute to score others)"
        )
    return hint


def scalar_problem(value: Any) -> Problem | None:
    """The problem of a value for a model feature the schema does not declare."""
    if value is None or isinstance(value, str | bool):
        return None
    if isinstance(value, int | float):
        number = float(value) if abs(value) < 1e300 or isinstance(value, float) else math.inf
        if not math.isfinite(number) or abs(number) > FLOAT_LIMIT:
            return Problem(f"{_show(value)} is not a finite number a model takes", usable=False)
        return None
    return Problem(f"is a nested {_json_kind(value)}, not a single value", usable=False)


def _as_text(categories: list[Any] | None) -> set[str]:
    return {str(c) for c in categories or []}


def _json_kind(value: Any) -> str:
    return "object" if isinstance(value, dict) else "list" if isinstance(value, list) else "value"


def _show(value: Any) -> str:
    """A value for a message, cut short: a client may send megabytes of text."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
