"""The model store: a small facade over MLflow.

Versions, artifacts and training runs live in MLflow, so other tools see the same
truth. lightkeeper adds lineage as version tags (``lightkeeper.*``) and artifacts under
``lightkeeper/`` in the training run; a model registered with plain MLflow calls is
listed and loaded all the same, its lightkeeper lineage simply empty.
MLflow is imported lazily: ``import lightkeeper`` and ``lightkeeper --help`` stay fast.

Releases are mirrored onto MLflow aliases per deployment, because one model can run in
several deployments, each with its own champion: ``champion-<deployment>`` and
``challenger-<deployment>`` (see :func:`deployment_alias`). MLflow allows letters, digits,
``_`` and ``-`` in an alias, up to 255 characters, which deployment names satisfy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from lightkeeper.errors import (
    InvalidInput,
    ModelLoadFailed,
    ModelNotFound,
    ModelStoreUnavailable,
    TrainingFailed,
    VersionNotFound,
    first_line,
)
from lightkeeper.lineage import TAG, Lineage, ModelSummary, VersionInfo
from lightkeeper.names import check_version
from lightkeeper.predictor import Predictor

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

    from lightkeeper.manifest import Manifest
    from lightkeeper.registry_tables import MlflowTables

__all__ = ["TAG", "Lineage", "ModelSummary", "Registry", "VersionInfo", "deployment_alias"]

log = logging.getLogger(__name__)
_FLUENT_LOCK = threading.RLock()

PROFILE_ARTIFACT = "lightkeeper/reference_profile.json"
OUTPUT_PROFILE_ARTIFACT = "lightkeeper/output_profile.json"  # the model's training predictions
MANIFEST_ARTIFACT = "lightkeeper/lightkeeper.yaml"
LINEAGE_ARTIFACT = "lightkeeper/lineage.json"
ALIAS_ROLES = ("champion", "challenger")
_MAX_ALIAS = 255  # MLflow's limit on an alias name
_MANIFESTS_KEPT = 256  # parsed manifests cached per process


def deployment_alias(role: str, deployment: str) -> str:
    """The MLflow alias of a deployment's ``champion`` or ``challenger``.

    ``deployment_alias("champion", "weather-batch")`` is ``"champion-weather-batch"``.

    Raises:
        InvalidInput: an unknown role, or a name MLflow would refuse as an alias.
    """
    if role not in ALIAS_ROLES:
        raise InvalidInput(f"{role!r} is not an alias role", hint="use champion or challenger")
    alias = f"{role}-{deployment}"
    valid = bool(deployment) and all(c.isalnum() or c in "-_" for c in deployment)
    if not valid or len(alias) > _MAX_ALIAS:
        raise InvalidInput(
            f"deployment name {deployment!r} cannot be part of an MLflow alias",
            hint=f"use letters, digits, - and _ (at most {_MAX_ALIAS - len(role) - 1} characters)",
        )
    return alias


def _model_not_found(name: str) -> ModelNotFound:
    return ModelNotFound(
        f"no registered model named {name!r}", hint="list models with: lightkeeper models list"
    )


def _ms_to_dt(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms else None


class Registry:
    """Register, list, show and load model versions in one MLflow store."""

    def __init__(self, tracking_uri: str, artifact_root: Path | None = None) -> None:
        """Args:
        tracking_uri: MLflow tracking and registry URI.
        artifact_root: where the embedded store keeps artifacts (``None`` for a server).
        """
        self.tracking_uri = tracking_uri
        self.artifact_root = artifact_root
        self._client: MlflowClient | None = None
        self._tables: MlflowTables | bool | None = False  # False: not looked at yet
        self._manifests: OrderedDict[tuple[str, int], Manifest | None] = OrderedDict()
        self._profiles: OrderedDict[tuple[str, int, str], str | None] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def tables(self) -> MlflowTables | None:
        """Direct reads of the store's tables (no MLflow start-up), when it is a database."""
        from lightkeeper.registry_tables import MlflowTables

        if self._tables is False:
            self._tables = MlflowTables.for_uri(self.tracking_uri)
        return self._tables if isinstance(self._tables, MlflowTables) else None

    # -- plumbing ---------------------------------------------------------------------
    @property
    def _mlflow(self) -> MlflowClient:
        """The MLflow client, created on first use (importing mlflow is slow); only the
        registry talks to MLflow."""
        if self._client is None:
            if self.tracking_uri.startswith("sqlite:///"):
                Path(self.tracking_uri.removeprefix("sqlite:///")).parent.mkdir(
                    parents=True, exist_ok=True
                )
            from mlflow import MlflowClient

            with self._translate():
                self._client = MlflowClient(
                    tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri
                )
        return self._client

    @contextlib.contextmanager
    def _translate(self, model: str | None = None, version: int | None = None) -> Iterator[None]:
        """Turn MLflow's exceptions into lightkeeper errors with a next step."""
        from mlflow.exceptions import MlflowException

        try:
            yield
        except MlflowException as exc:
            code = getattr(exc, "error_code", "")
            if code == "RESOURCE_DOES_NOT_EXIST" and model is not None:
                if version is not None and self._model_exists(model):
                    raise VersionNotFound(
                        f"model {model!r} has no version {version}",
                        hint=f"list its versions with: lightkeeper models show {model}",
                    ) from None
                raise _model_not_found(model) from None
            if "connect" in str(exc).lower() or "max retries" in str(exc).lower():
                raise self._unavailable(exc) from None
            if code in {"PERMISSION_DENIED", "UNAUTHENTICATED"}:
                raise ModelStoreUnavailable(
                    f"the model store at {self.display_uri} refused access: {first_line(exc)}",
                    hint="check the MLflow credentials (MLFLOW_TRACKING_USERNAME/PASSWORD or "
                    "MLFLOW_TRACKING_TOKEN)",
                ) from None
            if code in {"INVALID_PARAMETER_VALUE", "RESOURCE_ALREADY_EXISTS", "BAD_REQUEST"}:
                raise InvalidInput(
                    f"the model store refused the request: {first_line(exc)}",
                    hint="check the model name, version and values given",
                ) from None
            raise
        except (ConnectionError, OSError) as exc:
            raise self._unavailable(exc) from None

    @property
    def display_uri(self) -> str:
        """The tracking URI with any password hidden."""
        return mask_uri(self.tracking_uri)

    def _unavailable(self, exc: BaseException) -> ModelStoreUnavailable:
        return ModelStoreUnavailable(
            f"cannot reach the model store at {self.display_uri}: {first_line(exc)}",
            hint="check MLFLOW_TRACKING_URI / LIGHTKEEPER_TRACKING_URI (lightkeeper settings)",
        )

    def _model_exists(self, name: str) -> bool:
        from mlflow.exceptions import MlflowException

        try:
            self._mlflow.get_registered_model(name)
        except MlflowException:
            return False
        return True

    @contextlib.contextmanager
    def activate(self) -> Iterator[None]:
        """Point MLflow's fluent API (``mlflow.start_run``...) at this store for a while.

        MLflow keeps the URI process-wide, so one thread at a time may hold it.
        """
        import mlflow

        with _FLUENT_LOCK:
            # mlflow leaves this function unannotated; it returns a bool
            is_set = cast(Callable[[], bool], mlflow.is_tracking_uri_set)
            previous = mlflow.get_tracking_uri() if is_set() else None
            previous_registry = mlflow.get_registry_uri()
            mlflow.set_tracking_uri(self.tracking_uri)
            mlflow.set_registry_uri(self.tracking_uri)
            try:
                yield
            finally:
                mlflow.set_tracking_uri(previous or "")
                mlflow.set_registry_uri(previous_registry if previous else "")

    def experiment_id(self, name: str) -> str:
        """The MLflow experiment for a model's training runs, created when missing."""
        client = self._mlflow
        with self._translate():
            experiment = client.get_experiment_by_name(name)
            if experiment is not None:
                return str(experiment.experiment_id)
            location = None
            if self.artifact_root is not None:
                folder = (self.artifact_root / "experiments" / name).absolute()
                folder.mkdir(parents=True, exist_ok=True)
                location = folder.as_uri()
            return str(client.create_experiment(name, artifact_location=location))

    # -- reading ----------------------------------------------------------------------
    def _summaries(self, name: str | None = None) -> list[ModelSummary] | None:
        """Models read from the store's tables; ``None`` when only MLflow can say."""
        tables = self.tables
        found = tables.models(name) if tables is not None else None
        if found is None:
            return None
        return [
            ModelSummary(
                name=m["name"],
                description=m["description"],
                latest_version=max(m["versions"]) if m["versions"] else None,
                versions=len(m["versions"]),
                aliases=m["aliases"],
                updated_at=_ms_to_dt(m["updated_ms"]),
            )
            for m in found
        ]

    def list_models(self) -> list[ModelSummary]:
        """Every registered model, sorted by name."""
        fast = self._summaries()
        if fast is not None:
            return sorted(fast, key=lambda s: s.name)
        client = self._mlflow
        with self._translate():
            models = list(client.search_registered_models(max_results=1000))
            summaries = []
            for rm in models:
                versions = client.search_model_versions(f"name = '{_quote(rm.name)}'")
                numbers = [int(v.version) for v in versions]
                summaries.append(
                    ModelSummary(
                        name=rm.name,
                        description=rm.description or "",
                        latest_version=max(numbers) if numbers else None,
                        versions=len(numbers),
                        aliases={k: int(v) for k, v in (rm.aliases or {}).items()},
                        updated_at=_ms_to_dt(rm.last_updated_timestamp),
                    )
                )
        return sorted(summaries, key=lambda s: s.name)

    def get_model(self, name: str) -> ModelSummary:
        """One registered model; raises :class:`ModelNotFound`."""
        fast = self._summaries(name)
        if fast is not None:
            if not fast:
                raise _model_not_found(name)
            return fast[0]
        client = self._mlflow
        with self._translate(name):
            rm = client.get_registered_model(name)
            versions = client.search_model_versions(f"name = '{_quote(name)}'")
        numbers = [int(v.version) for v in versions]
        return ModelSummary(
            name=rm.name,
            description=rm.description or "",
            latest_version=max(numbers) if numbers else None,
            versions=len(numbers),
            aliases={k: int(v) for k, v in (rm.aliases or {}).items()},
            updated_at=_ms_to_dt(rm.last_updated_timestamp),
        )

    def list_versions(self, name: str) -> list[VersionInfo]:
        """Every version of a model with its aliases, newest first.

        Raises:
            ModelNotFound: no model of that name.
        """
        summary = self.get_model(name)
        tables = self.tables
        fast = tables.versions(name) if tables is not None else None
        versions: list[Any]
        if fast is not None:
            versions = fast
        else:
            with self._translate(name):
                versions = list(self._mlflow.search_model_versions(f"name = '{_quote(name)}'"))
        # MLflow's version search leaves aliases out; the registered model has them all.
        by_version: dict[int, list[str]] = {}
        for alias, number in summary.aliases.items():
            by_version.setdefault(number, []).append(alias)
        infos = []
        for mv in versions:
            info = self._version_info(mv, with_run=False)
            aliases = sorted({*info.aliases, *by_version.get(info.version, [])})
            infos.append(dataclasses.replace(info, aliases=aliases))
        return sorted(infos, key=lambda v: -v.version)

    def get_version(self, name: str, version: int | str) -> VersionInfo:
        """One version with lineage, params and metrics.

        ``version`` is a number, ``latest`` or an alias such as ``champion``.
        """
        number = self.resolve_version(name, version)
        tables = self.tables
        fast = tables.versions(name, number) if tables is not None else None
        if fast:
            summary = self._summaries(name)
            aliases = summary[0].aliases if summary else {}
            fast[0].aliases = [a for a, v in aliases.items() if v == number]
            return self._version_info(fast[0], with_run=True)
        if fast == [] and tables is not None and tables.models(name) == []:
            raise _model_not_found(name)
        if fast == []:
            raise VersionNotFound(
                f"model {name!r} has no version {number}",
                hint=f"list its versions with: lightkeeper models show {name}",
            )
        with self._translate(name, number):
            mv = self._mlflow.get_model_version(name, str(number))
        return self._version_info(mv, with_run=True)

    def resolve_version(self, name: str, version: int | str) -> int:
        """Turn ``3``, ``"3"``, ``"latest"`` or an alias into a version number
        (:class:`~lightkeeper.errors.InvalidInput` for a number no version can have)."""
        text = str(check_version(version))
        if text.isdigit():
            return int(text)
        if text == "latest":
            latest = self.get_model(name).latest_version
            if latest is None:
                raise VersionNotFound(f"model {name!r} has no versions yet", hint="train one")
            return latest
        fast = self._summaries(name)
        if fast is not None:
            if not fast:
                raise _model_not_found(name)
            if text in fast[0].aliases:
                return fast[0].aliases[text]
            raise VersionNotFound(
                f"model {name!r} has no version or alias {text!r}",
                hint=f"list its versions with: lightkeeper models show {name}",
            )
        with self._translate(name, -1):
            try:
                return int(self._mlflow.get_model_version_by_alias(name, text).version)
            except Exception as exc:
                if isinstance(exc, ModelNotFound):
                    raise
                if not self._model_exists(name):
                    raise _model_not_found(name) from None
                raise VersionNotFound(
                    f"model {name!r} has no version or alias {text!r}",
                    hint=f"list its versions with: lightkeeper models show {name}",
                ) from None

    def _version_info(self, mv: Any, *, with_run: bool) -> VersionInfo:
        tags = dict(mv.tags or {})
        params: dict[str, str] = {}
        metrics: dict[str, float] = {}
        if with_run and mv.run_id:
            tables = self.tables
            data = tables.run_data(mv.run_id) if tables is not None else None
            if data is not None:
                params, metrics = data
            else:
                with contextlib.suppress(Exception):  # a deleted run leaves no params
                    run = self._mlflow.get_run(mv.run_id)
                    params = dict(run.data.params)
                    metrics = dict(run.data.metrics)
        return VersionInfo(
            model=mv.name,
            version=int(mv.version),
            created_at=_ms_to_dt(mv.creation_timestamp) or datetime.now(UTC),
            status=str(mv.status),
            source=str(mv.source),
            run_id=mv.run_id or None,
            aliases=sorted(mv.aliases or []),
            lineage=Lineage.from_tags(tags),
            flavor=tags.get(TAG + "flavor"),
            params=params,
            metrics=metrics,
            tags=tags,
        )

    def _run_text(self, name: str, version: int | str, artifact: str) -> str | None:
        """A text artifact of the version's training run, ``None`` when it has none.

        Uses the client (no process-wide MLflow state), so concurrent requests are safe.
        """
        import tempfile

        info = self.get_version(name, version)
        if not info.run_id:
            return None
        folder, _, filename = artifact.rpartition("/")
        with self._translate():
            listed = {Path(f.path).name for f in self._mlflow.list_artifacts(info.run_id, folder)}
            if filename not in listed:
                return None
            with tempfile.TemporaryDirectory(prefix="lightkeeper-artifact-") as tmp:
                local = self._mlflow.download_artifacts(info.run_id, artifact, tmp)
                return Path(local).read_text(encoding="utf-8")

    def reference_profile(
        self, name: str, version: int | str, *, output: bool = False
    ) -> dict[str, Any] | None:
        """The stored reference profile of a version as JSON data, ``None`` if it has none.

        With ``output``, the profile of the model's own predictions on its training data
        (one feature, ``prediction``) instead of the features'. Each is downloaded once per
        process (the newest :data:`_MANIFESTS_KEPT` are kept).
        """
        import json

        artifact = OUTPUT_PROFILE_ARTIFACT if output else PROFILE_ARTIFACT
        key = (name, self.resolve_version(name, version), artifact)
        with self._lock:  # a version's artifacts never change: read each once per process
            known = key in self._profiles
            text = self._profiles.get(key)
        if not known:
            text = self._run_text(name, key[1], artifact)
            with self._lock:
                self._profiles[key] = text
                while len(self._profiles) > _MANIFESTS_KEPT:
                    self._profiles.popitem(last=False)
        if text is None:
            return None
        data: dict[str, Any] = json.loads(text)  # a fresh copy for each caller
        return data

    def model_code(self, name: str, version: int | str, into: Path) -> Path | None:
        """Download the project code shipped with a version; ``None`` if it has none."""
        from mlflow.artifacts import download_artifacts

        number = self.resolve_version(name, version)
        with self._translate(name, number):
            location = self._mlflow.get_model_version_download_uri(name, str(number))
            try:
                folder = download_artifacts(
                    artifact_uri=f"{location.rstrip('/')}/code", dst_path=str(into)
                )
            except Exception as exc:
                log.info("%s v%s ships no code: %s", name, number, first_line(exc))
                return None
        path = Path(folder)
        return path if path.is_dir() and any(path.iterdir()) else None

    def manifest_text(self, name: str, version: int | str) -> str | None:
        """The ``lightkeeper.yaml`` snapshot stored with a version, ``None`` if it has none."""
        return self._run_text(name, version, MANIFEST_ARTIFACT)

    def manifest(self, name: str, version: int | str) -> Manifest | None:
        """The parsed manifest stored with a version, ``None`` if it has none.

        A version's artifacts never change, so each is read and parsed once per process
        (the newest :data:`_MANIFESTS_KEPT` are kept); ``latest`` and aliases are resolved
        first, so they follow the registry.
        """
        from lightkeeper.manifest import parse_manifest

        number = self.resolve_version(name, version)
        key = (name, number)
        with self._lock:
            if key in self._manifests:
                self._manifests.move_to_end(key)
                return self._manifests[key]
        text = self.manifest_text(name, number)
        manifest = (
            parse_manifest(text, source=f"manifest of {name} version {number}") if text else None
        )
        with self._lock:
            self._manifests[key] = manifest
            while len(self._manifests) > _MANIFESTS_KEPT:
                self._manifests.popitem(last=False)
        return manifest

    # -- writing ----------------------------------------------------------------------
    def log_and_register(
        self,
        name: str,
        model: Any,
        *,
        features: pd.DataFrame,
        lineage: Lineage,
        artifacts: Mapping[str, str],
        code_paths: list[str] | None = None,
    ) -> VersionInfo:
        """Log a fitted model into the active MLflow run and register it as a new version.

        Args:
            name: registered model name.
            model: a fitted scikit-learn estimator, an ``mlflow.pyfunc.PythonModel``, or a
                model URI (``runs:/...``, ``models:/...``) logged by the train entrypoint.
            features: training features; a sample sets the MLflow signature.
            lineage: written as version tags.
            artifacts: text artifacts (path in run -> content), e.g. the reference profile.
            code_paths: the project's own modules, shipped with the model so that it loads
                anywhere (custom transformers pickled by reference need them).
        """
        import mlflow

        for path, text in artifacts.items():
            mlflow.log_text(text, path)
        model_uri = self._log_model(model, features, code_paths or None)
        return self.register_uri(name, model_uri, lineage=lineage)

    def register_uri(self, name: str, model_uri: str, *, lineage: Lineage) -> VersionInfo:
        """Register a model MLflow already holds (any flavor) as a new version.

        Args:
            name: registered model name (created when missing).
            model_uri: ``runs:/RUN/PATH``, ``models:/...`` or an artifact URI.
            lineage: written as version tags.
        """
        import mlflow

        with self._translate(), self.activate():
            try:
                flavors = mlflow.models.get_model_info(model_uri).flavors
            except Exception as exc:
                raise ModelLoadFailed(
                    f"MLflow has no model at {model_uri}: {exc}",
                    hint="give the URI of a logged model, e.g. runs:/RUN_ID/model "
                    "(see the run's artifacts in MLflow)",
                ) from None
            flavor = next((f for f in flavors if f != "python_function"), "python_function")
            chatter = io.StringIO()  # MLflow prints "Successfully registered model" on stderr
            with contextlib.redirect_stderr(chatter):
                mv = mlflow.register_model(
                    model_uri, name, tags={**lineage.tags(), TAG + "flavor": flavor}
                )
        log.debug("mlflow: %s", chatter.getvalue().strip())
        log.info("registered %s version %s from %s", name, mv.version, model_uri)
        return self.get_version(name, int(mv.version))

    def _log_model(self, model: Any, features: pd.DataFrame, code_paths: list[str] | None) -> str:
        import mlflow

        if isinstance(model, str):
            if not model.startswith(("runs:/", "models:/")):
                raise TrainingFailed(
                    f"the train entrypoint returned the string {model!r} as the model",
                    hint="return a fitted model object or a model URI (runs:/... or models:/...)",
                )
            return model
        if isinstance(model, mlflow.pyfunc.PythonModel):
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=model,
                pip_requirements=_requirements(model),
                code_paths=code_paths,
            )
            return str(info.model_uri)
        if not callable(getattr(model, "predict", None)):
            raise TrainingFailed(
                f"the train entrypoint returned a {type(model).__name__}, which has no predict()",
                hint="return a fitted scikit-learn estimator, an mlflow.pyfunc.PythonModel "
                "or a model URI",
            )
        from mlflow.models import infer_signature

        sample = features.head(50)
        try:
            output = model.predict(sample)
        except Exception as exc:
            raise TrainingFailed(
                f"the trained model failed to predict on its own training rows: {exc}",
                hint="check that the train entrypoint returns the frame the model was fitted on",
            ) from exc
        signature = infer_signature(sample, output)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=signature,
            pip_requirements=_requirements(model),
            serialization_format="cloudpickle",
            code_paths=code_paths,
        )
        return str(info.model_uri)

    def set_deployment_aliases(
        self, name: str, deployment: str, *, champion: int | None, challenger: int | None
    ) -> None:
        """Point ``champion-<deployment>`` and ``challenger-<deployment>`` at these versions.

        ``None`` removes the alias, so MLflow shows exactly the deployment's desired state.
        """
        wanted = {"champion": champion, "challenger": challenger}
        aliases = {role: deployment_alias(role, deployment) for role in ALIAS_ROLES}
        current = self.get_model(name).aliases
        client = self._mlflow
        with self._translate(name):
            for role, alias in aliases.items():
                version = wanted[role]
                if version is not None:
                    client.set_registered_model_alias(name, alias, str(version))
                elif alias in current:
                    client.delete_registered_model_alias(name, alias)
        log.info("%s aliases of %s: %s", name, deployment, wanted)

    def tag_version(self, name: str, version: int, tags: Mapping[str, str]) -> None:
        """Set tags on one version (e.g. ``lightkeeper.gate.verdict``)."""
        client = self._mlflow
        with self._translate(name, version):
            for key, value in tags.items():
                client.set_model_version_tag(name, str(version), key, value)

    # -- loading ----------------------------------------------------------------------
    def load(self, name: str, version: int | str) -> Predictor:
        """Load a version into a :class:`Predictor` (native flavor where there is one)."""
        import mlflow

        info = self.get_version(name, version)
        uri = f"models:/{name}/{info.version}"

        with self.activate():
            try:
                flavors = mlflow.models.get_model_info(uri).flavors
                if "sklearn" in flavors:
                    native = mlflow.sklearn.load_model(uri)
                    return Predictor(info, native, native=True)
                return Predictor(info, mlflow.pyfunc.load_model(uri), native=False)
            except Exception as exc:
                raise ModelLoadFailed(
                    f"cannot load {name} version {info.version}: {type(exc).__name__}: {exc}",
                    hint="check the version's dependencies (lightkeeper models show "
                    f"{name} {info.version}) and that its artifacts are readable",
                ) from exc


def _requirements(model: Any) -> list[str]:
    """Pinned pip requirements, given explicitly: inferring them costs MLflow seconds."""
    from importlib.metadata import PackageNotFoundError, version

    packages = ["numpy", "pandas", "cloudpickle"]
    if type(model).__module__.split(".")[0] == "sklearn" or hasattr(model, "get_params"):
        packages.append("scikit-learn")
    pins = []
    for package in packages:
        try:
            pins.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            pins.append(package)
    return pins


def mask_uri(uri: str) -> str:
    """A URI with its password replaced by ``***``."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri
    if parts.password is None:
        return uri
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _quote(name: str) -> str:
    return name.replace("'", "\\'")
