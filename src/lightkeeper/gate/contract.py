"""Probe rows for the input contract: every row that satisfies the input schema must score."""

from __future__ import annotations

import math
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
            values = [math.ceil(low_f), math.floor(high_f), round(middle)]
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
    if field.on_invalid == "flag":
        values.extend(_flagged(field, values))
    return values


def probe_rows(manifest: Manifest, gold: pd.DataFrame) -> pd.DataFrame:
    """Rows that satisfy the schema: a typical gold row, varied one field at a time.

    Each field runs through its edge values (bounds and midpoint, every category, both
    booleans, missing where the field is optional) while the others keep typical values.
    A field declared ``on_invalid: flag`` also runs through what that policy lets reach
    the model: values beyond its bounds, an unknown category, its ``impute`` value.
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


UNKNOWN = "__lightkeeper_unknown__"


def _flagged(field: InputField, edges: list[Any]) -> list[Any]:
    """What the model gets from a field declared ``on_invalid: flag`` beyond its policy.

    Values it can take are kept (below ``min``, above ``max``, an unknown category); a
    value it cannot take (null, text in a number field, a list, a non-finite or huge
    number) becomes the ``impute`` value, or is refused, and then nothing of it reaches
    the model. The rules are :mod:`lightkeeper.inputs`, the same online and in batch.
    """
    from lightkeeper.inputs import impute_value

    kept: list[Any] = []
    if field.type in ("float", "int"):
        numbers = [float(v) for v in edges if isinstance(v, int | float)]
        step = max(max(numbers) - min(numbers), 1.0) if numbers else 1.0
        whole = int if field.type == "int" else float
        if isinstance(field.min, int | float):
            kept.append(whole(field.min - step))
        if isinstance(field.max, int | float):
            kept.append(whole(field.max + step))
    elif field.type == "category":
        kept.append(UNKNOWN)
    if field.impute is not None:
        kept.append(impute_value(field))
    return kept


#: What a client may send by mistake; each must be refused, or imputed under ``flag``.
MISTAKES: list[tuple[str, Any]] = [
    ("null", None),
    ("text", "not-a-value"),
    ("list", [1.0]),
    ("object", {"a": 1.0}),
    ("infinity", float("inf")),
    ("1e308", 1e308),
    ("true", True),
    ("nested", [[[[[1.0]]]]]),
]


def client_mistakes(manifest: Manifest, gold: pd.DataFrame) -> list[dict[str, Any]]:
    """Each field's answer to each client mistake, through the serving validator.

    One typical gold row varied one field at a time, as online requests arrive. The
    outcome is ``refused`` (a 4xx online, a reject in batch), ``imputed`` (under
    ``on_invalid: flag`` with ``impute``) or ``kept`` (a value the model can take, such
    as text in a text field); ``reached the model`` would be a bug, and fails the check.
    """
    from lightkeeper.errors import LightkeeperError
    from lightkeeper.inputs import RowValidator, problem

    validator = RowValidator(manifest, manifest.feature_names)
    base = {k: _plain(v) for k, v in gold.iloc[0][manifest.feature_names].to_dict().items()}
    outcomes = []
    for field in manifest.input_schema:
        for label, value in MISTAKES:
            row = {**base, field.name: value}
            try:
                flags = validator.check([row])
            except LightkeeperError:
                outcome = "refused"
            else:
                found = problem(field, value)
                if found is None or found.usable:
                    outcome = "kept"
                elif flags and any("imputed" in f for f in flags[0]):
                    outcome = "imputed"
                else:
                    outcome = "reached the model"
            outcomes.append({"field": field.name, "value": label, "outcome": outcome})
    return outcomes


def _plain(value: Any) -> Any:
    """A gold value as a request would carry it (numpy scalars to Python, NaN to null)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
