"""Online serving: lightkeeper serve vs bare in-process predict vs ``mlflow models serve``.

    python bench/serving.py [--seconds 5] [--model logistic|forest] [--trees 50] [--features 20]

One scikit-learn model (by default a scaler + logistic regression pipeline; with
``--model forest`` a random forest of ``--trees`` trees) is trained, gated, accepted and
released in a temporary workspace, then served two ways from the same MLflow model
version:

- ``lightkeeper serve`` (one worker, prediction logging on, the rollout controller and
  heartbeats running), and
- ``mlflow models serve --env-manager local`` (MLflow's own scoring server).

A small asyncio HTTP/1.1 keep-alive client posts single-row ``/invocations`` requests
(``dataframe_records``) at concurrency 1, 8 and 32 for ``--seconds`` each and reports
requests/s and p50/p99 latency. The baseline is the bare in-process ``model.predict`` on
a one-row DataFrame, timed in the same run. The contestants take turns in short rounds
(bare, lightkeeper, mlflow, bare, ...), so a machine that slows down or speeds up during
the run (shared virtual machines do) weighs on all of them alike. Goals: at concurrency
8 at least 10x the throughput of ``mlflow models serve``; at concurrency 1 a p50 within
1 ms of bare predict.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from workspace import release, write_project

MANIFEST = """\
name: bench
kind: online
owner: bench@example.com
entrypoints:
  train: bench_train:train
input_schema:
{schema}
target:
  name: label
  type: int
  positive_class: 1
support: {{team: ops, on_call: ops@example.com, hours: "24/7"}}
runbook:
  - {{code: LK-MODEL-ERROR, meaning: scoring failed, first_action: roll back}}
alarms:
  rules: [{{name: gate, when: gate_failed}}]
logging: {{predictions: true, sample: 1.0}}
gate:
  gold: bench-gold
  metrics: [{{name: accuracy, min: 0.5}}]
  latency_p99_ms: 1000
