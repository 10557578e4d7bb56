"""Run one function in several real processes at once, for race tests.

Each process is started with the ``spawn`` method (a fresh interpreter, as a second
``lightkeeper`` command or server would be), sets itself up, then waits at a barrier so
that the work itself overlaps. Results come back through a queue; a failure in a process
fails the test with that process's traceback.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

Outcome = tuple[int, bool, Any]


def race(
    target: Callable[..., Any], jobs: Sequence[tuple[Any, ...]], *, timeout: float = 120.0
) -> list[Any]:
    """Call ``target(start, *job)`` for every job, each in its own process.

    ``target`` must be importable by name (a module-level function); it sets itself up,
    calls ``start()`` (which returns once every process is ready) and then does the work
    that races. Returns the results in the order of ``jobs``.
    """
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(len(jobs))
    results: multiprocessing.Queue[Outcome] = ctx.Queue()
    processes = [
        ctx.Process(target=_run, args=(target, index, job, start, results, timeout), daemon=True)
        for index, job in enumerate(jobs)
    ]
    for process in processes:
        process.start()
    found: dict[int, Any] = {}
    deadline = time.monotonic() + timeout
    try:
        while len(found) < len(processes):
            try:
                index, ok, value = results.get(timeout=0.2)
            except queue.Empty:
                _check_alive(processes, found, deadline, timeout)
                continue
            if not ok:
                raise AssertionError(f"process {index} failed:\n{value}")
            found[index] = value
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
    return [found[index] for index in range(len(jobs))]


def _check_alive(
    processes: Sequence[multiprocessing.process.BaseProcess],
    found: dict[int, Any],
    deadline: float,
    timeout: float,
) -> None:
    """Fail at once when a process died without a result (say, it could not start: a
    process that reports always exits with 0, after its result is on the queue)."""
    for index, process in enumerate(processes):
        if index not in found and process.exitcode not in (None, 0):
            raise AssertionError(
                f"process {index} exited with code {process.exitcode} before reporting"
            )
    if time.monotonic() > deadline:
        raise AssertionError(
            f"{len(processes) - len(found)} of {len(processes)} processes did not finish "
            f"within {timeout:g} s"
        )


def _run(
    target: Callable[..., Any],
    index: int,
    job: tuple[Any, ...],
    start: Any,
    results: multiprocessing.Queue[Outcome],
    timeout: float,
) -> None:
    try:
        value = target(lambda: start.wait(timeout=timeout), *job)
    except BaseException:
        results.put((index, False, traceback.format_exc()))
    else:
        results.put((index, True, value))
