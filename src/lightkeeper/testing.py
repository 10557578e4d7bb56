"""Helpers for tests of lightkeeper and of projects that use it.

Building a workspace with an accepted version (train, gold set, gate, hand-over) takes
seconds; copying a finished one takes milliseconds. So a test session builds each kind of
workspace once (:func:`build_workspace`) and gives every test its own copy
(:func:`copy_workspace`)::

    project = credit_project(tmp)
    template = build_workspace(tmp / "template", [project, project], deployment="credit-online")
    lk = workspace(copy_workspace(template, tmp_path / "home"))  # versions 1 and 2, 1 released

A copy carries its SQLite ops database along (:func:`sqlite_url`); a workspace on a
database server is built afresh instead (``build_workspace(..., database_url=...)``).

Also here: the credit example project and its gold rows (:func:`credit_project`,
:func:`credit_gold`), the people of the examples (:data:`ANALYST`, :data:`OPERATOR`,
:data:`OWNER`, :data:`ADMIN`), :func:`wait_for` (poll a condition until a deadline rather
than sleep a guessed time), :func:`free_port`, and :class:`Recorder`, an HTTP server on
127.0.0.1 that records what it is sent, standing in for webhooks, chat and tickets.
"""

from __future__ import annotations

import shutil
import socket
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

from lightkeeper.auth import Principal

if TYPE_CHECKING:
    import pandas as pd

    from lightkeeper.app import Lightkeeper
    from lightkeeper.clock import Clock

ANALYST = Principal("ana", "data-scientist")
OPERATOR = Principal("olga", "operator")
OWNER = Principal("bea", "owner")
ADMIN = Principal("root", "admin")

CREDIT_MANIFEST = """\
name: credit
kind: online
owner: risk-desk@example.com
entrypoints:
  train: {module}:train
input_schema:
  - name: income
    type: float
    min: 0
    max: 500
  - name: age
    type: int
    min: 18
    max: 100
  - name: region
    type: category
    categories: [north, south, east]
target:
  name: defaulted
  type: int
  positive_class: 1
support:
  team: risk-ops
  on_call: oncall@example.com
  hours: "24/7"
runbook:
  - code: LK-MODEL-ERROR
    meaning: the model raised while scoring
    first_action: roll back to the previous version
alarms:
  rules:
    - name: gate-failed
      when: gate_failed
      error_type: LK-MODEL-ERROR
logging:
  predictions: true
gate:
  gold: credit-gold
  metrics:
    - name: accuracy
      min: {min_accuracy}
    - name: roc_auc
      min: 0.6
  non_inferiority:
    metric: accuracy
    max_drop: 0.02
    resamples: 500
  segments:
    column: region
    metrics:
      accuracy: {segment_min}
  latency_p99_ms: {latency}
"""

CREDIT_TRAIN = """\
import os

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder


def make_rows(n, seed):
    rng = np.random.default_rng(seed)
    income = rng.gamma(4.0, 12.0, n).clip(0, 500)
    age = rng.integers(18, 100, n)
    region = rng.choice(["north", "south", "east"], n)
    score = 2.5 - income / 20 + (age - 50) / 40 + np.where(region == "south", 0.8, 0.0)
    defaulted = (rng.random(n) < 1 / (1 + np.exp(-score))).astype(int)
    return pd.DataFrame({{"income": income, "age": age, "region": region, "defaulted": defaulted}})


def train():
    rows = make_rows(3000, seed=1)
    noise = float(os.environ.get("CREDIT_LABEL_NOISE", "0"))
    labels = rows["defaulted"].to_numpy().copy()
    flip = np.random.default_rng(2).random(len(labels)) < noise
    labels[flip] = 1 - labels[flip]
    steps = [
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["region"]), remainder="passthrough"
        ),
    ]
    {extra}
    model = make_pipeline(*steps, LogisticRegression(max_iter=500))
    model.fit(rows[["income", "age", "region"]], labels)
    return model, rows
"""


def credit_project(
    parent: Path,
    *,
    extra: str = "pass",
    min_accuracy: float = 0.6,
    segment_min: float = 0.5,
    latency: float = 1000,
    drop: Sequence[str] = (),
    append: str = "",
) -> Path:
    """Write the credit-default example project under ``parent``; returns its folder.

    Args:
        extra: a line of Python run before fitting, with ``steps`` (the pipeline) in
            scope, e.g. to insert a step that raises.
        min_accuracy, segment_min, latency: the gate policy's thresholds.
        drop: top-level manifest sections to leave out (e.g. ``runbook``).
        append: YAML added at the end of the manifest (e.g. a ``rollout:`` section).
    """
    module = f"credit_{uuid.uuid4().hex[:8]}"
    folder = parent / f"credit-{module}"
    folder.mkdir(parents=True)
    manifest = CREDIT_MANIFEST.format(
        module=module, min_accuracy=min_accuracy, segment_min=segment_min, latency=latency
    )
    for section in drop:
        manifest = _drop_section(manifest, section)
    (folder / "lightkeeper.yaml").write_text(manifest + append)
    (folder / f"{module}.py").write_text(textwrap.dedent(CREDIT_TRAIN.format(extra=extra)))
    return folder


def _drop_section(text: str, section: str) -> str:
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith(f"{section}:"):
            skipping = True
            continue
        if skipping and (line.startswith(" ") or line.startswith("-")):
            continue
        skipping = False
        out.append(line)
    return "".join(out)


