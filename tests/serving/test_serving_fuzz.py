"""The model server fuzzed from its OpenAPI document (schemathesis): no 5xx, and every
status and body as declared, /predict and /invocations included. See tests/fuzzing.py."""

from __future__ import annotations

import httpx

from fuzzing import fuzz
from lightkeeper import Lightkeeper
from lightkeeper.testing import OPERATOR
from support import ROW


def test_the_model_server_answers_every_generated_request_as_documented(
    lk: Lightkeeper, serve
) -> None:
    lk.releases.release("credit-online", 1, reason="fuzz", by=OPERATOR)
    base = serve(lk.serving_app("credit-online"))
    spec = httpx.get(f"{base}/openapi.json", timeout=30).json()
    for path in ("/predict", "/invocations"):
        assert "requestBody" in spec["paths"][path]["post"], path

    failures, seconds = fuzz(base, examples=30)

    assert not failures, "\n\n".join(failures)
    operations = {f"{m.upper()} {p}" for p, item in spec["paths"].items() for m in item}
    assert set(seconds) == operations  # every operation was fuzzed
    # still serving: nothing the fuzzer sent broke it
    answer = httpx.post(f"{base}/predict", json=ROW, timeout=30)
    assert answer.status_code == 200 and answer.json()["version"] == 1
