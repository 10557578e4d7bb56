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

:class:`RowValidator` applies the rules to a request's rows (the model server, and the
gate's contract check, which sends every kind of mistake through it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from lightkeeper.errors import InvalidInput, PayloadTooLarge

FLOAT_LIMIT = 3.4e38  # float32's largest finite value is 3.4028e38
MISSING = "missing"  # ``impute: missing``: the model gets a missing value


class Field(Protocol):
    """What the rules read of an input field: a manifest's
    :class:`~lightkeeper.manifest.InputField` (the manifest checks its own ``impute``
    values with these rules, so this module does not import it)."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def required(self) -> bool: ...
    @property
    def min(self) -> Any: ...
    @property
    def max(self) -> Any: ...
    @property
    def categories(self) -> list[Any] | None: ...
    @property
    def on_invalid(self) -> str: ...
    @property
    def impute(self) -> Any: ...


class Schema(Protocol):
    """What :class:`RowValidator` reads of a manifest."""

    @property
    def input_schema(self) -> Sequence[Field]: ...


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one value, and whether the model can take it anyway."""

    text: str
    usable: bool


def problem(field: Field, value: Any, categories: set[str] | None = None) -> Problem | None:
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
        if field.min is not None and number < field.min:
            return Problem(f"{_show(value)} is below the minimum {field.min}", usable=True)
        if field.max is not None and number > field.max:
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


def impute_value(field: Field) -> Any:
    """The value the model gets in place of one it cannot take (``None`` for ``missing``)."""
    return None if field.impute == MISSING else field.impute


def expected(field: Field) -> str:
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


# -- request rows ------------------------------------------------------------------
MAX_ROWS = 10_000


class RowValidator:
    """Checks request rows against one version's input schema and model features.

    Built once per loaded version (category sets included), used on every request.
    """

    def __init__(self, manifest: Schema | None, features: list[str] | None) -> None:
        self.fields: Sequence[Field] = manifest.input_schema if manifest is not None else []
        self.categories = {
            f.name: {str(c) for c in f.categories} for f in self.fields if f.categories is not None
        }
        # a category is given to the model as declared: 1 for "1" when the manifest says
        # [1, 2], "1" for 1 when it says ["1", "2"] (an encoder fitted on text raises on 1)
        self.labels = {
            f.name: {str(c): c for c in f.categories}
            for f in self.fields
            if f.categories is not None
        }
        self.text = [f.name for f in self.fields if f.type == "str"]
        declared = {f.name for f in self.fields}
        # model features the schema does not cover still have to be sent
        self.extra_features = [n for n in features or [] if n not in declared]

    def check(self, rows: list[Any]) -> list[list[str]] | None:
        """Validate records, imputing where the manifest says; returns per-row flags.

        Flags name the fields kept (or imputed) under ``on_invalid: flag``; ``None`` when
        no row has any. Imputed values replace the sent ones in ``rows``.

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
                value = row.get(field.name)
                found = problem(field, value, self.categories.get(field.name))
                if found is None:
                    if value is not None and field.name in self.labels:
                        row[field.name] = self.labels[field.name][str(value)]
                    elif field.name in self.text and not isinstance(value, str | None):
                        row[field.name] = str(value)
                    continue
                if field.on_invalid == "flag":
                    if found.usable:
                        row_flags.append(f"{field.name}: {found.text}")
                        continue
                    if field.impute is not None:
                        value = impute_value(field)
                        row[field.name] = value
                        row_flags.append(f"{field.name}: {found.text}; imputed {value!r}")
                        continue
                raise InvalidInput(
                    f"rows[{index}].{field.name}: {found.text}", hint=expected(field)
                )
            for name in self.extra_features:
                if name not in row:
                    raise InvalidInput(
                        f"rows[{index}].{name}: is required by the model",
                        hint=f"send every feature the model reads, {name} included",
                    )
                wrong = scalar_problem(row[name])
                if wrong is not None:
                    raise InvalidInput(
                        f"rows[{index}].{name}: {wrong.text}",
                        hint="send a number, text, true/false or null",
                    )
            flags.append(row_flags)
            flagged = flagged or bool(row_flags)
        return flags if flagged else None
