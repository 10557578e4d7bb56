"""One exception root with stable codes and a what-to-do-next hint.

Every error lightkeeper raises on purpose is a :class:`LightkeeperError` with a code
(``LK-...``) that is documented in ``docs/errors.md``. Subclasses also inherit the
matching builtin so callers can catch ``LookupError`` or ``ValueError`` as usual.
The HTTP status for each class lives in one handler in :mod:`lightkeeper.web`.
"""

from __future__ import annotations


class LightkeeperError(Exception):
    """Root of every lightkeeper error.

    Attributes:
        code: stable machine-readable code, for example ``LK-MODEL-NOT-FOUND``.
        message: what went wrong, naming the thing that was wrong.
        hint: what to do next.
    """

    code = "LK-ERROR"

    def __init__(self, message: str, *, hint: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def to_dict(self) -> dict[str, str]:
        """The error as JSON for the HTTP API and ``--json`` output."""
        return {"code": self.code, "message": self.message, "hint": self.hint}


class SettingsError(LightkeeperError, ValueError):
    """A setting has a value of the wrong type, or a required one is missing."""

    code = "LK-SETTINGS-INVALID"


class ManifestError(LightkeeperError, ValueError):
    """``lightkeeper.yaml`` is missing, unreadable or does not match the schema."""

    code = "LK-MANIFEST-INVALID"


class DatabaseUnavailable(LightkeeperError, ConnectionError):
    """The ops database cannot be reached or opened."""

    code = "LK-DATABASE-UNAVAILABLE"


class LogStoreUnavailable(DatabaseUnavailable):
    """The prediction-log files cannot be written or read (a full disk, a folder without
    permission, object storage down). Writers keep their records and try again."""

    code = "LK-LOG-STORE-UNAVAILABLE"


class DatabaseOutdated(LightkeeperError, RuntimeError):
    """The ops database schema is newer than this lightkeeper understands."""

    code = "LK-DATABASE-OUTDATED"


class ModelStoreUnavailable(LightkeeperError, ConnectionError):
    """The MLflow model store cannot be reached."""

    code = "LK-MODEL-STORE-UNAVAILABLE"


class ModelNotFound(LightkeeperError, LookupError):
    """No registered model has that name."""

    code = "LK-MODEL-NOT-FOUND"


class VersionNotFound(LightkeeperError, LookupError):
    """The model exists but has no such version."""

    code = "LK-VERSION-NOT-FOUND"


class TrainingFailed(LightkeeperError, RuntimeError):
    """The project's train entrypoint raised or returned something unusable."""

    code = "LK-TRAINING-FAILED"


class ModelLoadFailed(LightkeeperError, RuntimeError):
    """A registered version could not be loaded into a predictor."""

    code = "LK-MODEL-LOAD-FAILED"


class InvalidInput(LightkeeperError, ValueError):
    """A request, file or argument does not have the expected form."""

    code = "LK-INVALID-INPUT"


class NoSuchRoute(LightkeeperError, LookupError):
    """The HTTP API has no such path, or the path does not take that method."""

    code = "LK-NO-SUCH-ROUTE"


class Unauthenticated(LightkeeperError, PermissionError):
    """No valid API token was given where one is required."""

    code = "LK-UNAUTHENTICATED"


class PermissionDenied(LightkeeperError, PermissionError):
    """The caller's role may not do this."""

    code = "LK-PERMISSION-DENIED"


class GoldDatasetNotFound(LightkeeperError, LookupError):
    """No gold dataset (or version) by that name."""

    code = "LK-GOLD-NOT-FOUND"


class GoldDatasetInvalid(LightkeeperError, ValueError):
    """A gold dataset file does not match the project's input schema."""

    code = "LK-GOLD-INVALID"


class GateRunNotFound(LightkeeperError, LookupError):
    """No gate run matches."""

    code = "LK-GATE-RUN-NOT-FOUND"


class GateNotAccepted(LightkeeperError, RuntimeError):
    """A version without an accepted (or overridden) gate run cannot be released."""

    code = "LK-GATE-NOT-ACCEPTED"


class GateSignoffRefused(LightkeeperError, RuntimeError):
    """The gate run cannot be accepted this way (failed without override, no reason...)."""

    code = "LK-GATE-SIGNOFF-REFUSED"


class DeploymentNotFound(LightkeeperError, LookupError):
    """No deployment by that name."""

    code = "LK-DEPLOYMENT-NOT-FOUND"


class ReleaseRefused(LightkeeperError, RuntimeError):
    """The release, promotion or rollback is not possible in the deployment's state."""

    code = "LK-RELEASE-REFUSED"


class ServiceNotReady(LightkeeperError, RuntimeError):
    """The model server has no model loaded (yet); /readyz says why."""

    code = "LK-NOT-READY"


class PayloadTooLarge(InvalidInput):
    """A scoring request has more bytes or rows than the server takes in one request."""

    code = "LK-PAYLOAD-TOO-LARGE"


class RunInProgress(LightkeeperError, RuntimeError):
    """Another run of the same batch deployment and partition holds the lease."""

    code = "LK-RUN-IN-PROGRESS"


class InputUnavailable(LightkeeperError, OSError):
    """A batch input or output cannot be reached right now (a connection or disk error);
    what was staged is kept and the next run takes it over."""

    code = "LK-INPUT-UNAVAILABLE"


class PublishRefused(LightkeeperError, RuntimeError):
    """A batch output cannot take the run's rows (for example its table lacks columns);
    the scored chunks are kept for the next run."""

    code = "LK-PUBLISH-REFUSED"


class TooManyRejects(InvalidInput):
    """A batch run rejected more rows than the manifest's ``batch.max_reject_share``."""

    code = "LK-TOO-MANY-REJECTS"


class PredictionFailed(LightkeeperError, RuntimeError):
    """The served model raised while scoring valid rows."""

    code = "LK-PREDICTION-FAILED"


class MonitorResultNotFound(LightkeeperError, LookupError):
    """No stored monitor result by that id (for that deployment)."""

    code = "LK-MONITOR-RESULT-NOT-FOUND"


class AlarmNotFound(LightkeeperError, LookupError):
    """No alarm by that id."""

    code = "LK-ALARM-NOT-FOUND"


class AlarmStateRefused(LightkeeperError, RuntimeError):
    """The alarm is not in a state that allows this (acknowledging a resolved alarm...)."""

    code = "LK-ALARM-STATE"


class WorkspaceNotFound(LightkeeperError, LookupError):
    """A command that reads a workspace was run where there is none."""

    code = "LK-WORKSPACE-NOT-FOUND"


class PortInUse(LightkeeperError, OSError):
    """Another process listens on the port ``serve`` or ``up`` was asked to use."""

    code = "LK-PORT-IN-USE"


class DemoFailed(LightkeeperError, RuntimeError):
    """A step of ``lightkeeper demo`` did not do what the demo shows (a failed gate...)."""

    code = "LK-DEMO-FAILED"


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


ALL_ERRORS: tuple[type[LightkeeperError], ...] = (
    LightkeeperError,
    SettingsError,
    ManifestError,
    DatabaseUnavailable,
    LogStoreUnavailable,
    DatabaseOutdated,
    ModelStoreUnavailable,
    ModelNotFound,
    VersionNotFound,
    TrainingFailed,
    ModelLoadFailed,
    InvalidInput,
    NoSuchRoute,
    Unauthenticated,
    PermissionDenied,
    GoldDatasetNotFound,
    GoldDatasetInvalid,
    GateRunNotFound,
    GateNotAccepted,
    GateSignoffRefused,
    DeploymentNotFound,
    ReleaseRefused,
    ServiceNotReady,
    PayloadTooLarge,
    PredictionFailed,
    RunInProgress,
    TooManyRejects,
    InputUnavailable,
    PublishRefused,
    MonitorResultNotFound,
    AlarmNotFound,
    AlarmStateRefused,
    DemoFailed,
    PortInUse,
    WorkspaceNotFound,
)
