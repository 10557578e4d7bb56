"""The monitor tests' workspace: constants and the manifest's monitoring section."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from gate_project import gold_frame

from lightkeeper import Lightkeeper
from lightkeeper.auth import Principal
from lightkeeper.store.predictions import PredictionRecord

ANA = Principal("ana", "data-scientist")
OPS = Principal("olga", "operator")
MONITORING = """
monitoring:
  window: 1d
  every: 1h
"""


def log_rows(
    lk: Lightkeeper,
    frame: pd.DataFrame,
    *,
    at: datetime,
    version: int = 1,
    deployment: str = "credit-online",
    arm: str = "champion",
) -> None:
    """Write prediction logs for ``frame`` as the served version would have answered."""
    features = frame[["income", "age", "region"]]
    outputs = lk.load("credit", version).predict(features)
    records = [
        PredictionRecord(
            at=at + timedelta(seconds=i % 3600),
            deployment=deployment,
            request_id=f"r{at:%H%M}-{i}",
            row=0,
            version=version,
            arm=arm,
            inputs=row,
            output=int(output),
            latency_ms=1.0,
        )
        for i, (row, output) in enumerate(
            zip(features.to_dict(orient="records"), outputs, strict=True)
        )
    ]
    lk.prediction_store.add_many(records)


def shifted(n: int, seed: int) -> pd.DataFrame:
    frame = gold_frame(n, seed=seed)
    frame["income"] = frame["income"] * 2.5  # richer customers: fewer predicted defaults
    return frame
