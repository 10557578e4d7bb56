"""The one place that maps lightkeeper errors to HTTP statuses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from lightkeeper import errors

STATUS: dict[type[errors.LightkeeperError], int] = {
    errors.ModelNotFound: 404,
    errors.VersionNotFound: 404,
    errors.InvalidInput: 422,
    errors.ManifestError: 422,
    errors.SettingsError: 500,
    errors.TrainingFailed: 422,
    errors.ModelLoadFailed: 500,
    errors.DatabaseUnavailable: 503,
    errors.DatabaseOutdated: 503,
    errors.ModelStoreUnavailable: 503,
    errors.Unauthenticated: 401,
    errors.PermissionDenied: 403,
    errors.GoldDatasetNotFound: 404,
    errors.GoldDatasetInvalid: 422,
    errors.GateRunNotFound: 404,
    errors.GateNotAccepted: 409,
    errors.GateSignoffRefused: 409,
}


def status_for(exc: errors.LightkeeperError) -> int:
    """HTTP status of an error: the most specific class in :data:`STATUS`, else 500."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def install(app: FastAPI) -> None:
    """Render every :class:`LightkeeperError` as ``{"error": {code, message, hint}}``."""

    @app.exception_handler(errors.LightkeeperError)
    async def _handle(_request: Request, exc: errors.LightkeeperError) -> JSONResponse:
        return JSONResponse({"error": exc.to_dict()}, status_code=status_for(exc))
