"""The API runs the loops it is given while it serves, and builds none itself."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from lightkeeper import Lightkeeper
from lightkeeper.web.api import build_api


class _Loop:
    """A loop that writes down when it starts and stops."""

    def __init__(self, name: str, events: list[str], *, fails: bool = False) -> None:
        self.name, self.events, self.fails = name, events, fails

    def start(self) -> None:
        if self.fails:
            raise RuntimeError(f"{self.name} cannot start")
        self.events.append(f"start {self.name}")

    def stop(self) -> None:
        self.events.append(f"stop {self.name}")


def _serve_once(app: FastAPI, events: list[str]) -> None:
    async def run() -> None:
        async with app.router.lifespan_context(app):
            events.append("serving")

    asyncio.run(run())


def test_loops_start_in_order_and_stop_in_reverse(lk: Lightkeeper) -> None:
    events: list[str] = []
    loops = [_Loop(name, events) for name in ("rollout", "watchdog", "dispatch")]

    _serve_once(build_api(lk, loops=loops), events)

    assert events == [
        "start rollout",
        "start watchdog",
        "start dispatch",
        "serving",
        "stop dispatch",
        "stop watchdog",
        "stop rollout",
    ]


def test_a_loop_that_cannot_start_stops_the_started_ones(lk: Lightkeeper) -> None:
    events: list[str] = []
    loops = [_Loop("rollout", events), _Loop("watchdog", events, fails=True)]

    with pytest.raises(RuntimeError, match="watchdog cannot start"):
        _serve_once(build_api(lk, loops=loops), events)

    assert events == ["start rollout", "stop rollout"]


def test_without_loops_the_api_only_serves(lk: Lightkeeper) -> None:
    events: list[str] = []

    _serve_once(build_api(lk), events)

    assert events == ["serving"]
