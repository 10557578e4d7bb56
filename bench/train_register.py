"""Registration and load overhead against plain MLflow, in the same process.

    python bench/train_register.py [--rows 100000] [--repeat 5]

Prints, for one model fitted on synthetic data (15 numeric + 5 categorical features):
- lightkeeper's register (fingerprint + reference profile + log + register) vs the plain
  ``mlflow.sklearn.log_model(registered_model_name=...)`` a user would write, which lets
  MLflow infer pip requirements;
- one-row predict through lightkeeper's Predictor vs bare ``model.predict`` on a frame.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def synthetic(rows: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(i, 1 + i / 10, rows) for i in range(15)})
    for i in range(5):
        frame[f"c{i}"] = rng.choice([f"v{j}" for j in range(3 + i)], rows)
    target = (frame["x0"] + frame["x1"] > 1).astype(int).to_numpy()
    return frame, target


def fit(frame: pd.DataFrame, target: np.ndarray):
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    categorical = [c for c in frame.columns if c.startswith("c")]
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical), remainder="passthrough"
        ),
        LogisticRegression(max_iter=200),
    )
    return model.fit(frame, target)


def timed(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import mlflow

    from lightkeeper.lineage import fingerprint_frame
    from lightkeeper.profile import build_profile
    from lightkeeper.registry import PROFILE_ARTIFACT, Lineage, Registry

    frame, target = synthetic(args.rows)
    model = fit(frame, target)
    with tempfile.TemporaryDirectory() as tmp:
        uri = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
        registry = Registry(uri, artifact_root=Path(tmp) / "artifacts")
        experiment = registry.experiment_id("bench")

        def lightkeeper_register() -> None:
            with registry.activate(), mlflow.start_run(experiment_id=experiment):
                fingerprint = fingerprint_frame(frame)
                profile = build_profile(frame)
                registry.log_and_register(
                    "bench-lk",
                    model,
                    features=frame,
                    lineage=Lineage(data_hash=fingerprint.hash, data_rows=fingerprint.rows),
                    artifacts={PROFILE_ARTIFACT: profile.to_json()},
                )

        def plain_register() -> None:
            with registry.activate(), mlflow.start_run(experiment_id=experiment):
                mlflow.sklearn.log_model(model, name="model", registered_model_name="bench-plain")

        lightkeeper_register()  # warm both paths: the first call pays MLflow's start-up
        plain_register()
        lk_s = timed(lightkeeper_register, args.repeat)
        plain_s = timed(plain_register, args.repeat)
        profile_s = timed(lambda: build_profile(frame), args.repeat)

        predictor = registry.load("bench-lk", "latest")
        row = frame.iloc[[0]]
        record = row.to_dict(orient="records")[0]
        n = 300
        bare_s = timed(lambda: [model.predict(row) for _ in range(n)], 3) / n
        lk_predict_s = timed(lambda: [predictor.predict(record) for _ in range(n)], 3) / n

    print(f"rows={args.rows:,} features={frame.shape[1]} repeat={args.repeat} (medians)")
    print(f"register  lightkeeper {lk_s * 1000:8.1f} ms  (profile alone {profile_s * 1000:.1f} ms)")
    print(f"register  plain mlflow {plain_s * 1000:7.1f} ms")
    print(f"register  ratio lightkeeper/plain = {lk_s / plain_s:.2f}x")
    bare_us, lk_us = bare_s * 1e6, lk_predict_s * 1e6
    print(f"predict   1 row: bare {bare_us:.0f} us, lightkeeper record {lk_us:.0f} us")
    print(f"predict   ratio lightkeeper/bare = {lk_predict_s / bare_s:.2f}x")


if __name__ == "__main__":
    main()
