"""``lightkeeper drift REFERENCE CURRENT``: ad-hoc drift between two files."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from lightkeeper.cli._output import console, print_json, table

if TYPE_CHECKING:
    import pandas as pd


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("drift")(drift)


def drift(
    reference: Path = typer.Argument(..., help="Reference data: a CSV or Parquet file."),
    current: Path = typer.Argument(..., help="Current data: a CSV or Parquet file."),
    categorical: str | None = typer.Option(
        None,
        "--categorical",
        help="Comma-separated columns to treat as categories too (integer codes, say); "
        "text and boolean columns always are.",
    ),
    html: Path | None = typer.Option(
        None, "--html", help="Also write a self-contained HTML report with a plot per column."
    ),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Drift per column between two files (exact statistics, equal to scipy's).

    Only the columns both files have are read and compared. Small windows (<= 1,000
    rows) are judged by a p-value (KS, chi-square; drift when p < 0.05), larger ones by
    an effect size (normalised Wasserstein, Jensen-Shannon; drift above 0.1). Exits 1
    when any column drifted.
    """
    from lightkeeper.monitor.drift import drift_from_data

    columns = [c.strip() for c in categorical.split(",")] if categorical else None
    ref, cur = _read_common(reference, current)
    report = drift_from_data(ref, cur, categorical=columns)
    if html is not None:
        from lightkeeper.cli.monitor import write_text
        from lightkeeper.monitor.report import render_html

        facts = [
            ("reference", f"{reference} ({len(ref):,} rows)"),
            ("current", f"{current} ({len(cur):,} rows)"),
        ]
        write_text(html, render_html(f"Drift of {current.name}", facts, report.to_dict()))
    if json:
        print_json(report.to_dict())
    else:
        table(
            f"drift of {current.name} against {reference.name}",
            ["column", "kind", "rows ref/cur", "method", "value", "threshold", "drift", "psi"],
            [
                (
                    f.feature,
                    f.kind,
                    f"{f.reference_rows:,}/{f.current_rows:,}",
                    f.method,
                    f"{f.value:.4g}" if f.value is not None else None,
                    f"{f.threshold:g}" if f.threshold is not None else None,
                    "DRIFT" if f.drifted else ("ok" if f.method != "none" else "no data"),
                    f"{f.statistics.get('psi') or 0:.3f}",
                )
                for f in report.features
            ],
        )
        share = report.share_drifted
        console.print(
            f"{len(report.drifted)} of {len(report.features)} columns drifted ({share:.0%})"
        )
    if report.drifted:
        raise typer.Exit(1)


def _read_common(reference: Path, current: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both files, only the columns they have in common (found from the files' headers
    first, so a wide file costs only what is compared)."""
    from lightkeeper.errors import InvalidInput

    for path in (reference, current):
        _check(path)
    ref_columns, cur_columns = _columns(reference), _columns(current)
    present = set(cur_columns)
    common = [c for c in ref_columns if c in present]
    if not common:
        raise InvalidInput(
            "the two data sets have no column in common",
            hint=f"{reference.name} has {', '.join(ref_columns[:20]) or 'no columns'}; "
            f"{current.name} has {', '.join(cur_columns[:20]) or 'no columns'}",
        )
    return _read(reference, common), _read(current, common)


def _check(path: Path) -> None:
    from lightkeeper.errors import InvalidInput

    if not path.is_file():
        raise InvalidInput(f"no file at {path}", hint="give a .csv or .parquet file")
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise InvalidInput(f"{path} is neither .csv nor .parquet", hint="convert it first")


def _columns(path: Path) -> list[str]:
    """The data columns of a file, without reading its rows (a Parquet file's pandas
    index columns are left out: ``pandas.read_parquet`` makes them the index)."""
    with _readable(path):
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            schema = pq.read_schema(path)
            metadata = schema.pandas_metadata or {}
            index = {c for c in metadata.get("index_columns", []) if isinstance(c, str)}
            return [name for name in schema.names if name not in index]
        import pandas as pd

        return [str(c) for c in pd.read_csv(path, nrows=0).columns]


def _read(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A CSV or Parquet file as a frame: every column, or only ``columns`` in that order.

    Raises:
        InvalidInput: no such file, another format, or a file that cannot be read.
    """
    import pandas as pd

    _check(path)
    with _readable(path):
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path, columns=columns)
        frame = pd.read_csv(path, usecols=columns)
        return frame if columns is None else frame[columns]


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """A file that cannot be read is the user's error, with the reader's words."""
    from lightkeeper.errors import InvalidInput

    try:
        yield
    except (OSError, ValueError) as exc:  # pyarrow's and pandas' parse errors are ValueErrors
        raise InvalidInput(
            f"cannot read {path}: {exc}", hint="check that it is a valid CSV or Parquet file"
        ) from None
