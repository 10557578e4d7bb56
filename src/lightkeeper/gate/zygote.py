"""Fresh processes for the gate's worker, without paying for the imports every time.

Loading a version "the way serving will" means a process that has none of the caller's
state: not the project code that training imported, not a notebook's variables. Starting
Python and importing MLflow, pandas and scikit-learn costs about 2.5 s, which a gate run
paid every time. A *zygote* (the Android name for the same trick) is started once per
calling process with ``python -m lightkeeper.gate.zygote``: it imports
those libraries and nothing of the caller's, then forks one child per job. The child is
as clean as a fresh process for what the gate checks (it never saw the caller's modules),
gets the caller's environment and working folder for this job, writes its output and log
into the job's folder, and exits; the zygote reports its exit code.

The parent falls back to a plain ``python -m lightkeeper.gate.worker JOB`` process where
there is no ``fork`` (Windows), while another gate run of this process is using the
zygote, or when the zygote cannot be started or dies; the result is the same, only
slower.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

#: Imported by the zygote where installed: MLflow's model loading and its SQL stores, and
#: the scikit-learn modules most models are made of (about 1 s a job saves).
PRELOAD = (
    "mlflow.pyfunc",
    "mlflow.sklearn",
    "mlflow.tracking",
    "mlflow.tracing",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.model_registry.sqlalchemy_store",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "alembic.runtime.migration",
    "sklearn.pipeline",
    "sklearn.compose",
    "sklearn.preprocessing",
    "sklearn.linear_model",
    "sklearn.ensemble",
    "sklearn.metrics",
)

#: How Python is asked to start a zygote.
COMMAND = ("-m", "lightkeeper.gate.zygote")

#: Seconds to wait for the exit report of a child that was killed for running too long.
KILL_GRACE_S = 10.0


class ZygoteBroken(RuntimeError):
    """The zygote stopped answering; the caller runs the job in a plain process."""


class Zygote:
    """One zygote process and the pipe protocol to it (one JSON line each way)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.owner = os.getpid()
        self._proc = subprocess.Popen(
            [sys.executable, *COMMAND],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._pending = b""
        try:
            ready = self._read(time.monotonic() + 120)
            if ready.get("ready") is not True:
                raise ZygoteBroken(f"the zygote did not start: {ready}")
        except BaseException:
            self.close()
            raise

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None and os.getpid() == self.owner

    def run(self, job: Path, log_path: Path, env: dict[str, str], timeout: float) -> int | None:
        """Run the worker on ``job`` in a forked child; its exit code, or ``None`` when it
        ran longer than ``timeout`` seconds (it is then killed)."""
        request = {"job": str(job), "log": str(log_path), "env": env, "cwd": os.getcwd()}
        self._write(request)
        deadline = time.monotonic() + timeout
        pid = int(self._read(deadline + 30)["pid"])
        try:
            return int(self._read(deadline)["exit"])
        except TimeoutError:
            log.warning("gate worker %s ran longer than %.0f s; killing it", pid, timeout)
            os.kill(pid, signal.SIGKILL)
            self._read(time.monotonic() + KILL_GRACE_S)
            return None

    def close(self) -> None:
        """End the zygote (it exits when its input closes) and close the pipes."""
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def _write(self, message: dict[str, Any]) -> None:
        stream = self._proc.stdin
        assert stream is not None
        try:
            stream.write(json.dumps(message).encode() + b"\n")
            stream.flush()
        except OSError as exc:
            raise ZygoteBroken(f"cannot write to the zygote: {exc}") from exc

    def _read(self, deadline: float) -> dict[str, Any]:
        """The next message; :class:`TimeoutError` at ``deadline``."""
        import select

        stream = self._proc.stdout
        assert stream is not None
        fd = stream.fileno()
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise ZygoteBroken(f"the zygote exited (code {self._proc.poll()})")
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        message: dict[str, Any] = json.loads(line)
        return message


_lock = threading.Lock()
_zygote: Zygote | None = None


def run_worker(job: Path, log_path: Path, env: dict[str, str], timeout: float) -> int | None:
    """Run ``python -m lightkeeper.gate.worker JOB`` as a fresh process: forked from this
    process's zygote where it can, else started plainly. Its stdout and stderr go to
    ``log_path``. Returns the exit code, or ``None`` when it ran out of time."""
    if not hasattr(os, "fork") or not _lock.acquire(blocking=False):
        return _plain(job, log_path, env, timeout)
    try:
        zygote = _running(env)
        if zygote is None:
            return _plain(job, log_path, env, timeout)
        try:
            return zygote.run(job, log_path, env, timeout)
        except (ZygoteBroken, OSError, ValueError, KeyError) as exc:
            log.warning("the gate's zygote failed (%s); using a plain process", exc)
            _forget()
            return _plain(job, log_path, env, timeout)
    finally:
        _lock.release()


def _running(env: dict[str, str]) -> Zygote | None:
    global _zygote
    if _zygote is not None and not _zygote.alive:
        _forget()
    if _zygote is None:
        try:
            _zygote = Zygote(env)
        except (ZygoteBroken, OSError, TimeoutError) as exc:
            log.warning("cannot start the gate's zygote (%s); using plain processes", exc)
            return None
    return _zygote


def _forget() -> None:
    global _zygote
    if _zygote is not None and os.getpid() == _zygote.owner:
        _zygote.close()
    _zygote = None


def _plain(job: Path, log_path: Path, env: dict[str, str], timeout: float) -> int | None:
    with log_path.open("wb") as output:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "lightkeeper.gate.worker", str(job)],
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None
    return done.returncode


def serve(requests: IO[bytes], replies: IO[bytes]) -> int:
    """The zygote's side: import what every job needs, then fork a child per request.

    A request is ``{"job", "log", "env", "cwd"}``; the replies are ``{"pid"}`` when the
    child starts and ``{"exit"}`` when it ends. The zygote exits when ``requests`` closes.
    """
    _preload()
    _reply(replies, {"ready": True})
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            _child(request, replies.fileno())
        _reply(replies, {"pid": pid})
        _, status = os.waitpid(pid, 0)
        _reply(replies, {"exit": os.waitstatus_to_exitcode(status)})
    return 0


def _preload() -> None:
    """What every job imports anyway; nothing of any project."""
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import threadpoolctl  # noqa: F401

    import lightkeeper.gate.worker
    import lightkeeper.registry  # noqa: F401

    for optional in PRELOAD:
        with contextlib.suppress(ImportError):
            __import__(optional)


def _child(request: dict[str, Any], replies: int) -> None:
    code = 1
    try:
        os.close(replies)  # the zygote's pipe to the caller is none of the child's business
        output = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        nothing = os.open(os.devnull, os.O_RDONLY)
        os.dup2(nothing, 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        from lightkeeper.gate import worker

        code = worker.main(["worker", request["job"]])
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _reply(replies: IO[bytes], message: dict[str, Any]) -> None:
    replies.write(json.dumps(message).encode() + b"\n")
    replies.flush()


def main() -> int:
    """``python -m lightkeeper.gate.zygote``: serve jobs on stdin, reply on stdout."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not garble the replies
    return serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    sys.exit(main())
else:
    atexit.register(_forget)
