"""`hotline kb ...`: the knowledge base (hỏi đáp)."""

from __future__ import annotations

from pathlib import Path

import typer

from hotline.cli.common import command_settings, console, run_in_uow, system_actor

kb_app = typer.Typer(help="Knowledge base (hỏi đáp).", no_args_is_help=True)


@kb_app.command("import")
def kb_import(
    file: Path = typer.Argument(..., help=".csv or .json; columns: slug, question, answer, ..."),
) -> None:
    """Load articles from a file; loading it again changes nothing (matched by slug)."""
    from hotline.errors import DomainError
    from hotline.knowledge.importer import import_articles, read_file

    try:
        rows = read_file(file)
        result = run_in_uow(
            command_settings(),
            lambda s: import_articles(s, actor=system_actor(), rows=rows),
        )
    except DomainError as exc:
        console.print(f"[red]Lỗi ({exc.field or 'input'}):[/red] {exc.detail}")
        raise typer.Exit(2) from None
    console.print(
        f"Đã nhập {len(rows)} bài: {result.created} mới, {result.updated} cập nhật,"
        f" {result.unchanged} không đổi, {result.published} xuất bản"
    )
