"""Gate metrics: every built-in equals scikit-learn; custom metrics load from the project."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from lightkeeper.errors import InvalidInput
from lightkeeper.gate.metrics import load_custom_metric
from lightkeeper.metrics import METRICS, compute_metrics, metric, metric_names

N = 600


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


def _classification(rng: np.random.Generator, k: int) -> tuple[np.ndarray, ...]:
    y = rng.integers(0, k, N)
    logits = rng.normal(size=(N, k)) + 1.5 * np.eye(k)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = np.where(rng.random(N) < 0.3, rng.integers(0, k, N), proba.argmax(axis=1))
    return y, pred, proba


def _onehot(y: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[y]


BINARY: dict[str, Any] = {
    "accuracy": lambda y, p, pr: skm.accuracy_score(y, p),
    "precision": lambda y, p, pr: skm.precision_score(y, p),
    "recall": lambda y, p, pr: skm.recall_score(y, p),
    "f1": lambda y, p, pr: skm.f1_score(y, p),
    "precision_macro": lambda y, p, pr: skm.precision_score(y, p, average="macro"),
    "recall_macro": lambda y, p, pr: skm.recall_score(y, p, average="macro"),
    "f1_macro": lambda y, p, pr: skm.f1_score(y, p, average="macro"),
    "f1_weighted": lambda y, p, pr: skm.f1_score(y, p, average="weighted"),
    "balanced_accuracy": lambda y, p, pr: skm.balanced_accuracy_score(y, p),
    "roc_auc": lambda y, p, pr: skm.roc_auc_score(y, pr[:, 1]),
    "log_loss": lambda y, p, pr: skm.log_loss(y, pr),
    "brier": lambda y, p, pr: skm.brier_score_loss(y, pr[:, 1]),
}

MULTICLASS: dict[str, Any] = {
    **BINARY,
    "precision": lambda y, p, pr: skm.precision_score(y, p, average="macro"),
    "recall": lambda y, p, pr: skm.recall_score(y, p, average="macro"),
    "f1": lambda y, p, pr: skm.f1_score(y, p, average="macro"),
    "roc_auc": lambda y, p, pr: skm.roc_auc_score(y, pr, multi_class="ovr"),
    "brier": lambda y, p, pr: np.mean(((pr - _onehot(y, 3)) ** 2).sum(axis=1)),
}

REGRESSION: dict[str, Any] = {
    "mae": skm.mean_absolute_error,
    "rmse": skm.root_mean_squared_error,
    "mape": skm.mean_absolute_percentage_error,
    "r2": skm.r2_score,
    "mse": skm.mean_squared_error,
}


def test_the_registry_covers_every_built_in() -> None:
    assert metric_names("classification") == list(BINARY)
    assert metric_names("regression") == list(REGRESSION)
    assert set(METRICS) == set(BINARY) | set(REGRESSION)


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_metrics_equal_scikit_learn(rng: np.random.Generator, name: str) -> None:
    y, pred, proba = _classification(rng, 2)
    got = compute_metrics("classification", y, pred, proba=proba, names=[name])[name]
    assert got == pytest.approx(BINARY[name](y, pred, proba), abs=1e-12)


@pytest.mark.parametrize("name", list(MULTICLASS))
def test_multiclass_metrics_equal_scikit_learn(rng: np.random.Generator, name: str) -> None:
    y, pred, proba = _classification(rng, 3)
    got = compute_metrics("classification", y, pred, proba=proba, names=[name])[name]
    assert got == pytest.approx(MULTICLASS[name](y, pred, proba), abs=1e-12)


def test_multiclass_brier_is_scikit_learns_unhalved_score(rng: np.random.Generator) -> None:
    y, pred, proba = _classification(rng, 3)
    got = compute_metrics("classification", y, pred, proba=proba, names=["brier"])["brier"]
    assert got == pytest.approx(skm.brier_score_loss(y, proba), abs=1e-12)


@pytest.mark.parametrize("name", list(REGRESSION))
def test_regression_metrics_equal_scikit_learn(rng: np.random.Generator, name: str) -> None:
    y = rng.normal(50, 10, N)
    pred = y + rng.normal(0, 4, N)
    got = compute_metrics("regression", y, pred, names=[name])[name]
    assert got == pytest.approx(REGRESSION[name](y, pred), abs=1e-12)


def test_default_names_are_every_computable_metric(rng: np.random.Generator) -> None:
    y, pred, proba = _classification(rng, 2)
    assert list(compute_metrics("classification", y, pred, proba=proba)) == list(BINARY)
    without_proba = compute_metrics("classification", y, pred)
    assert "roc_auc" not in without_proba and "log_loss" not in without_proba
    assert "accuracy" in without_proba
    one_class = np.ones(N, dtype=int)
    single = compute_metrics("classification", one_class, pred, proba=proba)
    assert "roc_auc" not in single and "log_loss" in single
    assert list(compute_metrics("regression", [1.0, 2.0, 4.0], [1.5, 2.0, 3.0])) == list(REGRESSION)


def test_named_metrics_that_cannot_be_computed_are_left_out(rng: np.random.Generator) -> None:
    y, pred, _ = _classification(rng, 2)
    assert compute_metrics("classification", y, pred, names=["roc_auc", "f1"]) == {
        "f1": pytest.approx(skm.f1_score(y, pred))
    }


def test_positive_class_is_honoured(rng: np.random.Generator) -> None:
    y, pred, proba = _classification(rng, 2)
    labels = np.array(["no", "yes"])
    y_s, pred_s = labels[y], labels[pred]
    got = compute_metrics("classification", y_s, pred_s, proba=proba, positive_class="no")
    assert got["precision"] == pytest.approx(skm.precision_score(y_s, pred_s, pos_label="no"))
    assert got["recall"] == pytest.approx(skm.recall_score(y_s, pred_s, pos_label="no"))
    assert got["f1"] == pytest.approx(skm.f1_score(y_s, pred_s, pos_label="no"))
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y_s == "no", proba[:, 0]))
    assert got["brier"] == pytest.approx(skm.brier_score_loss(y_s == "no", proba[:, 0]))
    default = compute_metrics("classification", y_s, pred_s, names=["f1"])["f1"]
    assert default == pytest.approx(skm.f1_score(y_s, pred_s, pos_label="yes"))


def test_classes_order_the_proba_columns(rng: np.random.Generator) -> None:
    y, pred, proba = _classification(rng, 3)
    labels = np.array(["a", "b", "c"])
    order = [2, 0, 1]
    shuffled = compute_metrics(
        "classification", labels[y], labels[pred], proba=proba[:, order], classes=labels[order]
    )
    assert shuffled == compute_metrics("classification", labels[y], labels[pred], proba=proba)


def test_a_class_the_model_does_not_know_gets_zero_probability() -> None:
    got = compute_metrics(
        "classification", [0, 1, 2, 1], [0, 1, 1, 1], proba=[[0.9, 0.1]] * 4, classes=[0, 1]
    )
    expected = skm.log_loss([0, 1, 2, 1], [[0.9, 0.1, 0.0]] * 4, labels=[0, 1, 2])
    assert got["log_loss"] == pytest.approx(expected)
    assert got["f1"] == pytest.approx(skm.f1_score([0, 1, 2, 1], [0, 1, 1, 1], average="macro"))


def test_float32_probabilities_are_accepted(rng: np.random.Generator) -> None:
    y, pred, proba = _classification(rng, 3)
    got = compute_metrics("classification", y, pred, proba=proba.astype(np.float32))
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, proba), abs=1e-6)


def test_unknown_metric_names_list_the_known_ones(rng: np.random.Generator) -> None:
    y, pred, _ = _classification(rng, 2)
    with pytest.raises(
        InvalidInput, match=r"unknown classification metric 'rmse'.*accuracy.*brier"
    ):
        compute_metrics("classification", y, pred, names=["rmse"])
    with pytest.raises(InvalidInput, match=r"unknown regression metric 'f2'.*mae, rmse"):
        compute_metrics("regression", [1.0, 2.0], [1.0, 2.5], names=["f2"])
    with pytest.raises(InvalidInput, match=r"unknown metric 'auc'.*roc_auc.*regression: mae"):
        metric("auc")


def test_metric_lookup_gives_the_direction() -> None:
    assert metric("f1").higher_is_better and not metric("f1").needs_proba
    assert not metric("log_loss").higher_is_better and metric("log_loss").needs_proba
    assert metric("rmse").task == "regression"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y_pred": [1, 0]}, "y_true has 3 rows but y_pred has 2"),
        ({"proba": [[0.5, 0.5]] * 2}, r"proba has shape \(2, 2\), expected \(3, 2\)"),
        ({"proba": [[0.5, 0.6]] * 3}, "proba rows must sum to 1"),
        ({"proba": [[1.5, -0.5]] * 3}, r"outside \[0, 1\]"),
        ({"positive_class": 7}, "positive_class 7 is not one of the classes"),
        ({"classes": [0, 0, 1]}, "classes has duplicates"),
        ({"classes": ["0", "1"]}, "mix label types"),
        ({"y_true": [], "y_pred": []}, "no rows"),
    ],
)
def test_malformed_inputs_are_rejected(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"y_true": [0, 1, 1], "y_pred": [0, 1, 0], **kwargs}
    with pytest.raises(InvalidInput, match=message):
        compute_metrics("classification", **args)


def test_regression_rejects_non_numbers_and_nan() -> None:
    with pytest.raises(InvalidInput, match="y_pred must be numeric"):
        compute_metrics("regression", [1.0, 2.0], ["a", "b"])
    with pytest.raises(InvalidInput, match="y_true has NaN"):
        compute_metrics("regression", [1.0, np.nan], [1.0, 2.0])
    with pytest.raises(InvalidInput, match="unknown task"):
        compute_metrics("ranking", [1.0], [1.0])


def _write(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(body))
    return folder


@pytest.fixture
def clean_modules(tmp_path: Path) -> Any:
    """Forget the project modules a test imported from its temporary folder."""
    yield
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


def test_custom_metric_from_the_project_folder(tmp_path: Path, clean_modules: Any) -> None:
    project = _write(
        tmp_path,
        "business",
        """
        import numpy as np

        def profit(y_true, y_pred):
            return float(np.sum((y_true == 1) & (y_pred == 1)) * 10 - np.sum(y_pred == 1))
        """,
    )
    path_before = list(sys.path)
    fn = load_custom_metric("business:profit", project)
    assert sys.path == path_before
    got = compute_metrics("classification", [1, 0, 1, 1], [1, 1, 0, 1], custom={"profit": fn})
    assert got["profit"] == 17.0
    assert got["accuracy"] == 0.5
    only = compute_metrics(
        "classification", [1, 0], [1, 1], names=["profit"], custom={"profit": fn}
    )
    assert only == {"profit": 8.0}


def test_custom_metric_reimports_a_module_of_the_same_name(
    tmp_path: Path, clean_modules: Any
) -> None:
    first = _write(tmp_path / "a", "scoring", "def score(y, p):\n    return 1.0\n")
    second = _write(tmp_path / "b", "scoring", "def score(y, p):\n    return 2.0\n")
    assert load_custom_metric("scoring:score", first)([0], [0]) == 1.0
    assert load_custom_metric("scoring:score", second)([0], [0]) == 2.0


@pytest.mark.parametrize(
    ("spec", "body", "message"),
    [
        ("no_colon", "", "not of the form 'module:function'"),
        ("bad:", "", "not of the form 'module:function'"),
        (
            "broken:f",
            "import not_a_module_anywhere\n",
            "cannot import 'broken'.*ModuleNotFoundError",
        ),
        ("missing_mod:f", None, "cannot import 'missing_mod'"),
        ("plain:nothing", "x = 1\n", "module 'plain' has no 'nothing'"),
        ("plain:x", "x = 1\n", "'x' is a int, not callable"),
    ],
)
def test_custom_metric_load_errors_name_the_spec(
    tmp_path: Path, clean_modules: Any, spec: str, body: str | None, message: str
) -> None:
    if body is not None:
        _write(tmp_path, spec.split(":")[0] or "x", body)
    with pytest.raises(InvalidInput, match=message) as caught:
        load_custom_metric(spec, tmp_path)
    assert spec in caught.value.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("def m(y, p):\n    return 'high'\n", r"returned str 'high', not a number"),
        ("def m(y, p):\n    return None\n", "returned NoneType None, not a number"),
        ("def m(y, p):\n    return 1 / 0\n", "raised ZeroDivisionError"),
    ],
)
def test_custom_metric_call_errors_name_the_spec(
    tmp_path: Path, clean_modules: Any, body: str, message: str
) -> None:
    fn = load_custom_metric("odd:m", _write(tmp_path, "odd", body))
    with pytest.raises(InvalidInput, match=f"custom metric 'odd:m' {message}"):
        compute_metrics("regression", [1.0, 2.0], [1.0, 2.0], custom={"odd": fn})


def test_plain_callables_work_as_custom_metrics_and_names_must_not_clash() -> None:
    got = compute_metrics("regression", [1.0, 3.0], [2.0, 3.0], custom={"worst": _worst})
    assert got["worst"] == 1.0
    with pytest.raises(InvalidInput, match="custom metric 'bad' returned list"):
        compute_metrics("regression", [1.0], [1.0], custom={"bad": _not_a_number})
    with pytest.raises(InvalidInput, match=r"custom metric names \['mae'\] are built-in"):
        compute_metrics("regression", [1.0], [1.0], custom={"mae": _worst})


def _worst(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.max(np.abs(y_true - y_pred)))


def _not_a_number(y_true: Any, y_pred: Any) -> Any:
    return [1.0]
