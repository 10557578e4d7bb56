"""lightkeeper: keep machine-learning models working in production.

The public Python API. Heavy libraries (mlflow, pandas, scikit-learn) are imported
only where they are used, so ``import lightkeeper`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lightkeeper.app import Lightkeeper
from lightkeeper.clock import Clock, FixedClock, SystemClock
from lightkeeper.errors import (
    AlarmNotFound,
    AlarmStateRefused,
    DatabaseOutdated,
    DatabaseUnavailable,
    DemoFailed,
    DeploymentNotFound,
    GateNotAccepted,
    GateRunNotFound,
    GateSignoffRefused,
    GoldDatasetInvalid,
    GoldDatasetNotFound,
    InputUnavailable,
    InvalidInput,
    LightkeeperError,
    LogStoreUnavailable,
    ManifestError,
    ModelLoadFailed,
    ModelNotFound,
    ModelStoreUnavailable,
    MonitorResultNotFound,
    NoSuchRoute,
    PayloadTooLarge,
    PermissionDenied,
    PortInUse,
    PredictionFailed,
    PublishRefused,
    ReleaseRefused,
    RunInProgress,
    ServiceNotReady,
    SettingsError,
    TooManyRejects,
    TrainingFailed,
    Unauthenticated,
    VersionNotFound,
    WorkspaceNotFound,
)
from lightkeeper.settings import Settings

if TYPE_CHECKING:
    from lightkeeper.training import TrainResult

from lightkeeper.version import __version__

__all__ = [
    "AlarmNotFound",
    "AlarmStateRefused",
    "Clock",
    "DatabaseOutdated",
    "DatabaseUnavailable",
    "DemoFailed",
    "DeploymentNotFound",
    "FixedClock",
    "GateNotAccepted",
    "GateRunNotFound",
    "GateSignoffRefused",
    "GoldDatasetInvalid",
    "GoldDatasetNotFound",
    "InputUnavailable",
    "InvalidInput",
    "Lightkeeper",
    "LightkeeperError",
    "LogStoreUnavailable",
    "ManifestError",
    "ModelLoadFailed",
    "ModelNotFound",
    "ModelStoreUnavailable",
    "MonitorResultNotFound",
    "NoSuchRoute",
    "PayloadTooLarge",
    "PermissionDenied",
    "PortInUse",
    "PredictionFailed",
    "PublishRefused",
    "ReleaseRefused",
    "RunInProgress",
    "ServiceNotReady",
    "Settings",
    "SettingsError",
    "SystemClock",
    "TooManyRejects",
    "TrainResult",
    "TrainingFailed",
    "Unauthenticated",
    "VersionNotFound",
    "WorkspaceNotFound",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # TrainResult lives beside the training code, which imports pandas-aware modules.
    if name == "TrainResult":
        from lightkeeper.training import TrainResult

        return TrainResult
    raise AttributeError(f"module 'lightkeeper' has no attribute {name!r}")
