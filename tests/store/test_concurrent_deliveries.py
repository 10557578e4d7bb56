"""Overlapping ``alarms deliver`` runs in real processes (SQLite file and PostgreSQL): every
message reaches its sink exactly once, because each attempt claims its delivery first."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lightkeeper import Lightkeeper, Settings
from racing import race

MESSAGES = 20
SEND_SECONDS = 0.02  # how long the sink takes to answer: attempts overlap


class Sink:
    """A webhook on 127.0.0.1 that answers slowly and counts each delivery id it gets."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(SEND_SECONDS)
                sink.received[self.headers.get("X-Lightkeeper-Delivery", "?")] += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def sink() -> Iterator[Sink]:
    """The recording webhook, listening."""
    server = Sink()
    yield server
    server.close()


def _app(home: str, url: str) -> Lightkeeper:
    return Lightkeeper(Settings.load({"home": home, "database_url": url}, environ={}))


def delivering(start: Callable[[], object], home: str, url: str, everything: bool) -> list[int]:
    """One ``alarms deliver`` process (``--all`` with ``everything``), run again and again
    until nothing is pending; returns the ids of the deliveries it made."""
    lk = _app(home, url)
    made: list[int] = []
    deadline = time.monotonic() + 60
    try:
        start()
        while lk.stores.alarms.pending_count() and time.monotonic() < deadline:
            outcomes = lk.alarms.deliver(everything=everything)
            assert all(o.delivered for o in outcomes), outcomes
            made += [o.delivery_id for o in outcomes]
            if not outcomes:
                time.sleep(0.005)  # the rest is being sent by the other process
    finally:
        lk.close()
    return made


def test_overlapping_delivery_runs_send_each_message_once(
    tmp_path: Path, database_url: str, sink: Sink
) -> None:
    home = str(tmp_path / "home")
    lk = _app(home, database_url)
    try:
        for n in range(MESSAGES):
            lk.stores.alarms.raise_(
                f"drift:deployment:d{n}",
                rule="drift",
                when="drift",
                severity="warning",
                title=f"Drift on d{n}",
                model="m",
                version=1,
                deployment=f"d{n}",
                owner={"team": "ops"},
                runbook=None,
                evidence={"summary": "x"},
                sinks={"hook": {"kind": "webhook", "url": sink.url}},
            )
        queued = [d.id for d in lk.stores.alarms.due(everything=True)]
        assert len(queued) == MESSAGES

        # `alarms deliver --all` and the due-only loop of `lightkeeper up`, overlapping
        made = race(delivering, [(home, database_url, True), (home, database_url, False)])

        received = dict(sink.received)
        assert received == {str(i): 1 for i in queued}, f"sent per process: {made}"
        assert sorted(made[0] + made[1]) == sorted(queued)
        assert lk.stores.alarms.pending_count() == 0
        for alarm in lk.alarms.find(state=None, limit=MESSAGES):
            [delivery] = alarm.deliveries
            assert (delivery.status, delivery.attempts, delivery.claimed_until) == (
                "delivered",
                1,
                None,
            )
    finally:
        lk.close()
