"""Train a project: run its train entrypoint inside an MLflow run and register the result."""

from __future__ import annotations

import inspect
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lightkeeper.auth import Principal, Whoami
from lightkeeper.errors import InvalidInput, LightkeeperError, TrainingFailed
from lightkeeper.events import EventBus, TrainingFailedEvent, VersionRegistered
from lightkeeper.lineage import code_version, fingerprint_frame, text_hash
from lightkeeper.manifest import Manifest, load_manifest
from lightkeeper.names import check_name
from lightkeeper.project_code import fresh_import, on_path, project_code
from lightkeeper.registry import (
    LINEAGE_ARTIFACT,
    MANIFEST_ARTIFACT,
    OUTPUT_PROFILE_ARTIFACT,
    PROFILE_ARTIFACT,
    Lineage,
    Registry,
    VersionInfo,
)

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

Step = Callable[[str], None]


@dataclass
class TrainResult:
    """What a train entrypoint may return instead of a ``(model, frame)`` tuple.

    Attributes:
        model: the fitted model (scikit-learn estimator, ``mlflow.pyfunc.PythonModel``)
            or the URI of a model the entrypoint logged itself.
        data: the training frame: every input feature, and the target when known.
        params: hyper-parameters to record on the run.
        metrics: training or validation metrics to record on the run.
    """

    model: Any
    data: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)


class Training:
    """Train projects into new versions, or register models MLflow already holds."""

    def __init__(self, *, registry: Registry, bus: EventBus, whoami: Whoami) -> None:
        self._whoami = whoami
        self._registry = registry
        self._bus = bus

    def train(
        self,
        project_dir: str | Path,
        *,
        by: Principal | None = None,
        on_step: Step | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> VersionInfo:
        """Train a project and register its model (see :func:`train_project`)."""
        by = by or self._whoami()
        by.require("model.train")
        return train_project(
            Path(project_dir),
            registry=self._registry,
            bus=self._bus,
            actor=by.name,
            on_step=on_step,
            params=params,
        )

    def register_uri(
        self, model: str, model_uri: str, *, by: Principal | None = None, reason: str = ""
    ) -> VersionInfo:
        """Register a model MLflow already holds (any flavor, e.g. ``runs:/ID/model``)."""
        by = by or self._whoami()
        by.require("model.register")
        check_name(model, "model")
        info = self._registry.register_uri(model, model_uri, lineage=Lineage(registered_by=by.name))
        self._bus.publish(
            VersionRegistered(
                actor=by.name,
                reason=reason,
                model=info.model,
                version=info.version,
                run_id=info.run_id,
            )
        )
        return info


def train_project(
    project_dir: Path,
    *,
    registry: Registry,
    bus: EventBus,
    actor: str,
    on_step: Step | None = None,
    params: Mapping[str, Any] | None = None,
) -> VersionInfo:
    """Run the project's train entrypoint and register the model as a new version.

    ``params`` go to an entrypoint that takes a ``params`` argument (``def train(params)``;
    one that takes none is called as before, with ``{}`` when none are given) and are
    logged as params of the MLflow run before it is called.

    Nothing is registered when the entrypoint raises or returns something unusable;
    the MLflow run is then marked failed and a ``training.failed`` event is recorded.

    Raises:
        InvalidInput: ``params`` given to an entrypoint that takes none.
    """
    step = on_step or (lambda _msg: None)
    project_dir = Path(project_dir).absolute()
    manifest = load_manifest(project_dir)
    manifest_text = (project_dir / "lightkeeper.yaml").read_text(encoding="utf-8")
    step(f"loaded manifest for {manifest.name} ({manifest.kind})")
    train_fn = _entrypoint(project_dir, manifest.entrypoints.train)
    given = dict(params or {})
    takes_params = _takes_params(train_fn)
    if given and not takes_params:
        shown = ", ".join(f"{k}={v}" for k, v in given.items())
        raise InvalidInput(
            f"the train entrypoint {manifest.entrypoints.train} takes no params, so "
            f"{shown} cannot be passed to it",
            hint="give the function a params argument (def train(params: dict[str, Any]) "
            "-> ...), or leave out --param",
        )
    experiment_id = registry.experiment_id(manifest.name)

    import mlflow

    run_id: str | None = None
    with registry.activate():
        try:
            with mlflow.start_run(
                experiment_id=experiment_id, run_name=f"train {manifest.name}"
            ) as run:
                run_id = run.info.run_id
                step(f"running {manifest.entrypoints.train} (MLflow run {run_id[:8]})")
                if given:  # before the entrypoint runs: a failed run shows what it was given
                    mlflow.log_params(given)
                started = time.perf_counter()
                with on_path(project_dir):
                    result = _call(
                        train_fn, manifest.entrypoints.train, given if takes_params else None
                    )
                mlflow.log_metric("lightkeeper.train_seconds", time.perf_counter() - started)
                returned = _returned_params(result.params, given)
                if returned:
                    mlflow.log_params(returned)
                if result.metrics:
                    mlflow.log_metrics(result.metrics)
                features = _features(result.data, manifest)
                step(f"profiling {len(features):,} training rows x {features.shape[1]} features")
                artifacts = _artifacts(result.data, features, manifest, manifest_text)
                output = _output_profile(result.model, features, manifest)
                if output is not None:
                    artifacts[OUTPUT_PROFILE_ARTIFACT] = output
                fingerprint = fingerprint_frame(result.data)
                code = code_version(project_dir)
                lineage = Lineage(
                    data_hash=fingerprint.hash,
                    data_rows=fingerprint.rows,
                    data_columns=list(features.columns),
                    code_commit=code.commit,
                    code_dirty=code.dirty,
                    manifest_hash=text_hash(manifest_text),
                    project=str(project_dir),
                    registered_by=actor,
                )
                mlflow.set_tags({k: v for k, v in lineage.tags().items()})
                step("logging and registering the model")
                info = registry.log_and_register(
                    manifest.name,
                    result.model,
                    features=features,
                    lineage=lineage,
                    artifacts=artifacts,
                    code_paths=project_code(project_dir),
                )
        except LightkeeperError as exc:
            bus.publish(
                TrainingFailedEvent(actor=actor, model=manifest.name, error=str(exc), run_id=run_id)
            )
            raise
        except Exception as exc:  # MLflow refusing a param, a profile of odd data...
            log.exception("training %s failed after the entrypoint", manifest.name)
            failure = TrainingFailed(
                f"training {manifest.name} failed while recording the result: "
                f"{type(exc).__name__}: {exc}",
                hint="check the params and metrics returned (plain names, finite numbers) and "
                "the training frame; nothing was registered",
            )
            bus.publish(
                TrainingFailedEvent(
                    actor=actor, model=manifest.name, error=str(failure), run_id=run_id
                )
            )
            raise failure from exc
    bus.publish(
        VersionRegistered(
            actor=actor,
            model=info.model,
            version=info.version,
            run_id=info.run_id,
            data_hash=fingerprint.hash,
        )
    )
    return info


_PARAM_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,249}")
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+")


