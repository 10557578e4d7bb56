"""The built wheel, installed into a clean environment, runs the demo and serves.

This is what a user gets from ``pip install lightkeeper``: only the dependencies that
pyproject.toml declares, only the files the wheel ships. A module imported but not
declared, or a template left out of the package data, fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import orjson
import pytest

from lightkeeper.testing import free_port

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str | Path, cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}:\n{output}"
    return output


def _clean_env(venv: Path) -> dict[str, str]:
    """The caller's environment without lightkeeper's, MLflow's or Python's own settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LIGHTKEEPER_", "MLFLOW_", "PYTHON", "VIRTUAL_ENV"))
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["UV_NATIVE_TLS"] = "1"
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment (no system site-packages) with only the built wheel."""
    work = tmp_path_factory.mktemp("wheel")
    venv = work / "venv"
    env = _clean_env(venv)
    uv = [sys.executable, "-m", "uv"]
    _run(*uv, "build", "--wheel", "--out-dir", work / "dist", ROOT, cwd=work, env=env)
    [wheel] = (work / "dist").glob("lightkeeper-*.whl")
    _run(*uv, "venv", "--python", sys.executable, venv, cwd=work, env=env)
    python = venv / "bin" / "python"
    _run(*uv, "pip", "install", "--compile-bytecode", "--python", python, wheel, cwd=work, env=env)
    return venv


def test_the_wheel_runs_the_demo_and_serves(installed: Path, tmp_path: Path) -> None:
    env = _clean_env(installed)
    lightkeeper = installed / "bin" / "lightkeeper"
    demo = _run(lightkeeper, "demo", cwd=tmp_path, env=env)
    for problem in ("Traceback", "ModuleNotFoundError", "ImportError", "LK-ERROR"):
        assert problem not in demo, demo
    assert "webhook received alarm.opened on 127.0.0.1 (signature verified)" in demo, demo

    project = tmp_path / "lightkeeper-demo"
    _run(lightkeeper, "deployments", "create", "weather-online", "--model", "seattle-weather",
         "--kind", "online", cwd=project, env=env)  # fmt: skip
    _run(lightkeeper, "release", "weather-online", "1", "--reason", "wheel test",
         cwd=project, env=env)  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        [str(lightkeeper), "serve", "weather-online", "--port", str(port)],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, f"serve exited {server.returncode}: {server.stdout}"
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "serve did not become ready in 120 s"
            time.sleep(0.5)
        row = {"precipitation": 0, "temp_max": 21.1, "temp_min": 10, "wind": 2.5, "month": 7}
        request = urllib.request.Request(
            f"{base}/predict", data=orjson.dumps(row), headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = orjson.loads(answer.read())
        assert body["version"] == 1 and len(body["predictions"]) == 1
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as answer:
            assert b"lightkeeper_requests_total" in answer.read()
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=60)
    assert "Traceback" not in out, out
