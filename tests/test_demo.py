"""The README's first command: the demo ends with a registered model that `models list` shows."""

import json
import os
import subprocess
import sys
from pathlib import Path


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIGHTKEEPER_", "MLFLOW_"))}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "lightkeeper", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_demo_trains_and_registers_the_example(tmp_path: Path) -> None:
    done = _run("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "registered seattle-weather version 1" in done.stdout
    assert "lightkeeper models list" in done.stdout
    # production: a daily batch scores a hot year, the drift check alarms, a webhook hears
    assert "released version 1 to seattle-weather-daily (batch)" in done.stdout
    assert "drift check: DRIFT in temp_max, temp_min (365 rows)" in done.stdout
    assert "alarm 1 (warning, seen 1x): Drift on seattle-weather-daily" in done.stdout
    assert "webhook received alarm.opened on 127.0.0.1 (signature verified)" in done.stdout
    assert "Traceback" not in done.stderr
    demo = tmp_path / "lightkeeper-demo"
    assert not (tmp_path / "mlruns").exists(), "artifacts must stay inside the workspace"
    assert (demo / ".lightkeeper" / "artifacts").is_dir()
    assert (demo / "seattle_weather" / "lightkeeper.yaml").is_file()

    listed = _run("models", "list", "--json", cwd=demo)
    [model] = json.loads(listed.stdout)["models"]
    assert (model["name"], model["latest_version"]) == ("seattle-weather", 1)

    shown = json.loads(_run("models", "show", "seattle-weather", "1", "--json", cwd=demo).stdout)
    assert shown["lineage"]["data"]["rows"] == 1096
    assert shown["lineage"]["data"]["columns"] == [
        "precipitation",
        "temp_max",
        "temp_min",
        "wind",
        "month",
    ]
    assert shown["metrics"]["val_accuracy"] > 0.5
    assert shown["params"]["n_estimators"] == "100"

    again = _run("demo", cwd=tmp_path)  # rerunning adds a version, never breaks
    assert again.returncode == 0, again.stderr
    assert "registered seattle-weather version 2" in again.stdout
    assert "alarm 1 (warning, seen 2x)" in again.stdout
    assert "no new webhook: the alarm was already open" in again.stdout
    alarms = json.loads(_run("alarms", "list", "--json", cwd=demo).stdout)["alarms"]
    assert [(a["rule"], a["occurrences"], a["pending_deliveries"]) for a in alarms] == [
        ("drift-high", 2, 0)
    ]
    assert (demo / "drift.html").read_text().count("<svg") >= 5


def test_demo_refuses_a_file_as_its_folder(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    done = _run("demo", "taken", cwd=tmp_path)
    assert done.returncode == 2
    assert "LK-INVALID-INPUT" in done.stderr and "is not a folder" in done.stderr