def parse_params(items: Iterable[str]) -> dict[str, Any]:
    """``KEY=VALUE`` items (``lightkeeper train --param``) as params for the entrypoint.

    A value is an int when written as one (``42``, ``-3``; not ``007``), a float when
    written with a point or an exponent (``0.5``, ``.5``, ``1e-3``), a bool for ``true``
    or ``false`` (any case), and text otherwise (``007``, ``nan``, ``gini``, empty).

    Raises:
        InvalidInput: an item without ``=``, a key that is not a plain name, a key twice.
    """
    params: dict[str, Any] = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not _PARAM_KEY.fullmatch(key):
            raise InvalidInput(
                f"--param {item!r} is not KEY=VALUE with a plain name as KEY",
                hint="for example --param max_depth=8 --param criterion=gini (letters, "
                "digits, _ . - in the name; no spaces around =)",
            )
        if key in params:
            raise InvalidInput(f"--param {key} is given twice", hint="give each param once")
        params[key] = _param_value(value)
    return params


def _param_value(text: str) -> Any:
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _takes_params(train_fn: Callable[..., Any]) -> bool:
    """Whether the entrypoint accepts ``params=`` (a ``params`` argument or ``**kwargs``)."""
    try:
        signature = inspect.signature(train_fn)
    except (TypeError, ValueError):  # a builtin or C function: called as before
        return False
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            return True
        if parameter.name == "params" and parameter.kind is not inspect.Parameter.POSITIONAL_ONLY:
            return True
    return False


