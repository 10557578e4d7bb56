"""``lightkeeper drift REFERENCE CURRENT``: ad-hoc drift between two files."""

from __future__ import annotations

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
    """Drift per column between two files (exact statistics, scipy's functions).

    Small windows (<= 1,000 rows) are judged by a p-value (KS, chi-square; drift when
    p < 0.05), larger ones by an effect size (normalised Wasserstein, Jensen-Shannon;
    drift above 0.1). Exits 1 when any column drifted.
    """
    from lightkeeper.monitor.drift import drift_from_data

    columns = [c.strip() for c in categorical.split(",")] if categorical else None
    ref, cur = _read(reference), _read(current)
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


def _read(path: Path) -> pd.DataFrame:
    import pandas as pd

    from lightkeeper.errors import InvalidInput

    if not path.is_file():
        raise InvalidInput(f"no file at {path}", hint="give a .csv or .parquet file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix == ".csv":
            return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}", hint="check the file") from None
    raise InvalidInput(f"{path} is neither .csv nor .parquet", hint="convert it first")
