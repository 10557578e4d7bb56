"""Training a project registers a version with lineage; failures register nothing."""

import subprocess
from pathlib import Path

import mlflow
import numpy as np
import pytest

from lightkeeper import Lightkeeper, ModelLoadFailed, ModelNotFound, TrainingFailed, VersionNotFound
from lightkeeper.auth import Principal
from lightkeeper.errors import ManifestError
from lightkeeper.testing import ANALYST
from support import make_project

BO = Principal("bo", "admin")


def test_train_registers_a_version_with_lineage(lk: Lightkeeper, project: Path) -> None:
    steps: list[str] = []
    info = lk.training.train(project, by=ANALYST, on_step=steps.append)

    assert (info.model, info.version, info.flavor) == ("credit-risk", 1, "sklearn")
    lineage = info.lineage
    assert lineage.registered_by == "ana"
    assert lineage.data_rows == 8
    assert lineage.data_hash is not None and lineage.data_hash.startswith("sha256:")
    assert lineage.data_columns == ["income", "age", "region"]
    assert lineage.code_commit is None and lineage.code_dirty is None
    assert lineage.manifest_hash is not None
    assert "lightkeeper.train_seconds" in info.metrics
    assert any("running" in s for s in steps)

    again = lk.training.train(project, by=ANALYST)
    assert again.version == 2
    assert again.lineage.data_hash == lineage.data_hash  # same data, same fingerprint

    [model] = lk.registry.list_models()
    assert (model.name, model.latest_version, model.versions) == ("credit-risk", 2, 2)
    assert [v.version for v in lk.registry.list_versions("credit-risk")] == [2, 1]

    entries = lk.audit_entries(kind="version.registered")
    assert [(e.subject, e.actor) for e in entries] == [
        ("model:credit-risk/2", "ana"),
        ("model:credit-risk/1", "ana"),
    ]


def test_profile_and_manifest_are_stored_with_the_version(lk: Lightkeeper, project: Path) -> None:
    info = lk.training.train(project)
    profile = lk.registry.reference_profile(info.model, info.version)
    assert profile is not None
    assert profile["rows"] == 8
    assert set(profile["features"]) == {"income", "age", "region", "defaulted"}
    assert profile["features"]["region"]["kind"] == "categorical"
    with lk.registry.activate():
        text = mlflow.artifacts.load_text(f"runs:/{info.run_id}/lightkeeper/lightkeeper.yaml")
    assert "name: credit-risk" in text


def test_loaded_version_predicts_from_records_and_frames(lk: Lightkeeper, project: Path) -> None:
    import pandas as pd

    lk.training.train(project)
    predictor = lk.load("credit-risk", "latest")
    assert predictor.version == 1 and predictor.native
    one = predictor.predict({"income": 15.0, "age": 22, "region": "north"})
    many = predictor.predict(
        [
            {"region": "south", "age": 60, "income": 90.0},  # column order does not matter
            {"income": 15.0, "age": 22, "region": "north"},
        ]
    )
    frame = predictor.predict(pd.DataFrame({"income": [15.0], "age": [22], "region": ["north"]}))
    assert one.shape == (1,) and many.shape == (2,)
    assert one[0] == many[1] == frame[0]
    proba = predictor.predict_proba([{"income": 15.0, "age": 22, "region": "north"}])
    assert proba.shape == (1, 2) and np.isclose(proba.sum(), 1.0)


def test_code_version_is_recorded_inside_a_git_repository(lk: Lightkeeper, project: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
            cwd=project,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "first")
    commit = git("rev-parse", "HEAD")
    info = lk.training.train(project)
    assert (info.lineage.code_commit, info.lineage.code_dirty) == (commit, False)
    (project / "notes.txt").write_text("uncommitted")
    assert lk.training.train(project).lineage.code_dirty is True


