"""``lightkeeper tokens create|list|revoke``."""

from __future__ import annotations

import typer
from rich.markup import escape

from lightkeeper.cli._output import console, print_json, table
from lightkeeper.cli.state import state
from lightkeeper.names import MAX_ID

tokens_app = typer.Typer(
    help="API tokens with a role, for the CLI and the HTTP API.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the command group to the app."""
    app.add_typer(tokens_app, name="tokens")


@tokens_app.command("create")
def create(
    ctx: typer.Context,
    role: str = typer.Option(..., "--role", help="data-scientist, operator, owner or admin."),
    name: str = typer.Option(..., "--name", help="Who uses it (recorded as the actor)."),
    json: bool = typer.Option(False, "--json", help="Print JSON (with the secret)."),
) -> None:
    """Create a token (admin; the first token of a workspace needs none). Shown once."""
    from lightkeeper.auth import parse_role

    token, secret = state(ctx).lk(create=True).access.create(name, parse_role(role))
    if json:
        print_json({**token.to_dict(), "token": secret})
        return
    console.print(
        f"[bold green]created[/bold green] token {token.id} for {escape(token.name)} ({token.role})"
    )
    console.print(secret, soft_wrap=True)
    console.print(
        "[dim]shown once: store it now (CLI: LIGHTKEEPER_TOKEN, HTTP: Authorization: Bearer)[/dim]"
    )


@tokens_app.command("list")
def list_tokens(
    ctx: typer.Context, json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Every token (never the secrets)."""
    tokens = state(ctx).lk().access.list()
    if json:
        print_json({"tokens": [t.to_dict() for t in tokens]})
        return
    table(
        "tokens",
        ["id", "name", "role", "prefix", "created by", "created", "revoked"],
        [
            (t.id, t.name, t.role, t.prefix + "...", t.created_by, t.created_at, t.revoked_at)
            for t in tokens
        ],
    )


@tokens_app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Token id."),
) -> None:
    """Revoke a token; it stops working at once."""
    token = state(ctx).lk().access.revoke(token_id)
    console.print(f"revoked token {token.id} ({escape(token.name)}, {token.role})")