def _returned_params(returned: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The params the entrypoint returned that were not logged as given (MLflow refuses to
    change a param; a returned value other than the given one is left out, with a warning)."""
    out = {}
    for key, value in returned.items():
        if key not in given:
            out[key] = value
        elif str(value) != str(given[key]):
            log.warning(
                "the train entrypoint returned param %s=%s; the run keeps the given %s",
                *(key, value, given[key]),
            )
    return out


def _call(train_fn: Callable[..., Any], name: str, params: dict[str, Any] | None) -> TrainResult:
    try:
        returned = train_fn() if params is None else train_fn(params=params)
    except Exception as exc:
        log.exception("train entrypoint %s raised", name)
        raise TrainingFailed(
            f"the train entrypoint {name} raised {type(exc).__name__}: {exc}",
            hint="fix the training code; nothing was registered",
        ) from exc
    if isinstance(returned, TrainResult):
        return returned
    if isinstance(returned, tuple) and len(returned) == 2:
        return TrainResult(model=returned[0], data=returned[1])
    raise TrainingFailed(
        f"the train entrypoint {name} returned a {type(returned).__name__}",
        hint="return (model, training_frame) or lightkeeper.TrainResult(model=..., data=...)",
    )


def _features(data: Any, manifest: Manifest) -> pd.DataFrame:
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise TrainingFailed(
            f"the training data returned by the train entrypoint is a {type(data).__name__}",
            hint="return the training rows as a pandas DataFrame",
        )
    if data.empty:
        raise TrainingFailed(
            "the training frame has no rows", hint="return the rows the model was fitted on"
        )
    names = manifest.feature_names
    missing = [n for n in names if n not in data.columns]
    if missing:
        raise TrainingFailed(
            f"the training frame lacks input_schema feature(s): {', '.join(missing)}",
            hint=f"the frame has: {', '.join(map(str, data.columns))}; "
            "return every feature of input_schema in lightkeeper.yaml",
        )
    return data[names]


def _artifacts(
    data: pd.DataFrame, features: pd.DataFrame, manifest: Manifest, manifest_text: str
) -> dict[str, str]:
    import json

    from lightkeeper.profile import build_profile

    schema = {field.name: field.type for field in manifest.input_schema}
    columns = features
    if manifest.target is not None and manifest.target.name in data.columns:
        schema[manifest.target.name] = manifest.target.type
        columns = data[[*features.columns, manifest.target.name]]
    profile = build_profile(columns, schema=schema)
    fingerprint = fingerprint_frame(data)
    lineage = {
        "data": {"hash": fingerprint.hash, "rows": fingerprint.rows, "columns": fingerprint.columns}
    }
    return {
        PROFILE_ARTIFACT: profile.to_json(),
        MANIFEST_ARTIFACT: manifest_text,
        LINEAGE_ARTIFACT: json.dumps(lineage, indent=2),
    }


OUTPUT_SAMPLE = 100_000  # training rows predicted for the output's reference profile


def _output_profile(model: Any, features: pd.DataFrame, manifest: Manifest) -> str | None:
    """The profile of the model's predictions on (a sample of) its training rows, as JSON.

    The reference for drift of the model output. Only for models fitted in the
    entrypoint with a plain ``predict(frame)`` (scikit-learn and alike); for others the
    monitors fall back to the training labels. Never fails the training.
    """
    import numpy as np
    import pandas as pd

    from lightkeeper.profile import build_profile

    predict = getattr(model, "predict", None)
    if not callable(predict) or isinstance(model, str) or _is_python_model(model):
        return None
    rows = (
        features
        if len(features) <= OUTPUT_SAMPLE
        else features.sample(OUTPUT_SAMPLE, random_state=0)
    )
    try:
        values = np.asarray(predict(rows))
        if values.ndim == 2 and values.shape[1] == 1:
            values = values.ravel()
        if values.ndim != 1 or len(values) != len(rows):
            return None
        target = manifest.target
        if target is not None:
            kind = "float" if target.task == "regression" else "category"
        else:
            kind = (
                "float"
                if values.dtype.kind in "fiu" and len(np.unique(values)) > 20
                else "category"
            )
        profile = build_profile(pd.DataFrame({"prediction": values}), schema={"prediction": kind})
    except Exception:
        log.warning("no output profile: predicting the training rows failed", exc_info=True)
        return None
    return profile.to_json()


def _is_python_model(model: Any) -> bool:
    try:
        from mlflow.pyfunc.model import PythonModel
    except ImportError:  # pragma: no cover - mlflow is a dependency
        return False
    return isinstance(model, PythonModel)


def _entrypoint(project_dir: Path, spec: str) -> Callable[..., Any]:
    module_name, _, func_name = spec.partition(":")
    try:
        module = fresh_import(project_dir, module_name)
    except Exception as exc:
        raise TrainingFailed(
            f"cannot import {module_name!r} from {project_dir}: {type(exc).__name__}: {exc}",
            hint=f"entrypoints.train in lightkeeper.yaml names {spec!r}; check the module "
            "exists in the project folder and imports cleanly",
        ) from exc
    func: object = getattr(module, func_name, None)
    if not callable(func):
        raise TrainingFailed(
            f"module {module_name!r} has no function {func_name!r}",
            hint=f"define def {func_name}(): ... returning (model, training_frame)",
        )
    return func
