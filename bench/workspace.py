"""A gated, released benchmark model in a temporary workspace (shared by the benchmarks)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

LOGISTIC = "make_pipeline(StandardScaler(), LogisticRegression())"

TRAIN = """\
import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier


def rows(n, seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({{f"x{{i}}": rng.normal(0, 1, n) for i in range({features})}})
    signal = frame["x0"] + 0.5 * frame["x1"] - 0.3 * frame["x2"] + rng.normal(0, 1, n)
    frame["label"] = (signal > 0).astype(int)
    return frame


def train():
    data = rows(20_000, 1)
    features = [c for c in data.columns if c != "label"]
    model = RandomForestClassifier(n_estimators={trees}, max_depth=12, random_state=0, n_jobs=1)
    model.fit(data[features], data["label"])
    return model, data
"""


def write_project(
    root: Path, manifest: str, *, features: int, trees: int, model: str = "forest"
) -> Path:
    """The project folder: ``manifest`` (with ``{schema}`` for the float features) and
    a train module fitting a random forest or a scaler + logistic regression pipeline."""
    project = root / "bench"
    project.mkdir()
    schema = "\n".join(f"  - {{name: x{i}, type: float}}" for i in range(features))
    (project / "lightkeeper.yaml").write_text(manifest.format(schema=schema))
    train = textwrap.dedent(TRAIN.format(features=features, trees=trees))
    if model == "logistic":
        train = train.replace(
            "from sklearn.ensemble import RandomForestClassifier",
            "from sklearn.linear_model import LogisticRegression\n"
            "from sklearn.pipeline import make_pipeline\n"
            "from sklearn.preprocessing import StandardScaler",
        ).replace(
            f"RandomForestClassifier(n_estimators={trees}, max_depth=12, random_state=0, n_jobs=1)",
            LOGISTIC,
        )
    (project / "bench_train.py").write_text(train)
    return project


def release(
    lk: Any, project: Path, deployment: str, *, kind: str, features: int, key: str | None = None
) -> int:
    """Train, gate on a fresh gold set (with an entity ``key`` column if given), accept,
    create ``deployment`` and release; returns the version."""
    import numpy as np
    import pandas as pd

    version = int(lk.training.train(project).version)
    rng = np.random.default_rng(7)
    gold = pd.DataFrame({f"x{i}": rng.normal(0, 1, 500) for i in range(features)})
    gold["label"] = (gold["x0"] > 0).astype(int)
    if key is not None:
        gold[key] = np.arange(len(gold))
    gold_version, _ = lk.gold.add(
        "bench-gold", gold, owner="o", label_column="label", project_dir=project
    )
    lk.gold.approve("bench-gold", gold_version.version)
    lk.gate.run("bench", version)
    lk.gate.accept("bench", version)
    lk.releases.create(deployment, model="bench", kind=kind)
    lk.releases.release(deployment, version, reason="benchmark")
    return version
