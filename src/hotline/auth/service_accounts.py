"""Service accounts: a machine, not a person, that calls one part of the API with a
bearer token an administrator made for it. The one kind there is today posts call
records (`POST /api/v1/calls`) for a PBX outside the hotline's own phone line (an office
switchboard, a second site's Asterisk): its calls then count in the reports, the
staffing forecast and surge mode like the line's own.

A service account has the role `service`, which holds only Permission.WRITE_CALLS, and
its token is refused on every route but SERVICE_ROUTES (`check_route`, run wherever a
caller is authenticated: web/deps.py), so a route that merely needs "someone signed in"
does not open to it either. It cannot sign in with a password (sign_in_candidate
refuses the role; its password is random and never shown) nor hold a page session. Its
tokens are long-lived (`days`), stored hashed like every token, and ended with
`hotline user revoke` or by disabling the account; a new one is made with `token`.
Created from the CLI (`hotline service-account`), as the administrator of the machine,
and on the audit trail."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.audit import record_change
from hotline.auth.models import Role, User
from hotline.auth.names import staff_name
from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor, hash_password_async, issue_token
from hotline.errors import Conflict, InvalidInput, NotAllowed, NotFound
from hotline.messages import msg

# The (method, path) a service account's token may call; anything else is 403.
SERVICE_ROUTES = frozenset({("POST", "/api/v1/calls")})
OUT_OF_SCOPE = msg("Tài khoản dịch vụ chỉ được gửi bản ghi cuộc gọi (POST /api/v1/calls)")
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,79}")
MAX_DAYS = 3660  # ten years: a token must end some day


def check_route(actor: Actor, method: str, path: str) -> None:
    """Refuse (403) a service account's call to anything but SERVICE_ROUTES."""
    if actor.role is Role.SERVICE and (method, path.rstrip("/")) not in SERVICE_ROUTES:
        raise NotAllowed(OUT_OF_SCOPE)


def _days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(msg("Hiệu lực của mã từ 1 đến {max} ngày", max=MAX_DAYS), field="days")
    return days


async def create_service_account(
    session: AsyncSession, *, actor: Actor, username: str, full_name: str = "", days: int = 365
) -> tuple[User, str]:
    """Admin: open a service account that may only post call records, and its first
    token (valid `days`); returns both, the token shown this once. Audited."""
    require(actor, Permission.MANAGE_USERS, "Chỉ quản trị viên được tạo tài khoản dịch vụ")
    name = username.strip().lower()
    if not NAME.fullmatch(name):
        raise InvalidInput(
            msg(
                "Tên tài khoản dịch vụ gồm 3 đến 80 ký tự: chữ thường không dấu, chữ số, "
                "dấu chấm, - hoặc _ (ví dụ: pbx-chi-nhanh)"
            ),
            field="username",
        )
    days = _days(days)
    if await session.scalar(select(User.id).where(User.username == name)) is not None:
        raise Conflict(msg("Tên đăng nhập đã tồn tại: {username}", username=name), field="username")
    user = User(
        username=name,
        full_name=staff_name(full_name),
        role=Role.SERVICE,
        # Nobody knows it: the account signs in only with its tokens.
        password_hash=await hash_password_async(secrets.token_urlsafe(32)),
    )
    session.add(user)
    await session.flush()
    record_change(
        session,
        actor=actor,
        kind="user",
        key=user.id,
        action="create",
        after={"username": user.username, "role": user.role.value, "full_name": user.full_name},
    )
    token = await issue_token(session, user=user, ttl_hours=days * 24)
    return user, token


async def issue_service_token(
    session: AsyncSession, *, actor: Actor, username: str, days: int = 365
) -> str:
    """Admin: another token for an open service account (to replace one before it ends,
    then revoke the old ones). Audited."""
    require(actor, Permission.MANAGE_USERS, "Chỉ quản trị viên được tạo mã cho tài khoản dịch vụ")
    user = await session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or user.role is not Role.SERVICE:
        raise NotFound(
            msg("Không có tài khoản dịch vụ {username}", username=username), field="username"
        )
    if not user.active:
        raise InvalidInput("Tài khoản dịch vụ này đã bị khoá", field="username")
    days = _days(days)
    record_change(
        session, actor=actor, kind="user", key=user.id, action="token", after={"days": days}
    )
    return await issue_token(session, user=user, ttl_hours=days * 24)
