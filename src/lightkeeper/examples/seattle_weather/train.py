"""Train the Seattle weather model: which weather will a day bring, from its measurements?

The data is vega_datasets' seattle-weather table (1,461 days, 2012-2015), which ships
inside the package: nothing is downloaded. Days up to 2014 train the model; 2015 is
held out to report validation metrics on the MLflow run.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score

from lightkeeper import TrainResult

FEATURES = ["precipitation", "temp_max", "temp_min", "wind", "month"]
TARGET = "weather"
PARAMS = {"n_estimators": 100, "max_depth": 8, "min_samples_leaf": 2, "random_state": 7}


SEASONS = ["winter"] * 2 + ["spring"] * 3 + ["summer"] * 3 + ["autumn"] * 3 + ["winter"]


def load_days() -> pd.DataFrame:
    """Every day of the dataset with month and season columns."""
    from vega_datasets import data

    days = data.seattle_weather()
    days["month"] = days["date"].dt.month.astype("int64")
    days["season"] = days["month"].map(lambda m: SEASONS[m - 1])
    days[TARGET] = days[TARGET].astype(str)
    return days


def gold_days() -> pd.DataFrame:
    """The gold set the weather desk signs off: every day of 2015, labelled, with its season."""
    days = load_days()
    gold = days[days["date"].dt.year == 2015]
    return gold[["date", *FEATURES, "season", TARGET]].reset_index(drop=True)


def train(params: dict[str, Any] | None = None) -> TrainResult:
    """Fit a random forest on 2012-2014 and validate on 2015; ``params`` override the
    forest's (``lightkeeper train seattle_weather --param max_depth=10``)."""
    days = load_days()
    fit_rows = days[days["date"].dt.year <= 2014]
    holdout = days[days["date"].dt.year == 2015]
    settings = {**PARAMS, **(params or {})}
    model = RandomForestClassifier(**settings, n_jobs=1)
    model.fit(fit_rows[FEATURES], fit_rows[TARGET])
    predicted = model.predict(holdout[FEATURES])
    metrics = {
        "val_accuracy": accuracy_score(holdout[TARGET], predicted),
        "val_f1_macro": f1_score(holdout[TARGET], predicted, average="macro"),
    }
    return TrainResult(
        model=model,
        data=fit_rows[[*FEATURES, TARGET]].reset_index(drop=True),
        params=settings,
        metrics=metrics,
    )