def test_a_train_entrypoint_that_raises_registers_nothing(lk: Lightkeeper, tmp_path: Path) -> None:
    project = make_project(tmp_path, body="raise RuntimeError('warehouse timed out')")
    with pytest.raises(TrainingFailed, match="raised RuntimeError: warehouse timed out"):
        lk.training.train(project)
    assert lk.registry.list_models() == []
    [entry] = lk.audit_entries(kind="training.failed")
    assert entry.subject == "model:credit-risk"
    assert "warehouse timed out" in entry.payload["error"]
    run = mlflow.MlflowClient(lk.settings.tracking_uri).get_run(entry.payload["run_id"])
    assert run.info.status == "FAILED"


def test_training_frame_without_a_schema_feature_is_refused(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    project = make_project(tmp_path, after="rows = rows.drop(columns=['age'])")
    with pytest.raises(TrainingFailed, match="lacks input_schema feature"):
        lk.training.train(project)
    assert lk.registry.list_models() == []


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("def train():\n    return 42\n", "returned a int"),
        ("def train():\n    return object(), None\n", "is a NoneType"),
        ("import nonexistent_package_xyz\ndef train(): pass\n", "cannot import"),
        ("def other(): pass\n", "has no function 'train'"),
    ],
)
def test_unusable_entrypoints_are_refused(
    lk: Lightkeeper, tmp_path: Path, source: str, match: str
) -> None:
    project = make_project(tmp_path, module="broken_train")
    (project / "broken_train.py").write_text(source)
    with pytest.raises(TrainingFailed, match=match):
        lk.training.train(project)
    assert lk.registry.list_models() == []


def test_invalid_manifest_names_the_line_and_field(lk: Lightkeeper, project: Path) -> None:
    manifest = project / "lightkeeper.yaml"
    manifest.write_text(manifest.read_text().replace("    type: int\n", "    type: integer\n", 1))
    with pytest.raises(ManifestError, match=r"lightkeeper.yaml:\d+: input_schema\[1\]\.type"):
        lk.training.train(project)


def test_unknown_model_and_version(lk: Lightkeeper, project: Path) -> None:
    with pytest.raises(ModelNotFound, match="no registered model named 'nope'"):
        lk.version("nope", 1)
    with pytest.raises(ModelNotFound, match="'nope'"):
        lk.registry.list_versions("nope")
    lk.training.train(project)
    with pytest.raises(VersionNotFound, match="has no version 7"):
        lk.version("credit-risk", 7)
    with pytest.raises(VersionNotFound, match="no version or alias 'champion'"):
        lk.version("credit-risk", "champion")
    with pytest.raises(ModelNotFound):
        lk.load("nope", 1)


def test_models_registered_with_plain_mlflow_are_listed_and_loadable(lk: Lightkeeper) -> None:
    """Interop: an existing MLflow store works unchanged."""
    from sklearn.linear_model import LinearRegression

    X = np.arange(20, dtype=float).reshape(10, 2)
    y = X @ np.array([1.0, 2.0])
    model = LinearRegression().fit(X, y)
    mlflow.set_tracking_uri(lk.settings.tracking_uri)
    try:
        with mlflow.start_run():
            mlflow.sklearn.log_model(
                model,
                name="model",
                registered_model_name="plain-mlflow",
                pip_requirements=["scikit-learn"],
            )
    finally:
        mlflow.set_tracking_uri("")
    client = mlflow.MlflowClient(lk.settings.tracking_uri)
    client.set_registered_model_alias("plain-mlflow", "champion", "1")

    [summary] = lk.registry.list_models()
    assert (summary.name, summary.latest_version, summary.aliases) == (
        "plain-mlflow",
        1,
        {"champion": 1},
    )
    info = lk.version("plain-mlflow", "champion")
    assert info.version == 1 and info.lineage.data_hash is None and info.flavor is None
    predictor = lk.load("plain-mlflow", "champion")
    assert np.allclose(predictor.predict(X[:3]), y[:3])
    assert lk.registry.reference_profile("plain-mlflow", 1) is None


