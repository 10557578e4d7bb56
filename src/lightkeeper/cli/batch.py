"""``lightkeeper batch run`` and ``lightkeeper batch runs``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from lightkeeper.cli._output import console, print_json, table
from lightkeeper.cli.state import state

if TYPE_CHECKING:
    from lightkeeper.app import Lightkeeper
    from lightkeeper.manifest import BatchInput, BatchOutput

batch_app = typer.Typer(help="Batch deployments: score a table or files, publish a partition.")


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.add_typer(batch_app, name="batch", no_args_is_help=True)


@batch_app.command("run")
def run(
    ctx: typer.Context,
    deployment: str = typer.Argument(..., help="Batch deployment to run."),
    input: str | None = typer.Option(
        None, "--input", help="Parquet/CSV file, folder or glob, or a database URL."
    ),
    query: str | None = typer.Option(None, "--query", help="SQL query at the input URL."),
    table_name: str | None = typer.Option(None, "--table", help="Table at the input URL."),
    output: str | None = typer.Option(
        None, "--output", help="Parquet dataset folder, or a database URL."
    ),
    output_table: str | None = typer.Option(
        None, "--output-table", help="Table at the output URL."
    ),
    partition: str | None = typer.Option(
        None, "--partition", help="Partition to (re)write; default: today (UTC)."
    ),
    fresh: bool = typer.Option(
        False, "--fresh", help="Discard chunks staged by an interrupted run instead of resuming."
    ),
    json: bool = typer.Option(False, "--json", help="Print the run record as JSON."),
) -> None:
    """Score the input with the current release and publish one partition (operator).

    Input and output default to the manifest's ``batch`` section. A rerun of a partition
    replaces it; a run that was killed is taken over from its last staged chunk.
    """
    lk = state(ctx).lk()
    source = _input(lk, deployment, input, query, table_name)
    sink = _output(lk, deployment, output, output_table)
    if json:
        done = lk.batch.run(deployment, input=source, output=sink, partition=partition, fresh=fresh)
        print_json(done.to_dict())
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows  {task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(deployment, total=None, rate="")

        def progress(rows: int, total: int | None) -> None:
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = f"{rows / elapsed:,.0f}/s" if elapsed > 0 else ""
            bar.update(task, completed=rows, total=total, rate=rate)

        done = lk.batch.run(
            deployment,
            input=source,
            output=sink,
            partition=partition,
            fresh=fresh,
            progress=progress,
        )
    seconds = done.seconds or 0.0
    rate = done.rows_in / seconds if seconds > 0 else 0.0
    taken = f", {done.resumed_chunks} chunk(s) taken over" if done.resumed_chunks else ""
    console.print(
        f"[bold green]published[/bold green] {escape(deployment)} partition "
        f"{escape(done.partition)} (run {done.id}): {done.rows_out:,} rows out, "
        f"{done.rows_rejected:,} rejected of {done.rows_in:,} in {seconds:.1f} s "
        f"({rate:,.0f} rows/s){taken}; versions {_versions(done.versions)}"
    )
    duplicates = done.summary.get("duplicate_keys") or {}
    if duplicates.get("keys"):
        console.print(
            f"  [yellow]{duplicates['keys']:,} entity key(s) appear more than once[/yellow] "
            f"({duplicates['rows']:,} rows; duplicate_keys: {duplicates['policy']}, "
            f"{duplicates['rejected']:,} rejected)"
        )
    console.print(f"  to {escape(done.output)}")


@batch_app.command("runs")
def runs(
    ctx: typer.Context,
    deployment: str = typer.Argument(..., help="Batch deployment."),
    partition: str | None = typer.Option(None, "--partition", help="Only this partition."),
    limit: int = typer.Option(20, "--limit", min=1, help="How many, newest first."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Runs of a batch deployment: status, rows in/out/rejected, versions, time."""
    found = state(ctx).lk().batch.runs(deployment, partition=partition, limit=limit)
    if json:
        print_json({"deployment": deployment, "runs": [r.to_dict() for r in found]})
        return
    table(
        f"{deployment}: batch runs",
        [
            *("run", "partition", "status", "started", "seconds"),
            *("in", "out", "rejected", "dup keys", "versions"),
        ],
        [
            (
                r.id,
                r.partition,
                r.status if r.status != "failed" else f"failed: {r.error}",
                r.started_at,
                f"{r.seconds:.1f}" if r.seconds is not None else None,
                f"{r.rows_in:,}",
                f"{r.rows_out:,}",
                f"{r.rows_rejected:,}",
                _duplicates(r.summary),
                _versions(r.versions),
            )
            for r in found
        ],
    )


