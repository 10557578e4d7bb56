"""The control-plane API fuzzed from its OpenAPI document (schemathesis), on SQLite and
PostgreSQL: no 5xx, and every status and body as declared. See tests/fuzzing.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from fuzzing import fuzz
from lightkeeper import Lightkeeper
from lightkeeper.testing import ADMIN
from lightkeeper.web.api import build_api

NAMES = {"models": "credit-risk", "gold": "credit-gold", "deployments": "credit-risk-online"}


def _known(path: str) -> dict[str, Any] | None:
    """The name of a thing the workspace below holds, for a path with ``{name}`` (version
    numbers and ids are left to the generator)."""
    resource = path.removeprefix("/api/v1/").split("/")[0]
    if "{name}" not in path or resource not in NAMES:
        return None
    return {"name": NAMES[resource]}


@pytest.mark.both_databases
def test_the_control_plane_api_answers_every_generated_request_as_documented(
    lk: Lightkeeper, project: Path, serve
) -> None:
    lk.training.train(project, by=ADMIN)
    frame = pd.DataFrame(
        {"income": [10.0, 80.0], "age": [30, 50], "region": ["north", "south"], "defaulted": [1, 0]}
    )
    lk.gold.add(
        "credit-gold", frame, owner="risk", label_column="defaulted", project_dir=project, by=ADMIN
    )
    lk.releases.create("credit-risk-online", model="credit-risk", kind="online", by=ADMIN)
    lk.access.create("fuzz", "operator", by=ADMIN)
    base = serve(build_api(lk))

    failures, seconds = fuzz(
        base,
        examples=12,
        known=_known,
        slow=frozenset({"POST /api/v1/models/{name}/versions/{version}/gate"}),
    )

    assert not failures, "\n\n".join(failures)
    spec = httpx.get(f"{base}/openapi.json", timeout=30).json()
    operations = {f"{m.upper()} {p}" for p, item in spec["paths"].items() for m in item}
    assert set(seconds) == operations and len(operations) > 30  # every operation was fuzzed
    # the workspace still answers: nothing the fuzzer sent broke it
    assert httpx.get(f"{base}/api/v1/health", timeout=30).json()["status"] == "ok"
