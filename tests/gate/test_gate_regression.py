"""A regression model through the gate, with a custom metric from the project."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lightkeeper import Lightkeeper
from lightkeeper.testing import ADMIN

MANIFEST = """\
name: prices
kind: batch
owner: pricing@example.com
entrypoints:
  train: prices_train:train
input_schema:
  - {name: size, type: float, min: 10, max: 300}
  - {name: rooms, type: int, min: 1, max: 8}
target: {name: price, type: float}
support: {team: pricing-ops, on_call: ops@example.com, hours: "office hours"}
runbook:
  - {code: LK-PRICE, meaning: prices off, first_action: check the feed}
alarms:
  rules: [{name: gate, when: gate_failed}]
gate:
  gold: prices-gold
  metrics:
    - {name: rmse, max: 30}
    - {name: r2, min: 0.8}
    - {name: within_10pct, min: 0.5}
  custom_metrics:
    within_10pct: metrics_extra:within_10pct
"""

TRAIN = """\
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression


def rows(n, seed):
    rng = np.random.default_rng(seed)
    size = rng.uniform(10, 300, n)
    rooms = rng.integers(1, 9, n)
    price = 2.0 * size + 15 * rooms + rng.normal(0, 10, n)
    return pd.DataFrame({"size": size, "rooms": rooms, "price": price})


def train():
    data = rows(2000, 1)
    return LinearRegression().fit(data[["size", "rooms"]], data["price"]), data
"""

METRICS = """\
import numpy as np


def within_10pct(y_true, y_pred):
    return float(np.mean(np.abs(np.asarray(y_pred) - y_true) <= 0.1 * np.abs(y_true)))
"""


def test_regression_gate_with_a_custom_metric(lk: Lightkeeper, tmp_path: Path) -> None:
    project = tmp_path / "prices"
    project.mkdir()
    (project / "lightkeeper.yaml").write_text(MANIFEST)
    (project / "prices_train.py").write_text(textwrap.dedent(TRAIN))
    (project / "metrics_extra.py").write_text(METRICS)
    rng = np.random.default_rng(5)
    size, rooms = rng.uniform(10, 300, 800), rng.integers(1, 9, 800)
    gold = pd.DataFrame(
        {"size": size, "rooms": rooms, "price": 2.0 * size + 15 * rooms + rng.normal(0, 10, 800)}
    )
    lk.gold.add(
        "prices-gold", gold, owner="pricing", label_column="price", project_dir=project, by=ADMIN
    )
    lk.gold.approve("prices-gold", 1, by=ADMIN)
    info = lk.training.train(project, by=ADMIN)

    run = lk.gate.run("prices", info.version, by=ADMIN)
    assert run.verdict == "passed", [c for c in run.result["checks"] if c["status"] != "passed"]
    metrics = run.result["metrics"]
    predicted = lk.load("prices", info.version).predict(gold)
    errors = np.asarray(predicted) - gold["price"].to_numpy()
    assert metrics["rmse"] == pytest.approx(float(np.sqrt(np.mean(errors**2))), rel=1e-12)
    assert metrics["within_10pct"] == pytest.approx(
        float(np.mean(np.abs(errors) <= 0.1 * np.abs(gold["price"]))), rel=1e-12
    )
    residuals = run.result["plots"]["residuals"]
    assert len(residuals["predicted"]) == len(residuals["actual"]) == 800
    assert "<svg" in Path(run.report_path).read_text()


def test_custom_metrics_come_from_the_code_shipped_with_the_version(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    """The gate runs where the project folder is gone (an ops machine)."""
    import shutil

    project = tmp_path / "prices"
    project.mkdir()
    (project / "lightkeeper.yaml").write_text(MANIFEST)
    (project / "prices_train.py").write_text(textwrap.dedent(TRAIN))
    (project / "metrics_extra.py").write_text(METRICS)
    gold = pd.DataFrame(
        {"size": [50.0, 100.0, 200.0], "rooms": [1, 2, 3], "price": [115.0, 230.0, 445.0]}
    )
    lk.gold.add("prices-gold", gold, owner="o", label_column="price", project_dir=project, by=ADMIN)
    lk.gold.approve("prices-gold", 1, by=ADMIN)
    info = lk.training.train(project, by=ADMIN)
    shutil.rmtree(project)
    run = lk.gate.run("prices", info.version, by=ADMIN)
    assert "within_10pct" in run.result["metrics"]
    assert {c["name"]: c["status"] for c in run.result["checks"]}["metric:within_10pct"] == "passed"
