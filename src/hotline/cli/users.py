"""`hotline user ...`: staff accounts, changed as the administrator of this machine."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import typer

from hotline.cli.common import T, command_settings, console, run_in_uow

user_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)


@user_app.command("create")
def user_create(
    username: str = typer.Option(..., "--username"),
    role: str = typer.Option(
        ..., "--role", help="admin, supervisor, operator, unit_officer, doctor"
    ),
    password: str = typer.Option(..., "--password"),
    unit: str | None = typer.Option(
        None, "--unit", help="Unit code, for unit officers and doctors"
    ),
    full_name: str = typer.Option("", "--full-name"),
) -> None:
    """Create a staff account (on the audit trail, by the administrator of this machine)."""
    from hotline.auth.accounts import create_account
    from hotline.auth.service import SYSTEM
    from hotline.directory.service import get_unit_by_code
    from hotline.errors import DomainError

    async def work(session: Any) -> int:
        unit_id = (await get_unit_by_code(session, unit)).id if unit else None
        user = await create_account(
            session,
            actor=SYSTEM,
            username=username,
            password=password,
            role=role,
            unit_id=unit_id,
            full_name=full_name,
        )
        return user.id

    try:
        user_id = run_in_uow(command_settings(), work)
    except DomainError as exc:
        console.print(f"[red]Lỗi ({exc.field or 'input'}):[/red] {exc.detail}")
        raise typer.Exit(2) from None
    console.print(f"Đã tạo tài khoản {username} (id {user_id})")


def _account_command(username: str, change: Callable[[Any, Any, int], Awaitable[T]]) -> T:
    """Run an account change as the administrator of this machine, or exit 2 with the reason.

    Web processes keep recently checked tokens for up to 10 s (TokenCache): a token revoked
    here may still work that long there.
    """
    from hotline.auth.service import SYSTEM, get_user_by_username
    from hotline.errors import DomainError

    async def work(session: Any) -> T:
        user = await get_user_by_username(session, username)
        return await change(session, SYSTEM, user.id)

    try:
        return run_in_uow(command_settings(), work)
    except DomainError as exc:
        console.print(f"[red]Lỗi ({exc.field or 'input'}):[/red] {exc.detail}")
        raise typer.Exit(2) from None


@user_app.command("disable")
def user_disable(username: str = typer.Option(..., "--username")) -> None:
    """Disable an account: it cannot sign in, and its tokens and sessions end."""
    from hotline.auth.accounts import set_active

    _account_command(
        username, lambda s, actor, uid: set_active(s, actor=actor, user_id=uid, active=False)
    )
    console.print(f"Đã khoá tài khoản {username}")


@user_app.command("enable")
def user_enable(username: str = typer.Option(..., "--username")) -> None:
    """Enable a disabled account again (it signs in anew)."""
    from hotline.auth.accounts import set_active

    _account_command(
        username, lambda s, actor, uid: set_active(s, actor=actor, user_id=uid, active=True)
    )
    console.print(f"Đã mở lại tài khoản {username}")


@user_app.command("revoke")
def user_revoke(username: str = typer.Option(..., "--username")) -> None:
    """End every bearer token and page session of an account (it stays open)."""
    from hotline.auth.accounts import revoke_user

    done = _account_command(
        username, lambda s, actor, uid: revoke_user(s, actor=actor, user_id=uid)
    )
    console.print(
        f"Đã thu hồi {done.tokens} mã truy cập và {done.sessions} phiên đăng nhập của {username}"
    )


@user_app.command("password")
def user_password(
    username: str = typer.Option(..., "--username"),
    password: str = typer.Option(
        ..., "--password", prompt=True, hide_input=True, confirmation_prompt=True
    ),
) -> None:
    """Set an account's password; its tokens and sessions end."""
    from hotline.auth.accounts import set_password

    _account_command(
        username,
        lambda s, actor, uid: set_password(s, actor=actor, user_id=uid, new_password=password),
    )
    console.print(f"Đã đặt mật khẩu mới cho {username}")


@user_app.command("sip-password")
def user_sip_password(
    username: str = typer.Option(..., "--username", help="The staff account"),
    sip_username: str = typer.Option(..., "--sip-username", help="What the phone logs in as"),
    password: str = typer.Option(..., "--password", help="The phone's SIP password"),
    uri: str | None = typer.Option(None, "--uri", help="A fixed SIP URI if it never registers"),
) -> None:
    """Set the SIP login of an operator's phone (stored as the digest HA1, not the password)."""
    from sqlalchemy import select

    from hotline.agents.service import set_sip_credentials
    from hotline.auth.models import User
    from hotline.auth.service import SYSTEM
    from hotline.errors import DomainError, NotFound

    settings = command_settings()

    async def work(session: Any) -> int:
        user_id = await session.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            raise NotFound("Không tìm thấy người dùng", field="username")
        await set_sip_credentials(
            session,
            actor=SYSTEM,
            user_id=user_id,
            username=sip_username,
            password=password,
            realm=settings.sip_realm,
            uri=uri,
        )
        return int(user_id)

    try:
        run_in_uow(settings, work)
    except DomainError as exc:
        console.print(f"[red]Lỗi ({exc.field or 'input'}):[/red] {exc.detail}")
        raise typer.Exit(2) from None
    console.print(f"Đã đặt tài khoản SIP {sip_username} cho {username}")
