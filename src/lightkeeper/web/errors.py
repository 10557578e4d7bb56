"""The one place that maps lightkeeper errors to HTTP statuses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from lightkeeper import errors

log = logging.getLogger(__name__)

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
    errors.MonitorResultNotFound: 404,
    errors.AlarmNotFound: 404,
    errors.AlarmStateRefused: 409,
    errors.GateNotAccepted: 409,
    errors.GateSignoffRefused: 409,
    errors.DeploymentNotFound: 404,
    errors.ReleaseRefused: 409,
    errors.ServiceNotReady: 503,
    errors.PayloadTooLarge: 413,
    errors.PredictionFailed: 500,
    errors.RunInProgress: 409,
    errors.TooManyRejects: 422,
    errors.InputUnavailable: 503,
    errors.PublishRefused: 409,
}


def status_for(exc: errors.LightkeeperError) -> int:
    """HTTP status of an error: the most specific class in :data:`STATUS`, else 500."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def install(app: FastAPI) -> None:
    """Render every error as ``{"error": {code, message, hint}}``.

    Request validation keeps FastAPI's ``detail`` list (each entry names the field) and
    adds the same ``error`` object; anything unexpected is a logged 500 with ``LK-ERROR``.
    """

    @app.exception_handler(errors.LightkeeperError)
    async def _handle(_request: Request, exc: errors.LightkeeperError) -> JSONResponse:
        return JSONResponse({"error": exc.to_dict()}, status_code=status_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = jsonable_encoder(exc.errors())
        fields = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in detail[:5]
        )
        error = errors.InvalidInput(fields, hint="see detail for every field that was wrong")
        return JSONResponse({"error": error.to_dict(), "detail": detail}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        error = errors.LightkeeperError(
            f"internal error: {type(exc).__name__}",
            hint="the server log has the details; please report it",
        )
        return JSONResponse({"error": error.to_dict()}, status_code=500)