def credit_gold(n: int = 1500, seed: int = 99) -> pd.DataFrame:
    """Labelled gold rows for the credit project, drawn like its training data."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    income = rng.gamma(4.0, 12.0, n).clip(0, 500)
    age = rng.integers(18, 100, n)
    region = rng.choice(["north", "south", "east"], n)
    score = 2.5 - income / 20 + (age - 50) / 40 + np.where(region == "south", 0.8, 0.0)
    defaulted = (rng.random(n) < 1 / (1 + np.exp(-score))).astype(int)
    return pd.DataFrame({"income": income, "age": age, "region": region, "defaulted": defaulted})


def sqlite_url(home: Path) -> str:
    """The URL of the SQLite ops database a workspace keeps inside ``home`` (the default)."""
    return f"sqlite:///{home / 'ops.db'}"


def workspace(
    home: Path, *, database_url: str | None = None, clock: Clock | None = None
) -> Lightkeeper:
    """The application object of the workspace in ``home``, isolated from the caller's
    environment (default: a SQLite ops database inside ``home``)."""
    from lightkeeper.app import Lightkeeper
    from lightkeeper.settings import Settings

    url = database_url or sqlite_url(home)
    settings = Settings.load({"home": home, "database_url": url}, environ={})
    return Lightkeeper(settings, clock=clock)


def empty_mlflow_store(path: Path) -> Path:
    """Create an empty, migrated MLflow sqlite store at ``path`` (seconds, once; copy it
    into each workspace home as ``mlflow.db`` rather than paying MLflow's start-up again)."""
    from mlflow import MlflowClient

    path.parent.mkdir(parents=True, exist_ok=True)
    client = MlflowClient(tracking_uri=f"sqlite:///{path}", registry_uri=f"sqlite:///{path}")
    client.search_experiments()
    client.search_registered_models()
    return path


def build_workspace(
    home: Path,
    projects: Sequence[Path],
    *,
    gold: pd.DataFrame | None = None,
    deployment: str | None = None,
    overridden: Collection[int] = (),
    mlflow_store: Path | None = None,
    database_url: str | None = None,
) -> Path:
    """Build a workspace in ``home`` with one accepted version per project in ``projects``.

    The gold set ``credit-gold`` (``gold``, default 600 credit rows, segment ``region``)
    is added from the first project's schema and approved; each project is then trained,
    gated and accepted by an operator in turn, so project ``i`` becomes version ``i + 1``.
    Versions listed in ``overridden`` are recipes for broken versions: their gate must
    fail, and an admin overrides it. Any other failed gate raises ``AssertionError``,
    so a regression in a recipe is not hidden. With ``deployment``, an online deployment
    of the model is created and version 1 released to it.

    Args:
        mlflow_store: an empty MLflow store (:func:`empty_mlflow_store`) to copy in
            rather than creating one.
        database_url: the ops database (default: SQLite inside ``home``, which
            :func:`copy_workspace` copies along; a server database is not copied).

    Returns:
        ``home``.
    """
    home.mkdir(parents=True, exist_ok=True)
    if mlflow_store is not None:
        shutil.copy(mlflow_store, home / "mlflow.db")
    lk = workspace(home, database_url=database_url)
    try:
        lk.gold.add(
            "credit-gold",
            credit_gold(600) if gold is None else gold,
            owner="risk",
            label_column="defaulted",
            segment_column="region",
            project_dir=projects[0],
            by=OWNER,
        )
        lk.gold.approve("credit-gold", 1, by=OWNER)
        model = ""
        for project in projects:
            info = lk.training.train(project, by=ANALYST)
            model = info.model
            _accept(lk, model, info.version, broken=info.version in overridden)
        if deployment is not None:
            lk.releases.create(deployment, model=model, kind="online", by=OPERATOR)
            lk.releases.release(deployment, 1, reason="first release", by=OPERATOR)
    finally:
        lk.close()
    return home


def _accept(lk: Lightkeeper, model: str, version: int, *, broken: bool) -> None:
    run = lk.gate.run(model, version, by=ANALYST)
    checks = run.result.get("checks", [])
    failed = [c["name"] for c in checks if c.get("status") in ("failed", "error")]
    # Raised, not asserted: the check must hold under ``python -O`` too.
    if broken and run.verdict != "failed":
        raise AssertionError(f"{model} version {version} passed the gate, yet is listed broken")
    if not broken and run.verdict != "passed":
        raise AssertionError(f"{model} version {version} failed the gate: {failed}")
    if broken:
        reason = "a test recipe for a broken version"
        lk.gate.accept(model, version, override=True, reason=reason, by=ADMIN)
    else:
        lk.gate.accept(model, version, by=OPERATOR)


def copy_workspace(template: Path, home: Path) -> Path:
    """A private copy of a workspace home built by :func:`build_workspace`, its SQLite
    ops database included; ``home`` must be absent or an empty folder. Returns ``home``."""
    if home.exists() and any(home.iterdir()):
        raise FileExistsError(f"{home} is not empty: a workspace copy needs a folder of its own")
    shutil.copytree(template, home, dirs_exist_ok=True)
    return home


def wait_for(condition: Callable[[], object], timeout: float = 15.0) -> float:
    """Poll ``condition()`` until it is true; returns the seconds that took.

    Raises:
        AssertionError: when ``timeout`` seconds pass first.
    """
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not reached within {timeout:g} s")
        time.sleep(0.02)
    return time.monotonic() - start


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Recorder:
    """A recording HTTP server on 127.0.0.1, standing in for webhooks, chat and tickets.

    Every POST is kept as (path, headers, body). Set ``fail_with`` to answer that status
    (a system that is down); a path ending in ``/issue`` answers like Jira's issue API.
    Use it as a context manager::

        with Recorder() as hooks:
            ...  # send to hooks.url
            assert hooks.bodies("/chat")
    """

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.fail_with: int | None = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The server's base URL."""
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


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
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

    return Handler
