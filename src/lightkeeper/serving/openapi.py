"""What the model server's OpenAPI document says about scoring.

``POST /predict`` and ``/invocations`` are answered by the server's own ASGI handler, not
by FastAPI (see :class:`lightkeeper.serving.app.ServingApp`), so FastAPI cannot infer
their bodies; these schemas describe them. A row is an object of input fields; which
fields a deployment takes depends on the version it serves (``GET /readyz`` names it),
so rows are described as objects, and the answer names every field that was wrong.
"""

from __future__ import annotations

from typing import Any

from lightkeeper.asgi import errors

_ROW: dict[str, Any] = {
    "type": "object",
    "description": "one record: input field -> value (the served version's input schema)",
    "additionalProperties": True,
    "example": {"income": 40.0, "age": 35, "region": "south"},
}
_ROWS: dict[str, Any] = {"type": "array", "items": _ROW, "maxItems": 10_000}
_COLUMNS: dict[str, Any] = {
    "type": "object",
    "description": "columns: field -> list of values, one per row (equal lengths)",
    "additionalProperties": {"type": "array"},
}


def _json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


PREDICT_BODY = _json_body(
    {
        "oneOf": [
            _ROW,
            _ROWS,
            {
                "type": "object",
                "required": ["rows"],
                "properties": {"rows": _ROWS},
                "additionalProperties": False,
            },
        ]
    },
    'one record (an object), many (a list), or {"rows": [...]}; at most 10,000 rows and '
    "10 MB. Headers: X-Request-Id (1-100 characters, else generated), X-Routing-Key (or "
    "?key=) keeps a caller on one arm of a canary.",
)

INVOCATIONS_BODY = _json_body(
    {
        "type": "object",
        "description": "exactly one of MLflow's input formats",
        "minProperties": 1,
        "maxProperties": 1,
        "properties": {
            "dataframe_split": {
                "type": "object",
                "required": ["columns", "data"],
                "properties": {
                    "columns": {"type": "array", "items": {"type": "string"}},
                    "data": {"type": "array", "items": {"type": "array"}},
                },
            },
            "dataframe_records": _ROWS,
            "instances": {"oneOf": [_ROWS, _COLUMNS]},
            "inputs": {"oneOf": [_ROWS, _COLUMNS]},
        },
        "additionalProperties": False,
    },
    "MLflow's scoring formats: dataframe_split, dataframe_records, instances or inputs",
)

_SCORED: dict[str, Any] = {
    "type": "object",
    "required": ["request_id", "model", "version", "arm", "predictions"],
    "properties": {
        "request_id": {"type": "string"},
        "model": {"type": "string"},
        "version": {"type": "integer"},
        "arm": {"type": "string", "enum": ["champion", "challenger"]},
        "predictions": {"type": "array", "description": "one output per row, in order"},
        "flags": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "string"}},
            "description": "per row: fields that broke the input schema under on_invalid: flag",
        },
    },
}

SCORING_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The predictions, with the version and arm that made them",
        "content": {"application/json": {"schema": _SCORED}},
    },
    **errors.responses(401, 403, 413, 422, 500, 503),
}

READY_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "No model is ready: the same body, with detail saying why",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
}

METRICS_TEXT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Prometheus' text format",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
}
