"""`hotline service-account ...`: accounts for machines (an outside PBX posting call
records), made as the administrator of this machine (auth/service_accounts.py)."""

from __future__ import annotations

from typing import Any

import typer

from hotline.cli.common import command_settings, console, run_in_uow

service_app = typer.Typer(
    help="Service accounts: an outside PBX posting call records.", no_args_is_help=True
)


def _fail(exc: Any) -> None:
    console.print(f"[red]Lỗi ({exc.field or 'input'}):[/red] {exc.detail}")
    raise typer.Exit(2) from None


@service_app.command("create")
def service_create(
    username: str = typer.Option(..., "--username", help="e.g. pbx-chi-nhanh"),
    full_name: str = typer.Option("", "--full-name", help="What it is, for the account list"),
    days: int = typer.Option(365, "--days", help="How long its token holds"),
) -> None:
    """Open a service account that may only post call records (POST /api/v1/calls), and
    print its bearer token: shown this once, stored only hashed."""
    from hotline.auth.service import SYSTEM
    from hotline.auth.service_accounts import create_service_account
    from hotline.errors import DomainError

    async def work(session: Any) -> tuple[int, str]:
        user, token = await create_service_account(
            session, actor=SYSTEM, username=username, full_name=full_name, days=days
        )
        return user.id, token

    try:
        user_id, token = run_in_uow(command_settings(), work)
    except DomainError as exc:
        _fail(exc)
    console.print(f"Đã tạo tài khoản dịch vụ {username.strip().lower()} (id {user_id})")
    console.print(f"Mã truy cập (hiệu lực {days} ngày, chỉ hiện một lần):")
    typer.echo(token)


@service_app.command("token")
def service_token(
    username: str = typer.Option(..., "--username"),
    days: int = typer.Option(365, "--days", help="How long the token holds"),
) -> None:
    """Print another token for a service account (then end the old ones with `hotline user
    revoke`, which ends them all, and make a new one: or keep both while the PBX moves)."""
    from hotline.auth.service import SYSTEM
    from hotline.auth.service_accounts import issue_service_token
    from hotline.errors import DomainError

    async def work(session: Any) -> str:
        return await issue_service_token(session, actor=SYSTEM, username=username, days=days)

    try:
        token = run_in_uow(command_settings(), work)
    except DomainError as exc:
        _fail(exc)
    console.print(f"Mã truy cập mới (hiệu lực {days} ngày, chỉ hiện một lần):")
    typer.echo(token)
