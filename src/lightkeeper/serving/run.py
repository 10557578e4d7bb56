"""Run a model server: one process, or ``workers`` processes sharing one listening socket."""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from lightkeeper.errors import InvalidInput
from lightkeeper.settings import Settings

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from lightkeeper.store.deploy import Deployment

log = logging.getLogger(__name__)


class ServingWorkspace(Protocol):
    """What a serve process needs from its workspace: the app, and a way to close it."""

    def serving_app(self, deployment: str) -> ASGIApp:
        """The model server of ``deployment``."""

    def close(self) -> None:
        """Release the workspace's connections."""


# Builds a process's workspace from the settings. It crosses into spawned worker
# processes, so it must pickle: a class or a module-level function, not a closure.
OpenWorkspace = Callable[[Settings], ServingWorkspace]


def servable(found: Deployment) -> Deployment:
    """The deployment, if ``serve`` may run it: it is ``online``.

    Raises:
        InvalidInput: a batch or stream deployment (serving it would mix its monitoring).
    """
    deployment = found.name
    if found.kind != "online":
        raise InvalidInput(
            f"deployment {deployment!r} is a {found.kind} deployment; serve runs online ones",
            hint=(
                f"score it with: lightkeeper batch run {deployment}"
                if found.kind == "batch"
                else "create an online deployment of the model: lightkeeper deployments "
                f"create NAME --model {found.model} --kind online"
            ),
        )
    return found


def serve(
    settings: Settings,
    deployment: str,
    *,
    workspace: OpenWorkspace,
    host: str,
    port: int,
    workers: int = 1,
    access_log: bool = False,
    announce: Callable[[], None] | None = None,
) -> None:
    """Serve ``deployment`` until interrupted.

    Each process builds its own workspace with ``workspace(settings)`` (the CLI passes
    :class:`~lightkeeper.app.Lightkeeper`). With ``workers`` > 1 the parent binds the
    socket and starts that many worker processes (spawned), restarts one that dies, and
    stops them all on SIGINT or SIGTERM. ``announce`` is called once the port is bound.
    """
    if workers < 1:
        raise InvalidInput(
            f"--workers {workers} is not a number of processes", hint="use 1 or more"
        )
    from lightkeeper.sockets import listen

    sock = listen(host, port)  # a port in use fails here, before any model or loop starts
    if announce is not None:
        announce()
    if workers == 1:
        try:
            _run(workspace, settings, deployment, sock, host, port, access_log, worker=False)
        finally:
            sock.close()
        return
    context = multiprocessing.get_context("spawn")
    args = (workspace, settings, deployment, sock, host, port, access_log, True)
    processes = [context.Process(target=_run, args=args, daemon=False) for _ in range(workers)]
    for process in processes:
        process.start()
    stopping = False

    def _stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    restarts = [0.0] * workers  # when each slot may be restarted next
    backoff = [1.0] * workers
    try:
        while not stopping:
            time.sleep(0.5)
            for index, process in enumerate(processes):
                if process.is_alive() or stopping or time.monotonic() < restarts[index]:
                    continue
                log.error(
                    "worker %s exited with %s; starting another (this slot's next restart "
                    "waits %.0f s)",
                    process.pid,
                    process.exitcode,
                    backoff[index],
                )
                restarts[index] = time.monotonic() + backoff[index]
                backoff[index] = min(60.0, backoff[index] * 2)
                processes[index] = context.Process(target=_run, args=args, daemon=False)
                processes[index].start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                log.error("worker %s did not stop in 30 s; killing it", process.pid)
                process.kill()
                process.join()
        for s, handler in previous.items():
            signal.signal(s, handler)
        sock.close()


def _run(
    workspace: OpenWorkspace,
    settings: Settings,
    deployment: str,
    sock: socket.socket,
    host: str,
    port: int,
    access_log: bool,
    worker: bool,
) -> None:
    import uvicorn

    if worker:  # a spawned worker: the CLI configured logging only in the parent
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    opened = workspace(settings)
    try:
        config = uvicorn.Config(
            opened.serving_app(deployment),
            host=host,
            port=port,
            log_level=settings.log_level.lower(),
            access_log=access_log,
            timeout_graceful_shutdown=10,
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        opened.close()
