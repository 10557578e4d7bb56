"""``lightkeeper labels ingest``: outcomes joined to the predictions they judge."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from lightkeeper.cli._output import console, print_json
from lightkeeper.cli.state import state

labels_app = typer.Typer(help="Labels: true outcomes, joined to logged predictions.")


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.add_typer(labels_app, name="labels", no_args_is_help=True)


@labels_app.command("ingest")
def ingest(
    ctx: typer.Context,
    deployment: str = typer.Argument(..., help="Deployment whose predictions are labelled."),
    file: Path | None = typer.Argument(None, help="A CSV or Parquet file of outcomes."),
    url: str | None = typer.Option(None, "--url", help="Database URL to read outcomes from."),
    sql: str | None = typer.Option(None, "--sql", help="Query at --url returning the outcomes."),
    label: str | None = typer.Option(
        None, "--label", help="The outcome column (default: the manifest's target)."
    ),
    at: str | None = typer.Option(
        None, "--at", help="Outcome time column: join to the newest prediction at or before it."
    ),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Join outcomes to predictions by ``request_id`` (and ``row``), or by the entity key
    (and time); store one label per prediction (ingesting again replaces it).

    Exits 1 when some rows matched no prediction (they are listed).
    """
    from lightkeeper.errors import InvalidInput

    if (file is None) == (sql is None):
        raise InvalidInput(
            "give the outcomes as a FILE or as --sql QUERY (with --url)",
            hint="lightkeeper labels ingest D outcomes.csv, or --url URL --sql 'select ...'",
        )
    if sql is not None:
        if url is None:
            raise InvalidInput("--sql needs --url", hint="the database to run the query at")
        frame = _query(url, sql)
    else:
        from lightkeeper.cli.drift import _read

        assert file is not None
        frame = _read(file)
    done = state(ctx).lk().labels.ingest(deployment, frame, label=label, at=at)
    if json:
        print_json(done.to_dict())
    else:
        console.print(
            f"{done.matched:,} of {done.rows:,} labels joined to predictions of "
            f"{escape(deployment)} by {done.joined_by}"
            + (f"; {done.missing_label:,} without an outcome" if done.missing_label else "")
            + (f"; {done.duplicates:,} repeated (the last one kept)" if done.duplicates else "")
        )
        if done.unmatched:
            console.print(
                f"[yellow]{done.unmatched:,} matched no prediction[/yellow], e.g. "
                + escape("; ".join(done.examples))
            )
    if done.unmatched:
        raise typer.Exit(1)


def _query(url: str, sql: str):  # type: ignore[no-untyped-def]
    import pandas as pd
    import sqlalchemy as sa

    from lightkeeper.batch.sql import engine
    from lightkeeper.errors import InvalidInput
    from lightkeeper.settings import expand_env

    db = engine(expand_env(url, what="--url"))
    try:
        with db.connect() as conn:
            return pd.read_sql_query(sa.text(sql), conn)
    except sa.exc.SQLAlchemyError as exc:
        raise InvalidInput(
            f"the labels query failed: {str(getattr(exc, 'orig', None) or exc).splitlines()[0]}",
            hint="check the query and the URL",
        ) from None
    finally:
        db.dispose()
