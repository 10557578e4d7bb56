"""``lightkeeper demo``: a fresh embedded workspace with a trained, registered example."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from lightkeeper.cli._output import console
from lightkeeper.errors import DemoFailed, InvalidInput

if TYPE_CHECKING:
    from lightkeeper.app import Lightkeeper

EXAMPLE = "seattle_weather"
DEPLOYMENT = "seattle-weather-daily"
HOT = 7.0  # degrees added to a year of weather: a warmer climate than the training years


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("demo")(demo)


def example_project(name: str = EXAMPLE) -> Path:
    """The example project shipped inside the package."""
    folder = Path(__file__).resolve().parent.parent / "examples" / name
    if not (folder / "lightkeeper.yaml").is_file():
        raise InvalidInput(f"the example project {name!r} is not installed at {folder}")
    return folder


def demo(
    directory: Path = typer.Argument(
        Path("lightkeeper-demo"), help="Folder for the demo project and its workspace."
    ),
) -> None:
    """Create a demo workspace, train and register the Seattle weather example, show it.

    The demo always uses the embedded default (SQLite + a local MLflow store inside
    DIRECTORY/.lightkeeper), whatever LIGHTKEEPER_* variables say. Run it again to
    register another version.
    """
    from lightkeeper.app import Lightkeeper
    from lightkeeper.settings import Settings

    started = time.perf_counter()
    directory = directory.absolute()
    if directory.exists() and not directory.is_dir():
        raise InvalidInput(f"{directory} exists and is not a folder", hint="pick another folder")
    project = directory / EXAMPLE
    if not project.exists():
        shutil.copytree(
            example_project(), project, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        console.print(f"copied the example project to {project}")
    home = directory / ".lightkeeper"
    settings = Settings.load({"home": home}, environ={})  # the embedded default, always
    lk = Lightkeeper(settings)
    with console.status("training the example", spinner="dots") as status:

        def step(message: str) -> None:
            console.print(f"[dim]{time.perf_counter() - started:6.1f}s[/dim]  {escape(message)}")
            status.update(message)

        info = lk.training.train(project, on_step=step)
        console.print(
            f"[bold green]registered[/bold green] {info.model} version {info.version} "
            f"({info.lineage.data_rows:,} training rows)"
        )
        gold_path = project / "gold_2015.csv"
        if not gold_path.exists():
            _example_module(project).gold_days().to_csv(gold_path, index=False)
        gold, _ = lk.gold.add(
            "seattle-weather-gold",
            gold_path,
            owner="weather-desk@example.com",
            label_column="weather",
            segment_column="season",
            project_dir=project,
        )
        if not gold.approved:
            lk.gold.approve(gold.name, gold.version, note="demo: the weather desk signs off 2015")
        step(f"gold dataset {gold.name} version {gold.version}: {gold.rows} days, approved")
        run = lk.gate.run(info.model, info.version, on_step=step)
    failed = [c["name"] for c in run.result["checks"] if c["status"] in ("failed", "error")]
    checks = run.result["checks"]
    verdict = (
        "[bold green]PASSED[/bold green]"
        if run.verdict == "passed"
        else "[bold red]FAILED[/bold red]"
    )
    console.print(
        f"gate {verdict}: {sum(c['status'] == 'passed' for c in checks)} of {len(checks)} checks "
        f"passed" + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    if run.verdict == "passed":
        lk.gate.accept(info.model, info.version, reason="demo hand-over to operations")
        console.print(
            f"[bold green]accepted[/bold green] {info.model} version {info.version}: "
            "ready to release"
        )
    console.print(f"report: {run.report_path}")
    if run.verdict != "passed":
        lk.close()
        raise DemoFailed(
            f"the acceptance gate failed for {info.model} version {info.version} "
            f"({', '.join(failed)}); the demo stops before the release",
            hint=f"the report says why: {run.report_path}",
        )
    _production(lk, project, directory, info.version)
    console.print(f"done in {time.perf_counter() - started:.1f}s\n")
    shown = Path.cwd()
    rel = directory.relative_to(shown) if directory.is_relative_to(shown) else directory
    console.print("[bold]try next[/bold]")
    for line in (
        f"cd {rel}",
        "lightkeeper models list",
        f"lightkeeper models show {info.model} {info.version}",
        f"lightkeeper gate show {info.model} {info.version}     # the gate run and sign-off",
        "lightkeeper gold list",
        f"lightkeeper train {EXAMPLE}            # another version, then: lightkeeper gate run",
        f"lightkeeper batch runs {DEPLOYMENT}",
        f"lightkeeper monitor results {DEPLOYMENT}",
        "lightkeeper alarms list                    # the drift alarm, its runbook, deliveries",
        "lightkeeper audit                          # who did what, when",
        "lightkeeper up                             # HTTP API on http://127.0.0.1:8700/docs",
    ):
        console.print(f"  {line}")
    lk.close()


def _example_module(project: Path) -> ModuleType:
    """The example's train module, imported from the copied project folder."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("lightkeeper_demo_train", project / "train.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _production(lk: Lightkeeper, project: Path, directory: Path, version: int) -> None:
    """Release the version as a daily batch job, score a hot year, find the drift, alarm.

    The alarm goes to the example's webhook sink, answered by a receiver on 127.0.0.1
    that checks the signature: the same path a real on-call webhook takes.
    """
    import os
    import secrets

    from lightkeeper.errors import DeploymentNotFound
    from lightkeeper.manifest import BatchInput, BatchOutput

    try:
        lk.releases.deployment(DEPLOYMENT)
    except DeploymentNotFound:
        lk.releases.create(DEPLOYMENT, model="seattle-weather", kind="batch")
    lk.releases.release(DEPLOYMENT, version, reason="demo: the daily weather batch")
    console.print(f"[bold green]released[/bold green] version {version} to {DEPLOYMENT} (batch)")
    hot = _example_module(project).gold_days().drop(columns=["weather"])
    hot[["temp_max", "temp_min"]] += HOT
    hot["date"] = (
        hot["date"]
        + (hot["date"].max() - hot["date"].min())
        + (hot["date"].iloc[1] - hot["date"].iloc[0])
    )  # the next year
    source = directory / "hot_year.parquet"
    hot.to_parquet(source)
    with _Receiver() as receiver:
        os.environ["OPS_WEBHOOK_URL"] = receiver.url
        os.environ["OPS_WEBHOOK_SECRET"] = receiver.secret = secrets.token_hex(16)
        done = lk.batch.run(
            DEPLOYMENT,
            input=BatchInput(path=str(source)),
            output=BatchOutput(path=str(directory / "scores")),
            partition="hot-year",
        )
        console.print(
            f"scored a year {HOT:g} degrees warmer than training: {done.rows_out:,} days "
            f"published to {directory / 'scores'}"
        )
        result = lk.drift.run(DEPLOYMENT)
        report = directory / "drift.html"
        from lightkeeper.files import write_atomic
        from lightkeeper.monitor.report import render_result

        write_atomic(report, render_result(result))
        drifted = result.result["features"]["drifted"]
        console.print(
            f"drift check: [bold red]{result.status.upper()}[/bold red] in "
            f"{', '.join(drifted) or 'no feature'} ({result.rows:,} rows); report: {report}"
        )
        if result.status != "drift":
            raise DemoFailed(
                f"the drift check found {result.status!r}, not the drift of a year "
                f"{HOT:g} degrees warmer",
                hint=f"the report shows each feature: {report}",
            )
        for alarm in lk.alarms.find(deployment=DEPLOYMENT):
            console.print(
                f"[bold]alarm {alarm.id}[/bold] ({alarm.severity}, seen {alarm.occurrences}x): "
                f"{escape(alarm.title)}"
            )
            if alarm.runbook:
                console.print(f"  runbook: {escape(alarm.runbook['first_action'])}")
        for event, verified in receiver.received:
            mark = "signature verified" if verified else "[red]bad signature[/red]"
            console.print(f"webhook received [bold]{event}[/bold] on 127.0.0.1 ({mark})")
        undelivered = [
            d
            for alarm in lk.alarms.find(deployment=DEPLOYMENT)
            for d in alarm.deliveries
            if d.status == "pending"
        ]
        if undelivered:
            first = undelivered[0]
            raise DemoFailed(
                f"the alarm was not delivered to sink {first.sink!r} ({first.kind}): "
                f"{first.last_error}",
                hint="lightkeeper alarms list shows the pending delivery; "
                "lightkeeper alarms deliver retries it",
            )
        if not receiver.received:
            console.print("no new webhook: the alarm was already open (one alarm per problem)")


class _Receiver:
    """A webhook receiver on 127.0.0.1 for the demo; checks each signature."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from lightkeeper.alerts.sinks import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_ok

        self.secret = ""
        self.received: list[tuple[str, bool]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                import json

                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                signed = signature_ok(
                    receiver.secret,
                    body,
                    self.headers.get(SIGNATURE_HEADER, ""),
                    self.headers.get(TIMESTAMP_HEADER, ""),
                )
                receiver.received.append((json.loads(body)["event"], signed))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/alarms"

    def __enter__(self) -> _Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
