"""Helpers shared by tests (fixtures live in conftest.py): a tiny project, a free port."""

from __future__ import annotations

import socket
import textwrap
import uuid
from pathlib import Path

TINY_MANIFEST = """\
name: {name}
kind: online
owner: risk-team@example.com
entrypoints:
  train: {module}:train
input_schema:
  - name: income
    type: float
    min: 0
  - name: age
    type: int
    min: 18
    max: 120
  - name: region
    type: category
    categories: [north, south]
target:
  name: defaulted
  type: int
"""

TINY_TRAIN = """\
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder


def train():
    rows = pd.DataFrame({{
        "income": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0],
        "age": [20, 30, 40, 50, 25, 35, 45, 55],
        "region": ["north", "south"] * 4,
        "defaulted": [1, 1, 1, 0, 1, 0, 0, 0],
    }})
    {body}
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(), ["region"]), remainder="passthrough"
        ),
        LogisticRegression(),
    )
    model.fit(rows[["income", "age", "region"]], rows["defaulted"])
    {after}
    return model, rows
"""


def make_project(
    parent: Path,
    name: str = "credit-risk",
    *,
    body: str = "pass",
    after: str = "pass",
    module: str | None = None,
) -> Path:
    """Write a small trainable project and return its folder."""
    module = module or f"train_{uuid.uuid4().hex[:8]}"
    folder = parent / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lightkeeper.yaml").write_text(TINY_MANIFEST.format(name=name, module=module))
    (folder / f"{module}.py").write_text(textwrap.dedent(TINY_TRAIN.format(body=body, after=after)))
    return folder


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sqlite_url(home: Path) -> str:
    """The ops database URL of a workspace that keeps it inside its home."""
    return f"sqlite:///{home / 'ops.db'}"


def copy_home(template: Path, tmp_path: Path) -> Path:
    """A private copy of a workspace home built once per session."""
    import shutil

    folder = tmp_path / "home"
    shutil.copytree(template, folder)
    return folder
