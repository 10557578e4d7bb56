"""Helpers shared by tests (fixtures live in conftest.py): a tiny project, a free port."""

from __future__ import annotations

import socket
import textwrap
import uuid
from pathlib import Path
from typing import Any

TINY_MANIFEST = """\
name: {name}
kind: online
owner: risk-team@example.com
entrypoints:
  train: {module}:train
input_schema:
  - name: income
    type: float
    min: 0
  - name: age
    type: int
    min: 18
    max: 120
  - name: region
    type: category
    categories: [north, south]
target:
  name: defaulted
  type: int
"""

TINY_TRAIN = """\
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder


def train():
    rows = pd.DataFrame({{
        "income": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0],
        "age": [20, 30, 40, 50, 25, 35, 45, 55],
        "region": ["north", "south"] * 4,
        "defaulted": [1, 1, 1, 0, 1, 0, 0, 0],
    }})
    {body}
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(), ["region"]), remainder="passthrough"
        ),
        LogisticRegression(),
    )
    model.fit(rows[["income", "age", "region"]], rows["defaulted"])
    {after}
    return model, rows
"""


def make_project(
    parent: Path,
    name: str = "credit-risk",
    *,
    body: str = "pass",
    after: str = "pass",
    module: str | None = None,
) -> Path:
    """Write a small trainable project and return its folder."""
    module = module or f"train_{uuid.uuid4().hex[:8]}"
    folder = parent / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lightkeeper.yaml").write_text(TINY_MANIFEST.format(name=name, module=module))
    (folder / f"{module}.py").write_text(textwrap.dedent(TINY_TRAIN.format(body=body, after=after)))
    return folder


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sqlite_url(home: Path) -> str:
    """The ops database URL of a workspace that keeps it inside its home."""
    return f"sqlite:///{home / 'ops.db'}"


def copy_home(template: Path, tmp_path: Path) -> Path:
    """A private copy of a workspace home built once per session."""
    import shutil

    folder = tmp_path / "home"
    shutil.copytree(template, folder)
    return folder


class Recorder:
    """A recording HTTP server on 127.0.0.1, standing in for webhooks, chat and tickets.

    Every POST is kept as (path, headers, body). ``fail_with`` makes it answer that status
    (a system that is down); a path ending in ``/issue`` answers like Jira's issue API.
    """

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.fail_with: int | None = None
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                recorder.requests.append((self.path, headers, body))
                if recorder.fail_with is not None:
                    self._answer(recorder.fail_with, b'{"error": "down for maintenance"}')
                elif self.path.endswith("/issue"):
                    issues = sum(1 for p, _, _ in recorder.requests if p.endswith("/issue"))
                    self._answer(201, b'{"id": "1000%d", "key": "OPS-%d"}' % (issues, issues))
                else:
                    self._answer(200, b'{"ok": true}')

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def bodies(self, path: str) -> list[bytes]:
        """The bodies POSTed to ``path``, in order."""
        return [body for p, _, body in self.requests if p == path]

    def __enter__(self) -> Recorder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Inbox:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        inbox = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                from email import message_from_bytes, policy

                inbox.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> Inbox:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def docs_assets(http: Any) -> list[str]:
    """The URLs ``/docs`` loads (an ``httpx.Client`` on the app); fails on any remote one."""
    import re

    page = http.get("/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    urls: list[str] = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    urls += re.findall(r"""url: *["']([^"']+)["']""", page.text)
    assert not [u for u in urls if "://" in u or u.startswith("//")], urls  # nothing remote
    return urls
