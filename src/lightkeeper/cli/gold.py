"""``lightkeeper gold add|approve|list|show``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from lightkeeper.cli._output import console, print_json, table
from lightkeeper.cli.state import state
from lightkeeper.names import MAX_ID

gold_app = typer.Typer(
    help="Gold datasets: labelled, versioned, signed off by the business.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the command group to the app."""
    app.add_typer(gold_app, name="gold")


@gold_app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Gold dataset name (the manifest's gate.gold)."),
    file: Path = typer.Argument(..., help="CSV or Parquet file with the labelled rows."),
    owner: str = typer.Option(..., "--owner", help="Business owner who signs it off."),
    label_column: str = typer.Option(..., "--label-column", help="Column with the true label."),
    segment_column: str | None = typer.Option(
        None, "--segment-column", help="Column whose values get their own metrics."
    ),
    project: Path | None = typer.Option(
        None,
        "--project",
        help="Project folder whose input schema the columns must match "
        "\\[default: the current folder, unless --model is given].",
    ),
    model: str | None = typer.Option(
        None, "--model", help="Check against the manifest stored with this model's newest version."
    ),
    json: bool = typer.Option(False, "--json", help="Print the version as JSON."),
) -> None:
    """Add a gold dataset version; the same content again is a no-op."""
    lk = state(ctx).lk(create=True)
    version, created = lk.gold.add(
        name,
        file,
        owner=owner,
        label_column=label_column,
        segment_column=segment_column,
        project_dir=project if project is not None or model is not None else Path("."),
        model=model,
    )
    if json:
        print_json({**version.to_dict(), "created": created})
        return
    if created:
        console.print(
            f"[bold green]added[/bold green] {escape(version.name)} version {version.version}: "
            f"{version.rows:,} rows, {version.content_hash[:19]}"
        )
        console.print(
            f"next: the owner signs it off: lightkeeper gold approve {escape(name)} "
            f"{version.version}"
        )
    else:
        console.print(
            f"unchanged: this content is already {escape(version.name)} version {version.version}"
        )


@gold_app.command("approve")
def approve(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Gold dataset name."),
    version: int = typer.Argument(..., min=1, max=MAX_ID, help="Version to sign off."),
    note: str = typer.Option("", "--note", help="Why, for the audit trail."),
) -> None:
    """Record the business owner's sign-off of a version (role owner or admin)."""
    approved = state(ctx).lk().gold.approve(name, version, note=note)
    console.print(
        f"[bold green]approved[/bold green] {escape(approved.name)} version {approved.version} "
        f"by {escape(approved.approved_by or '')}"
    )


@gold_app.command("list")
def list_gold(
    ctx: typer.Context, json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Every gold dataset with its newest version."""
    datasets = state(ctx).lk().gold.datasets()
    if json:
        print_json({"gold": [d.to_dict() for d in datasets]})
        return
    if not datasets:
        console.print(
            "no gold datasets yet: lightkeeper gold add NAME FILE --owner ... --label-column ..."
        )
        return
    table(
        "gold datasets",
        ["name", "version", "rows", "owner", "approved by", "hash"],
        [
            (d.name, d.version, f"{d.rows:,}", d.owner, d.approved_by, d.content_hash[:19])
            for d in datasets
        ],
    )


@gold_app.command("show")
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Gold dataset name."),
    version: int | None = typer.Argument(
        None, min=1, max=MAX_ID, help="Version (default: all versions)."
    ),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A gold dataset's versions, or one version with its columns."""
    lk = state(ctx).lk()
    if version is None:
        versions = lk.gold.versions(name)  # an unknown name raises the not-found error
        if json:
            print_json({"name": name, "versions": [v.to_dict() for v in versions]})
            return
        table(
            f"{escape(name)}: versions",
            ["version", "rows", "created", "by", "approved by", "approved", "hash"],
            [
                (
                    v.version,
                    f"{v.rows:,}",
                    v.created_at,
                    v.created_by,
                    v.approved_by,
                    v.approved_at,
                    v.content_hash[:19],
                )
                for v in versions
            ],
        )
        return
    gold = lk.gold.version(name, version)
    if json:
        print_json(gold.to_dict())
        return
    table(
        None,
        ["field", "value"],
        [
            ("dataset", f"{gold.name} version {gold.version}"),
            ("rows", f"{gold.rows:,}"),
            ("label", gold.label_column),
            ("segment", gold.segment_column),
            ("owner", gold.owner),
            (
                "approved",
                f"by {gold.approved_by} at {gold.approved_at:%Y-%m-%d %H:%M}"
                if gold.approved_at
                else "not yet",
            ),
            ("hash", gold.content_hash),
            ("source", gold.source),
            ("added", f"by {gold.created_by} at {gold.created_at:%Y-%m-%d %H:%M}"),
        ],
    )
    table("columns", ["name", "type"], [(c["name"], c["dtype"]) for c in gold.columns])
