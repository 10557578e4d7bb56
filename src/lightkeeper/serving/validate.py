"""Request rows against the manifest's input schema: a client mistake is a 4xx naming the field.

The rules themselves live in :mod:`lightkeeper.inputs` (shared with batch and the gate).
"""

from __future__ import annotations

from typing import Any

from lightkeeper.errors import InvalidInput, PayloadTooLarge
from lightkeeper.inputs import expected, impute_value, problem, scalar_problem
from lightkeeper.manifest import Manifest

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
