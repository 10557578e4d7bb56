"""The one place that maps lightkeeper errors to HTTP statuses."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from lightkeeper import errors

log = logging.getLogger(__name__)

STATUS: dict[type[errors.LightkeeperError], int] = {
    errors.ModelNotFound: 404,
    errors.VersionNotFound: 404,
    errors.InvalidInput: 422,
    errors.NoSuchRoute: 404,
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


class ErrorDetail(BaseModel):
    """What went wrong: a stable code (``docs/errors.md``), a message, what to do next."""

    code: str = Field(examples=["LK-DEPLOYMENT-NOT-FOUND"])
    message: str
    hint: str


class ErrorResponse(BaseModel):
    """The body of every error answer of the HTTP APIs."""

    error: ErrorDetail
    detail: list[dict[str, Any]] | None = Field(
        None, description="request validation only: each field that was wrong (FastAPI's form)"
    )


_MEANING = {
    401: "No valid API token (LK-UNAUTHENTICATED)",
    403: "The token's role may not do this (LK-PERMISSION-DENIED)",
    404: "No such thing by that name or id (LK-...-NOT-FOUND)",
    409: "Not possible in the current state (the code and message say why)",
    413: "The request body is too large (LK-PAYLOAD-TOO-LARGE)",
    422: "The request, a parameter or the data does not have the expected form "
    "(LK-INVALID-INPUT and others)",
    500: "The model raised, or an internal error (the server log has the details)",
    503: "The ops database, the model store or the model is not available right now",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses: JSON with the error body's schema,
    whatever the route's own media type (an HTML report's errors are JSON too)."""
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    return {status: {"description": _MEANING[status], "content": body} for status in statuses}


# the refusals most routes declare beside the API-wide ones
NOT_FOUND = responses(404)
NOT_FOUND_OR_REFUSED = responses(404, 409)


def _with_error_schemas(app: FastAPI) -> None:
    """Add :class:`ErrorResponse` to the app's OpenAPI components, where
    :func:`responses` refers to it."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            error = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(error.pop("$defs", {}))
            schemas["ErrorResponse"] = error
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def status_for(exc: errors.LightkeeperError) -> int:
    """HTTP status of an error: the most specific class in :data:`STATUS`, else 500."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def install(app: FastAPI, *, redact: Callable[[str], str] | None = None) -> None:
    """Render every error as ``{"error": {code, message, hint}}``.

    Request validation keeps FastAPI's ``detail`` list (each entry names the field) and
    adds the same ``error`` object; anything unexpected is a logged 500 with ``LK-ERROR``.
    The OpenAPI document gets the error body's schema (see :func:`responses`). ``redact``
    removes credentials from messages (``Settings.redact``: a library's words may quote a
    URL with its password).
    """
    _with_error_schemas(app)

    @app.exception_handler(errors.LightkeeperError)
    async def _handle(_request: Request, exc: errors.LightkeeperError) -> JSONResponse:
        body = exc.to_dict()
        if redact is not None:
            body = {key: redact(value) for key, value in body.items()}
        return JSONResponse({"error": body}, status_code=status_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = jsonable_encoder(exc.errors())
        error = _validation_error(detail, request.headers.get("content-type"))
        return JSONResponse({"error": error.to_dict(), "detail": detail}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        error = _http_error(request, exc)
        status = 422 if exc.status_code == 400 else exc.status_code
        return JSONResponse({"error": error.to_dict()}, status_code=status, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        error = errors.LightkeeperError(
            f"internal error: {type(exc).__name__}",
            hint="the server log has the details; please report it",
        )
        return JSONResponse({"error": error.to_dict()}, status_code=500)


def _validation_error(
    detail: list[dict[str, Any]], content_type: str | None
) -> errors.InvalidInput:
    """One message for FastAPI's validation errors: a body that is not JSON gets its own."""
    for entry in detail:
        if entry.get("type") == "json_invalid":
            position = entry["loc"][-1] if len(entry["loc"]) > 1 else 0
            reason = (entry.get("ctx") or {}).get("error", "not JSON")
            return errors.InvalidInput(
                f"the request body is not valid JSON: {reason} (at character {position})",
                hint="send a JSON object with Content-Type: application/json",
            )
    media = (content_type or "").split(";")[0].strip().lower()
    body_refused = any(tuple(e.get("loc", ())) == ("body",) for e in detail)
    if body_refused and media and media != "application/json" and not media.endswith("+json"):
        return errors.InvalidInput(
            f"the request body is {media}, which is not read as JSON",
            hint="send a JSON object with Content-Type: application/json",
        )
    fields = "; ".join(
        f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in detail[:5]
    )
    return errors.InvalidInput(fields, hint="see detail for every field that was wrong")


def _http_error(request: Request, exc: HTTPException) -> errors.LightkeeperError:
    """The framework's own refusals in the documented shape."""
    where = f"{request.method} {request.url.path}"
    if exc.status_code == 400:  # FastAPI could not read the body at all (not UTF-8...)
        cause = exc.__cause__
        reason = f": {type(cause).__name__}" if cause is not None else ""
        return errors.InvalidInput(
            f"the request body of {where} cannot be read{reason}",
            hint="send a JSON object, UTF-8 encoded, with Content-Type: application/json",
        )
    if exc.status_code == 404:
        return errors.NoSuchRoute(
            f"{where}: no such route", hint="the routes are listed at /docs and /openapi.json"
        )
    if exc.status_code == 405:
        allowed = {k.lower(): v for k, v in (exc.headers or {}).items()}.get("allow", "")
        return errors.NoSuchRoute(
            f"{request.url.path} does not take {request.method}"
            + (f" (it takes {allowed})" if allowed else ""),
            hint="the routes are listed at /docs and /openapi.json",
        )
    return errors.LightkeeperError(f"{where}: {exc.detail}", hint="see /docs")
