"""Account control: disable and enable, revoke tokens and sessions, change passwords.

Every change that could mean a stolen credential (disabling, a new password, an explicit
revoke) ends the user's bearer tokens and page sessions in the same transaction. Callers
drop the user from their process's TokenCache after commit (`TokenCache.discard_user`).
Every administrator's change goes on the audit trail (auth/audit.py) in that transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.audit import record_change
from hotline.auth.models import ApiToken, User, UserSession
from hotline.auth.permissions import ROLES, Permission, require
from hotline.auth.service import (
    Actor,
    check_new_password,
    create_user,
    get_user,
    hash_password_async,
    page_session_hash,
    password_matches,
)
from hotline.db import utcnow
from hotline.errors import Conflict, InvalidInput, NotAllowed


@dataclass(frozen=True)
class Revoked:
    tokens: int
    sessions: int


def account_settings(user: User) -> dict[str, object]:
    """An account as the audit trail keeps it (no password hash)."""
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role.value,
        "unit_id": user.unit_id,
        "active": user.active,
    }


async def revoke_credentials(
    session: AsyncSession, *, user_id: int, keep_session_id: str | None = None
) -> Revoked:
    """Revoke every live bearer token and page session of a user, but the one page
    session named (the browser that is changing its own password)."""
    tokens = await session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked.is_(False))
        .values(revoked=True)
    )
    sessions_query = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if keep_session_id is not None:
        sessions_query = sessions_query.where(
            UserSession.session_hash != page_session_hash(keep_session_id)
        )
    sessions = await session.execute(sessions_query.values(revoked_at=utcnow()))
    return Revoked(tokens=tokens.rowcount or 0, sessions=sessions.rowcount or 0)  # type: ignore[attr-defined]


async def create_account(
    session: AsyncSession,
    *,
    actor: Actor,
    username: str,
    password: str,
    role: str,
    unit_id: int | None = None,
    full_name: str = "",
) -> User:
    """Admin: open a staff account (`auth.service.create_user`'s rules); audited."""
    require(actor, Permission.MANAGE_USERS, "Chỉ quản trị viên được tạo tài khoản")
    user = await create_user(
        session,
        username=username,
        password=password,
        role=role,
        unit_id=unit_id,
        full_name=full_name,
    )
    record_change(
        session,
        actor=actor,
        kind="user",
        key=user.id,
        action="create",
        after=account_settings(user),
    )
    await session.flush()
    return user


async def revoke_user(session: AsyncSession, *, actor: Actor, user_id: int) -> Revoked:
    """Admin: sign a user out everywhere (tokens and page sessions); the account stays open.
    Audited, with how many tokens and sessions ended."""
    require(actor, Permission.MANAGE_USERS)
    user = await get_user(session, user_id)
    done = await revoke_credentials(session, user_id=user.id)
    record_change(
        session,
        actor=actor,
        kind="user",
        key=user.id,
        action="revoke",
        after={"tokens_ended": done.tokens, "sessions_ended": done.sessions},
    )
    await session.flush()
    return done


async def set_active(session: AsyncSession, *, actor: Actor, user_id: int, active: bool) -> User:
    """Admin: disable or enable an account. Disabling revokes all its credentials; the last
    active administrator cannot be disabled (nobody could manage accounts any more). A
    change of state is audited; asking for the state the account is in changes nothing."""
    require(actor, Permission.MANAGE_USERS)
    user = await get_user(session, user_id)
    if not active and user.active:
        managers = ROLES[Permission.MANAGE_USERS]
        if user.role in managers:
            # Locked on PostgreSQL so two admins disabling each other cannot both pass.
            admins = (
                await session.scalars(
                    select(User.id)
                    .where(User.role.in_(managers), User.active.is_(True))
                    .with_for_update()
                )
            ).all()
            if set(admins) <= {user.id}:
                raise Conflict(
                    "Không thể khoá quản trị viên cuối cùng còn hoạt động", field="active"
                )
        user.active = False
        await session.flush()
        await revoke_credentials(session, user_id=user.id)
    elif active and not user.active:
        user.active = True
    else:
        return user
    record_change(
        session,
        actor=actor,
        kind="user",
        key=user.id,
        action="enable" if active else "disable",
        before={"active": not active},
        after={"active": active},
    )
    await session.flush()
    return user


async def set_password(
    session: AsyncSession, *, actor: Actor, user_id: int, new_password: str
) -> User:
    """Admin: give a user a new password; all their tokens and sessions end. Audited (that
    it changed, never the password)."""
    require(actor, Permission.MANAGE_USERS)
    check_new_password(new_password)
    user = await get_user(session, user_id)
    user.password_hash = await hash_password_async(new_password)
    await session.flush()
    await revoke_credentials(session, user_id=user.id)
    record_change(session, actor=actor, kind="user", key=user.id, action="password")
    await session.flush()
    return user


async def change_own_password(
    session: AsyncSession,
    *,
    actor: Actor,
    current_password: str,
    new_password: str,
    keep_session_id: str | None = None,
) -> Revoked:
    """A user changes their own password, proving the current one. Every other page session
    and every bearer token of theirs ends (the one in use too, if it is a token)."""
    if actor.user_id is None:
        raise NotAllowed("Tài khoản hệ thống không có mật khẩu")
    user = await get_user(session, actor.user_id)
    if not await password_matches(user, current_password):
        raise InvalidInput("Mật khẩu hiện tại không đúng", field="current_password")
    check_new_password(new_password, field="new_password")
    if await password_matches(user, new_password):
        raise InvalidInput("Mật khẩu mới phải khác mật khẩu hiện tại", field="new_password")
    user.password_hash = await hash_password_async(new_password)
    await session.flush()
    return await revoke_credentials(session, user_id=user.id, keep_session_id=keep_session_id)


async def update_user(
    session: AsyncSession,
    *,
    actor: Actor,
    user_id: int,
    active: bool | None = None,
    password: str | None = None,
) -> User:
    """Admin: the account changes of `PATCH /users/{id}` (a new password, then the state)."""
    require(actor, Permission.MANAGE_USERS)
    user = await get_user(session, user_id)
    if password is not None:
        user = await set_password(session, actor=actor, user_id=user_id, new_password=password)
    if active is not None:
        user = await set_active(session, actor=actor, user_id=user_id, active=active)
    return user
