"""Printing for the CLI: Rich tables for people, ``--json`` for machines, errors on stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """Write JSON to stdout (no Rich markup, no wrapping)."""
    sys.stdout.write(
        orjson.dumps(
            data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str
        ).decode()
        + "\n"
    )
    sys.stdout.flush()


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a table; ``None`` cells show as a dim dash."""
    out = Table(title=escape(title) if title else None, title_justify="left", header_style="bold")
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*(_cell(v) for v in row))
    console.print(out)


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "[dim]-[/dim]"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))


def fail(code: str, message: str, hint: str = "") -> None:
    """Print an error the way every lightkeeper command does."""
    line = Text()
    line.append("error", style="bold red")
    line.append(f" [{code}]: {message}")
    err.print(line)
    if hint:
        err.print(Text.assemble(("  hint: ", "yellow"), hint))
