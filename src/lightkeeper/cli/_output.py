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

# soft_wrap: a line is never broken at the console's width (80 when piped), so paths,
# hints and ids stay whole in a file, a pipe or a terminal that wraps by itself.
console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


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
    """Print a table; ``None`` cells show as a dim dash.

    On a terminal it is a Rich table; piped or redirected, plain tab-separated columns
    (a header line, one line per row, nothing cut or wrapped) for ``cut``, ``awk`` or a
    spreadsheet. ``--json`` is the form for programs.
    """
    if not console.is_terminal:
        _plain(title, columns, rows)
        return
    out = Table(title=escape(title) if title else None, title_justify="left", header_style="bold")
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*(_cell(v) for v in row))
    console.print(out)


def _plain(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    lines = [f"# {title}"] if title else []
    lines.append("\t".join(columns))
    lines.extend("\t".join(_text(v) for v in row) for row in rows)
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def _text(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4g}"
    return " ".join(str(value).split())  # one line per row: tabs and newlines become spaces


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
