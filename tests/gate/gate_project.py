"""A credit-default project for gate tests: synthetic data, a noise knob for worse models."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

MANIFEST = """\
name: credit
kind: online
owner: risk-desk@example.com
entrypoints:
  train: {module}:train
input_schema:
  - name: income
    type: float
    min: 0
    max: 500
  - name: age
    type: int
    min: 18
    max: 100
  - name: region
    type: category
    categories: [north, south, east]
target:
  name: defaulted
  type: int
  positive_class: 1
support:
  team: risk-ops
  on_call: oncall@example.com
  hours: "24/7"
runbook:
  - code: LK-MODEL-ERROR
    meaning: the model raised while scoring
    first_action: roll back to the previous version
alarms:
  rules:
    - name: gate-failed
      when: gate_failed
      error_type: LK-MODEL-ERROR
logging:
  predictions: true
gate:
  gold: credit-gold
  metrics:
    - name: accuracy
      min: {min_accuracy}
    - name: roc_auc
      min: 0.6
  non_inferiority:
    metric: accuracy
    max_drop: 0.02
    resamples: 500
  segments:
    column: region
    metrics:
      accuracy: {segment_min}
  latency_p99_ms: {latency}
"""

TRAIN = """\
import os

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder


def make_rows(n, seed):
    rng = np.random.default_rng(seed)
    income = rng.gamma(4.0, 12.0, n).clip(0, 500)
    age = rng.integers(18, 100, n)
    region = rng.choice(["north", "south", "east"], n)
    score = 2.5 - income / 20 + (age - 50) / 40 + np.where(region == "south", 0.8, 0.0)
    defaulted = (rng.random(n) < 1 / (1 + np.exp(-score))).astype(int)
    return pd.DataFrame({{"income": income, "age": age, "region": region, "defaulted": defaulted}})


def train():
    rows = make_rows(3000, seed=1)
    noise = float(os.environ.get("CREDIT_LABEL_NOISE", "0"))
    labels = rows["defaulted"].to_numpy().copy()
    flip = np.random.default_rng(2).random(len(labels)) < noise
    labels[flip] = 1 - labels[flip]
    steps = [
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["region"]), remainder="passthrough"
        ),
    ]
    {extra}
    model = make_pipeline(*steps, LogisticRegression(max_iter=500))
    model.fit(rows[["income", "age", "region"]], labels)
    return model, rows
"""


def write_project(
    parent: Path,
    *,
    extra: str = "pass",
    min_accuracy: float = 0.6,
    segment_min: float = 0.5,
    latency: float = 1000,
    drop: tuple[str, ...] = (),
    append: str = "",
) -> Path:
    """Write the project; ``drop`` removes top-level manifest sections (e.g. runbook),
    ``append`` adds YAML at the end (e.g. a rollout section)."""
    module = f"credit_{uuid.uuid4().hex[:8]}"
    folder = parent / f"credit-{module}"
    folder.mkdir(parents=True)
    manifest = MANIFEST.format(
        module=module, min_accuracy=min_accuracy, segment_min=segment_min, latency=latency
    )
    for section in drop:
        manifest = _drop_section(manifest, section)
    (folder / "lightkeeper.yaml").write_text(manifest + append)
    (folder / f"{module}.py").write_text(textwrap.dedent(TRAIN.format(extra=extra)))
    return folder


def _drop_section(text: str, section: str) -> str:
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith(f"{section}:"):
            skipping = True
            continue
        if skipping and (line.startswith(" ") or line.startswith("-")):
            continue
        skipping = False
        out.append(line)
    return "".join(out)


def gold_frame(n: int = 1500, seed: int = 99) -> pd.DataFrame:
    """Labelled gold rows drawn like the training data (another seed)."""
    rng = np.random.default_rng(seed)
    income = rng.gamma(4.0, 12.0, n).clip(0, 500)
    age = rng.integers(18, 100, n)
    region = rng.choice(["north", "south", "east"], n)
    score = 2.5 - income / 20 + (age - 50) / 40 + np.where(region == "south", 0.8, 0.0)
    defaulted = (rng.random(n) < 1 / (1 + np.exp(-score))).astype(int)
    return pd.DataFrame({"income": income, "age": age, "region": region, "defaulted": defaulted})
