"""Helpers shared by tests (fixtures live in conftest.py; generic ones, such as the
credit project, the principals and the recording HTTP server, in lightkeeper.testing):
a tiny project, a mail server, the serving, monitoring, alerts and batch recipes."""

from __future__ import annotations

import textwrap
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lightkeeper.testing import credit_gold, free_port

if TYPE_CHECKING:
    import pandas as pd

    from lightkeeper import Lightkeeper

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


# The credit model served (tests/serving, tests/batch): a row it scores, and recipes for
# versions that raise (``extra=`` of lightkeeper.testing.credit_project).
ROW = {"income": 40.0, "age": 35, "region": "south"}
BOOM_INCOME = 123.456  # not in the gold rows, so a version raising on it passes the gate
BOOM_ON_VALUE = (
    "steps.insert(0, FunctionTransformer("
    f"lambda X: X if not (X['income'] == {BOOM_INCOME}).any() else 1 / 0))"
)


class Served:
    """Serves ASGI apps with uvicorn on 127.0.0.1, each in a thread; call it with an app
    to get the base URL, ``stop()`` to shut every one down (the fixture does at the end).
    """

    def __init__(self) -> None:
        self._servers: list[tuple[Any, threading.Thread]] = []

    def __call__(self, app: object) -> str:
        import uvicorn

        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60  # start-up loads and warms the model
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        self._servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        """Shut the servers down; an app's shutdown (its writer, its heartbeat) is over
        when this returns, so its database may then be closed."""
        for server, thread in self._servers:
            server.should_exit = True
            thread.join(timeout=10)
        self._servers.clear()


class Load:
    """Client threads posting /predict until stopped; every answer is kept."""

    def __init__(self, base: str, clients: int = 4, body: object = ROW) -> None:
        self.base, self.body = base, body
        self.answers: list[tuple[int, dict[str, Any]]] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(clients)]

    def _run(self) -> None:
        import httpx

        with httpx.Client(base_url=self.base, timeout=30) as http:
            while not self._stop.is_set():
                try:
                    response = http.post("/predict", json=self.body)
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    continue
                if response.status_code != 200:
                    self.failures.append(f"{response.status_code} {response.text}")
                else:
                    self.answers.append((response.status_code, response.json()))

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


# Prediction logs for monitoring (tests/monitor, tests/alerts).
def log_rows(
    lk: Lightkeeper,
    frame: pd.DataFrame,
    *,
    at: datetime,
    version: int = 1,
    deployment: str = "credit-online",
    arm: str = "champion",
) -> None:
    """Write prediction logs for ``frame`` as the served version would have answered."""
    from lightkeeper.store.predictions import PredictionRecord

    features = frame[["income", "age", "region"]]
    outputs = lk.load("credit", version).predict(features)
    records = [
        PredictionRecord(
            at=at + timedelta(seconds=i % 3600),
            deployment=deployment,
            request_id=f"r{at:%H%M}-{i}",
            row=0,
            version=version,
            arm=arm,
            inputs=row,
            output=int(output),
            latency_ms=1.0,
        )
        for i, (row, output) in enumerate(
            zip(features.to_dict(orient="records"), outputs, strict=True)
        )
    ]
    lk.logs.add_many(records)


def shifted(n: int, seed: int) -> pd.DataFrame:
    """Credit rows whose incomes drifted up: richer customers, fewer predicted defaults."""
    frame = credit_gold(n, seed=seed)
    frame["income"] = frame["income"] * 2.5
    return frame


def drift_sample(n: int, seed: int, shift: float = 0.0, mix: float = 0.0) -> pd.DataFrame:
    """Three columns to compare; ``shift`` moves ``score``, ``mix`` moves ``color`` from
    red to blue (one random stream per column, so a shift moves only its own)."""
    import numpy as np
    import pandas as pd

    def rng(column: int) -> np.random.Generator:  # one stream per column
        return np.random.default_rng([seed, column])

    return pd.DataFrame(
        {
            "amount": rng(0).gamma(3.0, 20.0, n),
            "score": rng(1).normal(shift, 1.0, n),
            "color": rng(2).choice(["red", "green", "blue"], n, p=[0.5 - mix, 0.3, 0.2 + mix]),
        }
    )


# Alarms (tests/alerts): the webhook sink signs with this key (env LK_TEST_HOOK_SECRET).
HOOK_SECRET = "s3cret-hmac-key"


# Batch scoring (tests/batch): the manifest section and the customer tables.
BATCH = """
entity_key: customer_id
extra_columns: [customer_id]
batch:
  chunk_rows: {chunk_rows}
  max_reject_share: 0.05
  holdout: {{share: 0.2, salt: winter-2026}}
  cadence: {{cron: "0 6 * * *", grace_minutes: 30}}
"""


def customers(n: int, *, seed: int = 3, start: int = 1) -> pd.DataFrame:
    """Customers to score: an id, and the model's three features."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": np.arange(start, start + n, dtype=np.int64),
            "income": rng.gamma(4.0, 12.0, n).clip(0, 500).round(2),
            "age": rng.integers(18, 100, n),
            "region": rng.choice(["north", "south", "east"], n),
        }
    )
