"""Fuzzing an HTTP API from its own OpenAPI document with schemathesis, within a budget.

Each operation gets a bounded number of generated requests (hypothesis, derandomized so a
CI run repeats the last one), valid by the schema and, separately, breaking it. Checked:
no 5xx, every status is declared, every body has the declared media type and schema.
Not checked, on purpose: that schema-valid requests succeed (a well-formed name of a model
that does not exist is rightly a 404, a revoked token's id a 422) and that every
schema-breaking request is refused (parsing is lenient where it helps: ``since=1700000000``
is read as a Unix time).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


def fuzz(
    base_url: str,
    *,
    examples: int,
    known: Callable[[str], Mapping[str, Any] | None] = lambda _path: None,
    slow: frozenset[str] = frozenset(),
) -> tuple[list[str], dict[str, float]]:
    """Fuzz every operation of the API at ``base_url``; returns (failures, seconds per
    operation).

    Args:
        examples: generated requests per operation and mode (valid, invalid).
        known: path parameters of things that exist, for an operation's path (or None);
            such operations get a third round with those, so generated bodies and queries
            reach past "not found".
        slow: operations (``"POST /path"``) that get no third round (they start real work).
    """
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: list[str] = []
    seconds: dict[str, float] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        started = time.monotonic()
        rounds: list[tuple[GenerationMode, Mapping[str, Any] | None]] = [
            (GenerationMode.POSITIVE, None),
            (GenerationMode.NEGATIVE, None),
        ]
        fixed = known(operation.path)
        if fixed and operation.label not in slow:
            rounds.append((GenerationMode.POSITIVE, fixed))
        for mode, path_parameters in rounds:
            strategy = operation.as_strategy(
                generation_mode=mode, path_parameters=dict(path_parameters or {}) or None
            )
            try:
                _run(strategy, examples)
            except Unsatisfiable:
                pass  # nothing in this operation can be made invalid (no parameters)
            except BaseExceptionGroup as group:  # schemathesis' FailureGroup
                failures.append(f"{operation.label} ({mode.value}): {group}")
            except AssertionError as exc:
                failures.append(f"{operation.label} ({mode.value}): {exc}")
        seconds[operation.label] = round(time.monotonic() - started, 2)
    return failures, seconds


def _run(strategy: Any, examples: int) -> None:
    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate(checks=CHECKS, timeout=30)

    check()
