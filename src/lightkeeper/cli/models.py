"""``lightkeeper models list|show``."""

from __future__ import annotations

import typer
from rich.markup import escape

from lightkeeper.cli._output import console, print_json, table
from lightkeeper.cli.state import state

models_app = typer.Typer(help="Registered models and their versions.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the command group to the app."""
    app.add_typer(models_app, name="models")


@models_app.command("list")
def list_models(
    ctx: typer.Context, json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Every registered model with its newest version and aliases."""
    models = state(ctx).lk().registry.list_models()
    if json:
        print_json({"models": [m.to_dict() for m in models]})
        return
    if not models:
        console.print(
            "no registered models yet: train one with [bold]lightkeeper train PROJECT_DIR[/bold]"
        )
        return
    table(
        "models",
        ["name", "latest", "versions", "aliases", "updated"],
        [
            (
                m.name,
                m.latest_version,
                m.versions,
                ", ".join(f"{k}={v}" for k, v in sorted(m.aliases.items())),
                m.updated_at,
            )
            for m in models
        ],
    )


@models_app.command("show")
def show(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Model name."),
    version: str | None = typer.Argument(None, help="Version number, 'latest' or an alias."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A model's versions, or one version with its lineage, params and metrics."""
    lk = state(ctx).lk()
    if version is None:
        versions = lk.registry.list_versions(model)
        if json:
            print_json({"model": model, "versions": [v.to_dict() for v in versions]})
            return
        table(
            f"{escape(model)}: versions",
            ["version", "created", "aliases", "registered by", "data", "code"],
            [
                (
                    v.version,
                    v.created_at,
                    ", ".join(v.aliases),
                    v.lineage.registered_by,
                    v.lineage.data_hash[:19] if v.lineage.data_hash else None,
                    (v.lineage.code_commit or "")[:10] + ("*" if v.lineage.code_dirty else ""),
                )
                for v in versions
            ],
        )
        return
    info = lk.version(model, version)
    if json:
        print_json(info.to_dict())
        return
    lin = info.lineage
    rows = [
        ("model", f"{info.model} version {info.version}"),
        ("created", info.created_at),
        ("status", info.status),
        ("aliases", ", ".join(info.aliases)),
        ("flavor", info.flavor),
        ("registered by", lin.registered_by),
        ("run", info.run_id),
        ("source", info.source),
        ("data hash", lin.data_hash),
        ("data rows", f"{lin.data_rows:,}" if lin.data_rows is not None else None),
        ("features", ", ".join(lin.data_columns)),
        ("code commit", lin.code_commit),
        ("code dirty", lin.code_dirty),
        ("manifest", lin.manifest_hash),
        ("project", lin.project),
    ]
    table(None, ["field", "value"], rows)
    if info.params:
        table("params", ["name", "value"], sorted(info.params.items()))
    if info.metrics:
        table("metrics", ["name", "value"], sorted(info.metrics.items()))


@models_app.command("register")
def register_uri(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Registered model name (created when missing)."),
    model_uri: str = typer.Argument(..., help="MLflow model URI, e.g. runs:/RUN_ID/model."),
    reason: str = typer.Option("", help="Why, for the audit trail."),
    json: bool = typer.Option(False, "--json", help="Print the new version as JSON."),
) -> None:
    """Register a model already logged to MLflow (any flavor) as a new version."""
    info = state(ctx).lk(create=True).training.register_uri(model, model_uri, reason=reason)
    if json:
        print_json(info.to_dict())
        return
    console.print(
        f"[bold green]registered[/bold green] {info.model} version {info.version} "
        f"({info.flavor}) from {escape(model_uri)}"
    )