@batch_app.command("check")
def check(
    ctx: typer.Context,
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Is any batch run overdue? (the dead-man's switch; ``lightkeeper up`` runs it each minute)

    Each batch deployment whose manifest has ``batch.cadence`` is judged; a late one is
    recorded as a ``batch.late`` event (once per due time) and exits with status 1.
    """
    statuses = state(ctx).lk().batch_watch.check()
    if json:
        print_json({"batch": [s.to_dict() for s in statuses]})
    else:
        table(
            "batch cadence",
            ["deployment", "cron (UTC)", "grace min", "due", "last success", "status", "next"],
            [
                (
                    s.deployment,
                    s.cron,
                    f"{s.grace_minutes:g}",
                    s.due,
                    s.last_success,
                    "LATE" if s.late else "on time",
                    s.next_due,
                )
                for s in statuses
            ],
        )
    if any(s.late for s in statuses):
        raise typer.Exit(1)


def _duplicates(summary: dict[str, Any]) -> str:
    """Entity keys found more than once and their rows (empty for a run of before the check)."""
    found = summary.get("duplicate_keys") or {}
    if not found.get("keys"):
        return "0" if found else ""
    return f"{found['keys']:,} ({found['rows']:,} rows)"


def _versions(versions: dict[str, int]) -> str:
    return ", ".join(f"v{v}: {n:,}" for v, n in sorted(versions.items())) or "-"


def _manifest_batch(lk: Lightkeeper, deployment: str) -> Any:
    """The batch section of the current champion's manifest (for partial overrides)."""
    from lightkeeper.manifest import Batch

    target = lk.releases.deployment(deployment)
    current = lk.releases.current(deployment)
    if current is None or current.champion is None:
        return Batch()
    manifest = lk.registry.manifest(target.model, current.champion)
    return manifest.batch if manifest else Batch()


def _input(
    lk: Lightkeeper,
    deployment: str,
    given: str | None,
    query: str | None,
    table_name: str | None,
) -> BatchInput | None:
    from lightkeeper.batch.sql import is_url
    from lightkeeper.errors import InvalidInput
    from lightkeeper.manifest import BatchInput

    if given is None and query is None and table_name is None:
        return None
    if given is not None and not is_url(given):
        if query or table_name:
            raise InvalidInput(
                "--query and --table read from a database URL, not from files",
                hint="give --input postgresql://... (or sqlite:///...) with them",
            )
        return BatchInput(path=given)
    url = given
    if url is None:
        configured = _manifest_batch(lk, deployment).input
        url = configured.url if configured is not None else None
    if url is None or (query is None) == (table_name is None):
        raise InvalidInput(
            "a database input needs a URL and exactly one of --query and --table",
            hint="for example --input sqlite:///warehouse.db --table customers",
        )
    return BatchInput(url=url, query=query, table=table_name)


def _output(
    lk: Lightkeeper, deployment: str, given: str | None, table_name: str | None
) -> BatchOutput | None:
    from lightkeeper.batch.sql import is_url
    from lightkeeper.errors import InvalidInput
    from lightkeeper.manifest import BatchOutput

    if given is None and table_name is None:
        return None
    if given is not None and not is_url(given):
        if table_name:
            raise InvalidInput(
                "--output-table writes to a database URL, not to a folder",
                hint="give --output postgresql://... (or sqlite:///...) with it",
            )
        return BatchOutput(path=given)
    configured = None if given and table_name else _manifest_batch(lk, deployment).output
    url = given or (configured.url if configured else None)
    table_name = table_name or (configured.table if configured else None)
    if url is None or table_name is None:
        raise InvalidInput(
            "a database output needs a URL and --output-table",
            hint="for example --output sqlite:///warehouse.db --output-table scores",
        )
    return BatchOutput(url=url, table=table_name)
