"""`hotline report`: the summary report as a table, JSON, CSV or XLSX."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import typer
from rich.console import Console

from hotline.cli.common import command_settings, console, run_in_uow


def report(
    date_from: str = typer.Option(..., "--from", help="YYYY-MM-DD, inclusive"),
    date_to: str = typer.Option(..., "--to", help="YYYY-MM-DD, inclusive"),
    fmt: str = typer.Option("table", "--format", help="table, json, csv or xlsx"),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File to write (xlsx needs one)"
    ),
) -> None:
    """The summary report over local dates in the site's timezone."""
    from hotline.errors import DomainError
    from hotline.reports import export
    from hotline.reports.service import summary

    try:
        start, end = date.fromisoformat(date_from), date.fromisoformat(date_to)
    except ValueError:
        console.print("[red]Ngày phải có dạng YYYY-MM-DD[/red]")
        raise typer.Exit(2) from None
    if fmt not in ("table", "json", "csv", "xlsx"):
        console.print("[red]--format phải là table, json, csv hoặc xlsx[/red]")
        raise typer.Exit(2)
    if fmt == "xlsx" and output is None:
        console.print("[red]--format xlsx cần --output TỆP.xlsx[/red]")
        raise typer.Exit(2)
    try:
        data = run_in_uow(command_settings(), lambda s: summary(s, date_from=start, date_to=end))
    except DomainError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from None
    if fmt == "json":
        text = json.dumps(data, ensure_ascii=False, indent=2)
    elif fmt == "csv":
        text = export.to_csv(data)
    elif fmt == "xlsx":
        assert output is not None
        export.to_xlsx(data, output)
        console.print(f"Đã ghi {output}")
        return
    else:
        export.print_table(data, Console())
        return
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
