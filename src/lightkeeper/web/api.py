"""Control-plane HTTP API. OpenAPI at /openapi.json, docs at /docs.

The routes live in :mod:`lightkeeper.web.routes`, one module per resource; they reach the
workspace and the caller through the dependencies of :mod:`lightkeeper.web.deps`. Every
route checks the caller's role: a bearer token when one is sent (required with auth on),
the local user as admin with auth off. The background loops of ``lightkeeper up`` are
built by the control plane and only started and stopped here, with the app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Protocol

from fastapi import APIRouter, FastAPI

from lightkeeper.asgi import docs, errors
from lightkeeper.version import __version__
from lightkeeper.web.routes import (
    alarms,
    audit,
    batch,
    deployments,
    gate,
    gold,
    health,
    labels,
    loops,
    models,
    monitors,
    predictions,
    signals,
    tokens,
)

if TYPE_CHECKING:
    from lightkeeper.app import Lightkeeper

# mounted in this order under /api/v1 (the order of the OpenAPI document's paths)
RESOURCES = (
    models,
    audit,
    gold,
    gate,
    deployments,
    predictions,
    batch,
    monitors,
    labels,
    alarms,
    signals,
    loops,
    tokens,
)


class Runnable(Protocol):
    """Something that runs beside the API while it serves: a background loop."""

    def start(self) -> None:
        """Start running (without blocking)."""

    def stop(self) -> None:
        """Stop and wait until stopped."""


def build_api(lk: Lightkeeper, *, loops: Sequence[Runnable] = ()) -> FastAPI:
    """Build the API for one workspace; ``loops`` run while it serves (``lightkeeper up``)."""
    app = FastAPI(
        title="lightkeeper",
        version=__version__,
        description="Control-plane API of a lightkeeper workspace.",
        lifespan=_running(tuple(loops)),
        docs_url=None,  # served from the package by docs.install: no CDN
        redoc_url=None,
    )
    app.state.lk = lk
    docs.install(app)
    errors.install(app, redact=lk.settings.redact)
    app.include_router(health.router)
    # every route below may answer these; each adds the statuses of its own refusals
    v1 = APIRouter(prefix="/api/v1", responses=errors.responses(401, 403, 422, 500, 503))
    for resource in RESOURCES:
        v1.include_router(resource.router)
    app.include_router(v1)
    return app


def _running(
    loops: Sequence[Runnable],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan that starts ``loops`` in order and stops the started ones in reverse."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        started: list[Runnable] = []
        try:
            for loop in loops:
                loop.start()
                started.append(loop)
            yield
        finally:
            for loop in reversed(started):
                loop.stop()

    return lifespan
