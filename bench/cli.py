"""How long CLI commands take as whole processes, against the interpreter's own start-up.

A command that only reads or writes the ops database should answer in about a second:
it must not start MLflow or import pandas. This runs ``lightkeeper demo`` once into a
temporary folder (or uses ``--demo DIR`` from an earlier run), then times each command
``--runs`` times as a fresh process and prints the median and its ratio to the baseline
``python -c "import lightkeeper.cli"`` (interpreter plus the CLI's own import).

    python bench/cli.py [--runs 5] [--demo lightkeeper-demo]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS: list[tuple[str, list[str]]] = [
    ("releases D (ops database)", ["releases", "seattle-weather-daily"]),
    ("alarms list (ops database)", ["alarms", "list"]),
    ("audit (ops database)", ["audit", "--limit", "20"]),
    ("gate show M V (ops database)", ["gate", "show", "seattle-weather", "1"]),
    ("refused release (not accepted)", ["release", "seattle-weather-daily", "2", "--reason", "x"]),
    ("models list (model store)", ["models", "list"]),
    ("models show M (model store)", ["models", "show", "seattle-weather"]),
]


def timed(argv: list[str], cwd: Path, runs: int) -> float:
    """Median wall seconds of ``argv`` over ``runs`` runs (exit code ignored: refusals count)."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--demo", type=Path, help="an existing lightkeeper-demo folder")
    args = parser.parse_args()
    lightkeeper = [sys.executable, "-m", "lightkeeper"]
    with tempfile.TemporaryDirectory() as tmp:
        demo = args.demo
        if demo is None:
            print("running lightkeeper demo once (about a minute)...", file=sys.stderr)
            subprocess.run([*lightkeeper, "demo"], cwd=tmp, capture_output=True, check=True)
            demo = Path(tmp) / "lightkeeper-demo"
            # version 2, gated but not accepted: the refused release
            for step in (["train", "seattle_weather"], ["gate", "run", "seattle-weather", "2"]):
                subprocess.run([*lightkeeper, *step], cwd=demo, capture_output=True, check=False)
        base = timed([sys.executable, "-c", "import lightkeeper.cli"], demo, args.runs)
        print(f"{'baseline: python -c import lightkeeper.cli':45s} {base:6.2f} s")
        for label, argv in COMMANDS:
            took = timed([*lightkeeper, *argv], demo, args.runs)
            print(f"{label:45s} {took:6.2f} s  {took / base:5.1f}x baseline")


if __name__ == "__main__":
    main()
