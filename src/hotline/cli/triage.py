"""`hotline triage ...`: train, choose and list the triage models, and classify from stdin."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import typer

from hotline.cli.common import command_settings, console, run_in_uow, system_actor

triage_app = typer.Typer(help="Category and urgency suggestions.", no_args_is_help=True)


@triage_app.command("train")
def triage_train(
    history: bool = typer.Option(
        True, "--history/--no-history", help="Also learn from cases staff confirmed"
    ),
) -> None:
    """Train a new model version; metrics are measured on the corpus's held-out split."""
    from hotline.cases.training import history_examples
    from hotline.triage.service import train_model

    async def train(session: Any) -> Any:
        examples = await history_examples(session) if history else []
        return await train_model(session, history=examples)

    row = run_in_uow(command_settings(), train)
    m = row.metrics
    console.print(
        f"Phiên bản {row.version}{' (đang dùng)' if row.active else ''}: "
        f"học từ {row.trained_on}; macro-F1 {m['macro_f1']:.3f}, "
        f"recall khẩn cấp {m['urgent']['recall']:.3f}, "
        f"precision khẩn cấp {m['urgent']['precision']:.3f} trên {m['n']} tin giữ lại"
    )
    if not row.active:
        console.print(f"Chọn dùng phiên bản này: hotline triage activate {row.version}")


@triage_app.command("activate")
def triage_activate(version: int = typer.Argument(...)) -> None:
    """Make a model version the active one (as the administrator of this machine)."""
    from hotline.errors import DomainError
    from hotline.triage.service import activate_model

    try:
        run_in_uow(
            command_settings(), lambda s: activate_model(s, actor=system_actor(), version=version)
        )
    except DomainError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from None
    console.print(f"Đang dùng phiên bản {version}")


@triage_app.command("models")
def triage_models() -> None:
    """The stored model versions with their held-out metrics, as JSON lines."""
    from hotline.triage.service import list_models

    async def work(session: Any) -> list[dict[str, Any]]:
        rows = await list_models(session, actor=system_actor())
        return [
            {
                "version": r.version,
                "active": r.active,
                "created_at": r.created_at.isoformat(),
                "trained_on": r.trained_on,
                "macro_f1": r.metrics.get("macro_f1"),
                "urgent": r.metrics.get("urgent"),
            }
            for r in rows
        ]

    for row in run_in_uow(command_settings(), work):
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


@triage_app.command("classify")
def triage_classify() -> None:
    """One text per line on stdin -> one JSON object per line on stdout (same order)."""
    from hotline.errors import DomainError
    from hotline.triage import service

    async def load(session: Any) -> Any:
        from hotline.directory.service import list_categories

        version, model = await service.active_model(session)
        names = {c.code: c.name_vi for c in await list_categories(session)}
        return version, model, names

    try:
        version, model, names = run_in_uow(command_settings(), load)
    except Exception as exc:
        console.print(
            f"[yellow]Không đọc được mô hình đã lưu ({exc.__class__.__name__}): "
            "dùng mô hình học từ kho dữ liệu đi kèm[/yellow]"
        )
        from hotline.directory.defaults import DEFAULT_CATEGORIES

        names = {code: name_vi for code, name_vi, *_ in DEFAULT_CATEGORIES}
        version, model = None, service.corpus_model()
    allowed = set(names) or None
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        try:
            s = service.suggest(model, text, version=version, allowed=allowed, names=names)
        except DomainError as exc:
            out: dict[str, Any] = {
                "text": text,
                "category": None,
                "confidence": 0.0,
                "urgent": False,
                "reasons": [],
                "error": exc.detail,
            }
        else:
            out = {
                "text": text,
                "category": s.category,
                "category_name": s.category_name,
                "confidence": s.confidence,
                "urgent": s.urgent,
                "reasons": s.reasons,
                "model_version": s.model_version,
            }
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        if not _more_input_waiting():
            sys.stdout.flush()
    sys.stdout.flush()


def _more_input_waiting() -> bool:
    """Whether stdin already holds the next line. A caller feeding one message at a time
    (a chat gateway) gets each answer at once; a batch from a file or a fast pipe is written
    in blocks instead of a write per line (which halved the throughput)."""
    import select

    try:
        ready, _, _ = select.select([sys.stdin], [], [], 0)
    except (OSError, ValueError, TypeError, io.UnsupportedOperation):
        return False  # no file descriptor (e.g. a test runner's stream): flush every line
    return bool(ready)