PYFUNC_TRAIN = """\
import mlflow.pyfunc
import pandas as pd


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input: pd.DataFrame, params=None) -> list[float]:
        return (model_input["income"] * 2).tolist()


def train():
    rows = pd.DataFrame({"income": [1.0, 2.0], "age": [30, 40], "region": ["north", "south"]})
    return Doubler(), rows
"""

SELF_LOGGED_TRAIN = """\
import mlflow
import pandas as pd
from sklearn.dummy import DummyClassifier


def train():
    rows = pd.DataFrame({"income": [1.0, 2.0], "age": [30, 40], "region": ["north", "south"]})
    model = DummyClassifier(strategy="constant", constant=1).fit(rows, [1, 0])
    info = mlflow.sklearn.log_model(model, name="own", pip_requirements=["scikit-learn"])
    return info.model_uri, rows
"""


def test_a_pyfunc_python_model_is_registered_and_loaded(lk: Lightkeeper, tmp_path: Path) -> None:
    project = make_project(tmp_path, module="pyfunc_train")
    (project / "pyfunc_train.py").write_text(PYFUNC_TRAIN)
    info = lk.training.train(project)
    assert info.flavor == "python_function"
    predictor = lk.load("credit-risk", info.version)
    assert not predictor.native
    rows = [{"income": 4.0, "age": 50, "region": "north"}]
    assert predictor.predict(rows).tolist() == [8.0]
    assert predictor.predict_proba(rows) is None


def test_a_model_the_entrypoint_logged_itself_is_registered(
    lk: Lightkeeper, tmp_path: Path
) -> None:
    project = make_project(tmp_path, module="self_logged_train")
    (project / "self_logged_train.py").write_text(SELF_LOGGED_TRAIN)
    info = lk.training.train(project)
    assert info.flavor == "sklearn" and info.lineage.data_rows == 2
    predictor = lk.load("credit-risk", info.version)
    assert predictor.predict([{"income": 3.0, "age": 20, "region": "south"}]).tolist() == [1]


def test_register_by_uri_records_who_and_why(lk: Lightkeeper, project: Path) -> None:
    first = lk.training.train(project)
    info = lk.training.register_uri("credit-risk-copy", first.source, by=BO, reason="fork for A/B")
    assert (info.model, info.version, info.lineage.registered_by) == ("credit-risk-copy", 1, "bo")
    [entry] = lk.audit_entries(subject="model:credit-risk-copy")
    assert (entry.actor, entry.reason) == ("bo", "fork for A/B")
    with pytest.raises(ModelLoadFailed, match="MLflow has no model at runs:/0123/model"):
        lk.training.register_uri("credit-risk-copy", "runs:/0123/model")
    assert [v.version for v in lk.registry.list_versions("credit-risk-copy")] == [1]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_reads_from_the_store_tables_equal_mlflows_own(lk: Lightkeeper, project: Path) -> None:
    """``models list|show`` read MLflow's tables without starting MLflow; same answers."""
    from lightkeeper.registry import Registry

    lk.training.train(project, by=ANALYST)
    lk.training.train(project, by=ANALYST)
    lk.registry.set_deployment_aliases("credit-risk", "risk-online", champion=1, challenger=2)
    fast = Registry(lk.registry.tracking_uri)
    slow = Registry(lk.registry.tracking_uri)
    slow._tables = None  # MLflow's client only
    assert fast.tables is not None
    assert fast.list_models() == slow.list_models()
    assert fast.get_model("credit-risk") == slow.get_model("credit-risk")
    assert fast.list_versions("credit-risk") == slow.list_versions("credit-risk")
    for version in (1, "2", "latest", "champion-risk-online"):
        assert fast.get_version("credit-risk", version) == slow.get_version("credit-risk", version)
    for registry in (fast, slow):
        with pytest.raises(ModelNotFound):
            registry.get_version("nope", 1)
        with pytest.raises(VersionNotFound):
            registry.get_version("credit-risk", 9)
        with pytest.raises(VersionNotFound):
            registry.get_version("credit-risk", "no-such-alias")
    assert fast._client is None  # every answer came without starting MLflow's client
