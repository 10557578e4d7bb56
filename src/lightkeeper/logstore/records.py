"""Prediction records as Arrow columns, and back.

Each input feature is a column of its own, named ``input.<feature>``, so a drift check
reads only the features it watches. A column holds the type its values have (numbers,
text, true/false); a feature whose values in one batch do not share a type (or are
lists or objects) is kept as JSON text under ``input_json.<feature>``. The output works
the same way (``output``, else ``output_json``). Flags are JSON text.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from lightkeeper.store.predictions import PredictionRecord

INPUT = "input."
INPUT_JSON = "input_json."
OUTPUT = "output"
OUTPUT_JSON = "output_json"
BASE = ("id", "at", "request_id", "row", "version", "arm", "latency_ms", "error", "flags")
TIME = pa.timestamp("us", tz="UTC")


def new_ids(count: int) -> list[int]:
    """Random positive 63-bit ids: unique without coordination between servers."""
    raw = np.frombuffer(os.urandom(8 * count), dtype=np.int64) & np.int64(0x7FFF_FFFF_FFFF_FFFF)
    return [int(v) or 1 for v in raw]


def to_table(records: Sequence[PredictionRecord], ids: Sequence[int]) -> pa.Table:
    """The records as one Arrow table (column order: the base, the output, the inputs)."""
    columns: dict[str, pa.Array] = {
        "id": pa.array(ids, pa.int64()),
        "at": pa.array([r.at for r in records], TIME),
        "request_id": pa.array([r.request_id for r in records], pa.string()),
        "row": pa.array([r.row for r in records], pa.int32()),
        "version": pa.array([r.version for r in records], pa.int32()),
        "arm": pa.array([r.arm for r in records], pa.string()),
        "latency_ms": pa.array([float(r.latency_ms) for r in records], pa.float64()),
        "error": pa.array([r.error for r in records], pa.string()),
        "flags": pa.array(
            [orjson.dumps(r.flags).decode() if r.flags else None for r in records], pa.string()
        ),
    }
    typed = _typed(OUTPUT, OUTPUT_JSON, [r.output for r in records])
    if typed is not None:
        columns[typed[0]] = typed[1]
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record.inputs))
    for feature in names:
        values = [r.inputs.get(feature) for r in records]
        typed = _typed(INPUT + feature, INPUT_JSON + feature, values)
        if typed is not None:
            columns[typed[0]] = typed[1]
    return pa.table(columns)


def _typed(name: str, json_name: str, values: list[Any]) -> tuple[str, pa.Array] | None:
    """The values as a typed column, or as JSON text when they share no simple type;
    ``None`` when every value is missing (a column of nothing would have no type, and a
    reader sees a column absent from a file as missing anyway)."""
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        array = None
    if array is not None and pa.types.is_null(array.type):
        return None
    simple = array is not None and (
        pa.types.is_integer(array.type)
        or pa.types.is_floating(array.type)
        or pa.types.is_boolean(array.type)
        or pa.types.is_string(array.type)
    )
    if simple and array is not None:
        return name, array
    text = [None if v is None else orjson.dumps(v, default=str).decode() for v in values]
    return json_name, pa.array(text, pa.string())


def to_records(table: pa.Table, deployment: str) -> list[PredictionRecord]:
    """Records back from a table read from the logs (inputs without their missing values)."""
    data = table.to_pydict()
    rows = table.num_rows
    inputs: list[dict[str, Any]] = [{} for _ in range(rows)]
    for column, values in data.items():
        if column.startswith(INPUT):
            feature, decode = column[len(INPUT) :], False
        elif column.startswith(INPUT_JSON):
            feature, decode = column[len(INPUT_JSON) :], True
        else:
            continue
        for i, value in enumerate(values):
            if value is not None:
                inputs[i][feature] = orjson.loads(value) if decode else value
    outputs = data.get(OUTPUT, [None] * rows)
    json_outputs = data.get(OUTPUT_JSON, [None] * rows)
    records = []
    for i in range(rows):
        output = outputs[i]
        if output is None and json_outputs[i] is not None:
            output = orjson.loads(json_outputs[i])
        flags = data["flags"][i]
        records.append(
            PredictionRecord(
                at=data["at"][i],
                deployment=deployment,
                request_id=data["request_id"][i],
                row=data["row"][i],
                version=data["version"][i],
                arm=data["arm"][i],
                inputs=inputs[i],
                output=output,
                latency_ms=data["latency_ms"][i],
                error=data["error"][i],
                flags=orjson.loads(flags) if flags else None,
            )
        )
    return records
