"""``lightkeeper serve --workers 2`` as a real process tree; ``predictions`` and ``signals``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx

from lightkeeper import Lightkeeper
from lightkeeper.testing import OPERATOR, free_port, wait_for
from support import ROW


def test_serve_with_two_workers_then_read_predictions_and_signals(lk: Lightkeeper, cli) -> None:
    lk.releases.release("credit-online", 1, reason="go", by=OPERATOR)
    env = {
        **os.environ,
        "LIGHTKEEPER_HOME": str(lk.settings.home),
        "LIGHTKEEPER_DATABASE_URL": lk.settings.database_url,
    }
    port = free_port()
    command = [sys.executable, "-m", "lightkeeper", "serve", "credit-online", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            try:
                return httpx.get(f"{base}/readyz", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, timeout=90)
        with httpx.Client(base_url=base, timeout=30) as http:
            answers = [
                http.post("/predict", json=ROW, headers={"x-request-id": f"w{i}"}).json()
                for i in range(40)
            ]
        assert {a["version"] for a in answers} == {1}
        wait_for(lambda: len(lk.life_signals("credit-online")) == 2, timeout=30)
        wait_for(lambda: lk.logs.count("credit-online") == 40, timeout=30)
        code, out, _ = cli("signals", "--json")
        instances = json.loads(out)["signals"]
        assert code == 0 and len({s["instance_id"] for s in instances}) == 2
        assert all(s["kind"] == "serve" and s["subject"] == "credit-online" for s in instances)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "with 2 worker(s)" in output

    code, out, _ = cli("predictions", "credit-online", "--request-id", "w7", "--json")
    assert code == 0
    [record] = json.loads(out)["predictions"]
    assert (record["version"], record["arm"], record["inputs"]) == (1, "champion", ROW)
    assert lk.life_signals("credit-online") == []  # both workers signed off
    code, out, _ = cli("predictions", "credit-online", "--limit", "3")
    assert code == 0 and "champion" in out
    code, _, err = cli("predictions", "nowhere")
    assert code == 2 and "LK-DEPLOYMENT-NOT-FOUND" in err


def test_a_port_in_use_is_one_clear_error_before_anything_starts(lk: Lightkeeper, cli) -> None:
    import socket

    lk.releases.release("credit-online", 1, reason="go", by=OPERATOR)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for args in (("serve", "credit-online", "--port", port), ("up", "--port", port)):
            code, out, err = cli(*args)
            assert code == 2, (args, out, err)
            assert f"[LK-PORT-IN-USE]: port {port} on 127.0.0.1 is in use" in err
            assert "Traceback" not in err and "serving" not in out and "control plane" not in out
    assert lk.stores.signals.all() == []  # no server started, no heartbeat sent


def test_serve_refuses_a_batch_deployment(lk: Lightkeeper, cli) -> None:
    lk.releases.create("credit-nightly", model="credit", kind="batch", by=OPERATOR)
    code, _, err = cli("serve", "credit-nightly")
    assert code == 2 and "is a batch deployment; serve runs online ones" in err
    assert "lightkeeper batch run credit-nightly" in err
