"""The batch workspace: a credit model with an entity key, and customer tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lightkeeper.auth import Principal

ANA = Principal("ana", "data-scientist")
OPS = Principal("olga", "operator")

BATCH = """
entity_key: customer_id
extra_columns: [customer_id]
batch:
  chunk_rows: {chunk_rows}
  max_reject_share: 0.05
  holdout: {{share: 0.2, salt: winter-2026}}
  cadence: {{cron: "0 6 * * *", grace_minutes: 30}}
"""


def customers(n: int, *, seed: int = 3, start: int = 1) -> pd.DataFrame:
    """Customers to score: an id, and the model's three features."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": np.arange(start, start + n, dtype=np.int64),
            "income": rng.gamma(4.0, 12.0, n).clip(0, 500).round(2),
            "age": rng.integers(18, 100, n),
            "region": rng.choice(["north", "south", "east"], n),
        }
    )