"""


ROUNDS = 5  # turns per contestant and concurrency


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _client(
    port: int, body: bytes, path: str, until: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    request = head + body
    while time.perf_counter() < until:
        started = time.perf_counter()
        writer.write(request)
        status_line = await reader.readline()
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
        if b" 200 " not in status_line:
            errors.append(1)
    writer.close()


class Samples:
    """Latencies and wall time gathered over several rounds."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.elapsed = 0.0
        self.errors = 0

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.latencies)
        return {
            "rps": len(ordered) / self.elapsed,
            "p50_ms": ordered[len(ordered) // 2] * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
            "errors": self.errors,
        }


def load(
    port: int, body: bytes, path: str, concurrency: int, seconds: float, into: Samples
) -> None:
    """Closed-loop load: ``concurrency`` connections, each one request at a time."""
    errors: list[int] = []

    async def run() -> float:
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(
            *(_client(port, body, path, until, into.latencies, errors) for _ in range(concurrency))
        )
        return time.perf_counter() - started

    into.elapsed += asyncio.run(run())
    into.errors += len(errors)


def bare(predict: Any, seconds: float, into: Samples) -> None:
    """The baseline: in-process predict calls, back to back."""
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        started = time.perf_counter()
        predict()
        into.latencies.append(time.perf_counter() - started)
        into.elapsed += into.latencies[-1]


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} not ready after {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--trees", type=int, default=50)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--model", choices=["logistic", "forest"], default="logistic")
    parser.add_argument("--skip-mlflow", action="store_true")
    args = parser.parse_args()

    import numpy as np
    import pandas as pd

    from lightkeeper import Lightkeeper, Settings

    root = Path(tempfile.mkdtemp(prefix="lk-bench-serving-"))
    servers: list[subprocess.Popen[bytes]] = []
    try:
        project = write_project(
            root, MANIFEST, features=args.features, trees=args.trees, model=args.model
        )
        home = root / "home"
        settings = Settings.load({"home": home}, environ={})
        lk = Lightkeeper(settings)
        version = release(lk, project, "bench-online", kind="online", features=args.features)
        rng = np.random.default_rng(7)

        row = {f"x{i}": float(rng.normal()) for i in range(args.features)}
        body = orjson.dumps({"dataframe_records": [row]})

        model = lk.load("bench", version).model
        frame_row = [row]

        def predict_bare() -> None:  # what a user would write: a one-row frame, then predict
            model.predict(pd.DataFrame(frame_row))

        for _ in range(50):
            predict_bare()
        env = {
            **os.environ,
            "LIGHTKEEPER_HOME": str(home),
            "LIGHTKEEPER_DATABASE_URL": settings.database_url,
            "MLFLOW_TRACKING_URI": settings.tracking_uri,
        }
        lk.close()

        ours_port = free_port()
        command = [sys.executable, "-m", "lightkeeper", "serve", "bench-online"]
        servers.append(
            subprocess.Popen(
                [*command, "--port", str(ours_port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        wait_ready(f"http://127.0.0.1:{ours_port}/readyz", servers[-1])
        ports = {"lightkeeper": ours_port}
        if not args.skip_mlflow:
            ports["mlflow"] = free_port()
            mlflow = shutil.which("mlflow") or "mlflow"
            servers.append(
                subprocess.Popen(
                    [
                        *(mlflow, "models", "serve", "-m", f"models:/bench/{version}"),
                        *("--env-manager", "local", "-h", "127.0.0.1", "-p", str(ports["mlflow"])),
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
            wait_ready(f"http://127.0.0.1:{ports['mlflow']}/ping", servers[-1])

        # Rounds take turns (bare, lightkeeper, mlflow, bare, ...) so that the machine
        # slowing down or speeding up during the run hits every contestant alike.
        turn = args.seconds / ROUNDS
        bare_samples = Samples()
        results: dict[str, dict[int, Samples]] = {name: {} for name in ports}
        for concurrency in (1, 8, 32):
            for name, port in ports.items():
                load(port, body, "/invocations", concurrency, 1.0, Samples())  # warm
                results[name][concurrency] = Samples()
            for _ in range(ROUNDS):
                if concurrency == 1:
                    bare(predict_bare, turn, bare_samples)
                for name, port in ports.items():
                    load(port, body, "/invocations", concurrency, turn, results[name][concurrency])
            if concurrency == 1:  # the model call inside the server, from the prediction log
                time.sleep(1.0)  # the log writer flushes every 0.2 s
                logged = Lightkeeper(settings)
                inside = sorted(r.latency_ms for r in logged.predictions("bench-online", limit=500))
                logged.close()
                inside_p50 = inside[len(inside) // 2] if inside else float("nan")
    finally:
        for server in servers:
            if server.poll() is None:
                try:
                    os.killpg(server.pid, signal.SIGTERM)
                except (PermissionError, ProcessLookupError):
                    server.terminate()
                server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)

    bare_p50 = statistics.median(bare_samples.latencies) * 1000
    bare_rps = len(bare_samples.latencies) / bare_samples.elapsed
    kind = f"random forest, {args.trees} trees" if args.model == "forest" else "scaler+logistic"
    print(f"model: {kind}, {args.features} features; 1-row requests, prediction logging on")
    print(f"bare in-process predict: p50 {bare_p50:.2f} ms, {bare_rps:,.0f} predictions/s")
    print(f"the server's model call at c=1 (prediction log): p50 {inside_p50:.2f} ms")
    print(f"{'server':<12} {'c':>3} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for name, by_c in results.items():
        for concurrency, samples in by_c.items():
            r = samples.summary()
            print(
                f"{name:<12} {concurrency:>3} {r['rps']:>9,.0f} {r['p50_ms']:>8.2f} "
                f"{r['p99_ms']:>8.2f} {r['errors']:>6}"
            )
    ours = {c: samples.summary() for c, samples in results["lightkeeper"].items()}
    print(f"p50 at c=1 minus bare predict: {ours[1]['p50_ms'] - bare_p50:+.2f} ms (goal <= 1 ms)")
    print(
        f"p50 at c=1 minus the server's own model call: {ours[1]['p50_ms'] - inside_p50:+.2f} ms"
        " (HTTP, parsing, validation, routing, logging: the serving overhead alone)"
    )
    if "mlflow" in results:
        ratio = ours[8]["rps"] / results["mlflow"][8].summary()["rps"]
        print(f"throughput at c=8 vs mlflow models serve: {ratio:.1f}x (goal >= 10x)")


if __name__ == "__main__":
    main()
