"""Users, passwords, tokens, and the Actor every service call is made on behalf of."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import ApiToken, Role, User, UserSession
from hotline.auth.names import staff_name
from hotline.auth.permissions import Permission, allows, require
from hotline.db import utcnow
from hotline.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from hotline.messages import msg

_hasher = PasswordHasher()
_dummy_hash: str | None = None
_hash_pool: ThreadPoolExecutor | None = None


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Swap the Argon2 parameters (the test suite uses the cheapest profile to stay fast)."""
    global _hasher, _dummy_hash
    _hasher, _dummy_hash = hasher, None


def _dummy() -> str:
    # Verifying against a dummy hash keeps "no such user" as slow as "wrong password".
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("dummy-password-for-timing")
    return _dummy_hash


STAFF_ROLES = frozenset(Role)
UNIT_SCOPED_ROLES = frozenset({Role.UNIT_OFFICER, Role.DOCTOR})


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    role: Role
    unit_id: int | None = None

    @property
    def unit_scoped(self) -> bool:
        return self.role in UNIT_SCOPED_ROLES and self.unit_id is not None

    @property
    def is_hotline_staff(self) -> bool:
        """The hotline's own people: they see every case (Permission.SEE_ALL_CASES)."""
        return allows(self, Permission.SEE_ALL_CASES)


SYSTEM = Actor(user_id=None, username="system", role=Role.ADMIN)


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, role=user.role, unit_id=user.unit_id)


def hash_password(password: str) -> str:
    """Blocking (tens of milliseconds and 64 MiB at production cost): in a request or any
    other code on the event loop, await `hash_password_async` instead."""
    return _hasher.hash(password)


def check_new_password(password: str, *, field: str = "password") -> None:
    """The one password rule, for new accounts and changed passwords alike."""
    if len(password) < 8:
        raise InvalidInput("Mật khẩu phải có ít nhất 8 ký tự", field=field)


def _pool() -> ThreadPoolExecutor:
    # A few threads of their own: each hash holds Argon2's memory cost, so a burst of
    # sign-ins queues here instead of taking every thread (and gigabytes) at once, and
    # other work sent to threads (file responses) does not wait behind it.
    global _hash_pool
    if _hash_pool is None:
        _hash_pool = ThreadPoolExecutor(
            max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="password-hash"
        )
    return _hash_pool


async def hash_password_async(password: str) -> str:
    """`hash_password` off the event loop: the loop keeps serving other requests meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(_pool(), _hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        if password_hash is None:
            # Verifying against a dummy hash keeps "no such user" as slow as "wrong password".
            _hasher.verify(_dummy(), password + "x")
            return False
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches `password_hash` (None: no such account, checked against a
    dummy hash so that it takes as long), off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(
        _pool(), _verify, password_hash, password
    )


async def password_matches(user: User, password: str) -> bool:
    """Whether `password` is the user's password (checked off the event loop)."""
    return await verify_password_async(user.password_hash, password)


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: Role | str,
    unit_id: int | None = None,
    full_name: str = "",
) -> User:
    """Create a staff account; unit officers must belong to a unit."""
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(msg("Vai trò không hợp lệ: {role}", role=role), field="role") from None
    if role is Role.SERVICE:
        # A service account has no password anyone knows and its own token rules.
        raise InvalidInput(
            "Tài khoản dịch vụ tạo bằng lệnh hotline service-account create", field="role"
        )
    username = username.strip().lower()
    if not username:
        raise InvalidInput("Tên đăng nhập không được để trống", field="username")
    check_new_password(password)
    if role == Role.UNIT_OFFICER and unit_id is None:
        raise InvalidInput("Cán bộ đơn vị phải thuộc một đơn vị", field="unit")
    existing = await session.scalar(select(User.id).where(User.username == username))
    if existing is not None:
        raise Conflict(
            msg("Tên đăng nhập đã tồn tại: {username}", username=username), field="username"
        )
    user = User(
        username=username,
        password_hash=await hash_password_async(password),
        role=role,
        unit_id=unit_id,
        full_name=staff_name(full_name),
    )
    session.add(user)
    await session.flush()
    return user


@dataclass(frozen=True)
class SignInCandidate:
    """The account a sign-in names (None when there is no such active account)."""

    user_id: int | None
    password_hash: str | None


async def sign_in_candidate(session: AsyncSession, *, username: str) -> SignInCandidate:
    """Read the account a sign-in names. Callers end this read's transaction before the
    password is checked (`check_sign_in`): an Argon2 check takes long enough that holding
    SQLite's write lock or a pooled connection through it would let a flood of failed
    sign-ins stall every other write."""
    user = await session.scalar(select(User).where(User.username == username.strip().lower()))
    # A service account signs in only with the tokens an administrator made for it.
    if user is None or not user.active or user.role is Role.SERVICE:
        return SignInCandidate(None, None)
    return SignInCandidate(user.id, user.password_hash)


async def check_sign_in(candidate: SignInCandidate, password: str) -> int:
    """The candidate's user id if the password is theirs; the same error whatever was wrong
    (an unknown account is checked against a dummy hash, so it takes as long)."""
    ok = await verify_password_async(candidate.password_hash, password)
    if not ok or candidate.user_id is None:
        raise Unauthenticated("Sai tên đăng nhập hoặc mật khẩu")
    return candidate.user_id


async def signed_in_user(session: AsyncSession, *, user_id: int) -> User:
    """The user of a checked sign-in, in the transaction that opens their token or session:
    an account disabled while its password was being checked is refused."""
    user = await session.get(User, user_id)
    if user is None or not user.active:
        raise Unauthenticated("Sai tên đăng nhập hoặc mật khẩu")
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(session: AsyncSession, *, user: User, ttl_hours: int) -> str:
    """Create a bearer token; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_token_hash(token),
            expires_at=utcnow() + timedelta(hours=ttl_hours),
        )
    )
    await session.flush()
    return token


class TokenCache:
    """Recently checked tokens, so intake under load does not query the token table each time.

    Entries live a few seconds. Revoking through this process drops the entries at once
    (`discard`, `discard_user`); another process (a second web worker, the CLI) only
    learns of it from the database, so there a revoked token keeps working at most
    `ttl_seconds`. `revision` changes on every drop: live event streams of this process
    watch it to re-check their caller at once.
    """

    def __init__(self, ttl_seconds: float = 10.0, max_size: int = 10_000) -> None:
        self._ttl = ttl_seconds
        self._max = max_size
        self._items: dict[str, tuple[float, Actor]] = {}
        self.revision = 0

    def note_revocation(self) -> None:
        """Something was revoked in this process (a page session too): streams re-check."""
        self.revision += 1

    def discard(self, token: str) -> None:
        self._items.pop(_token_hash(token), None)
        self.note_revocation()

    def discard_user(self, user_id: int) -> None:
        """Forget every cached token of this user (disabled, revoked, password changed)."""
        for key in [k for k, (_, a) in self._items.items() if a.user_id == user_id]:
            del self._items[key]
        self.note_revocation()

    def get(self, token_hash: str) -> Actor | None:
        item = self._items.get(token_hash)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def put(self, token_hash: str, actor: Actor) -> None:
        if len(self._items) >= self._max:
            self._items.clear()
        self._items[token_hash] = (time.monotonic() + self._ttl, actor)

    def clear(self) -> None:
        self._items.clear()
        self.note_revocation()

    def actor_for(self, token: str) -> Actor | None:
        """The token's actor if it was checked in the last few seconds."""
        return self.get(_token_hash(token))


async def actor_for_token(
    session: AsyncSession, *, token: str, cache: TokenCache | None = None
) -> Actor:
    """Resolve a bearer token to its user, refusing expired, revoked or disabled ones."""
    digest = _token_hash(token)
    if cache is not None and (hit := cache.get(digest)) is not None:
        return hit
    row = (
        await session.execute(
            select(User, ApiToken)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == digest)
        )
    ).first()
    if row is None:
        raise Unauthenticated("Mã truy cập không hợp lệ")
    user, api_token = row
    if api_token.revoked or api_token.expires_at < utcnow() or not user.active:
        raise Unauthenticated("Mã truy cập đã hết hạn hoặc bị thu hồi")
    actor = actor_of(user)
    if cache is not None:
        cache.put(digest, actor)
    return actor


async def revoke_token(session: AsyncSession, *, token: str) -> None:
    """Revoke a bearer token (logout)."""
    api_token = await session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _token_hash(token))
    )
    if api_token is None:
        raise NotFound("Không tìm thấy mã truy cập")
    api_token.revoked = True
    await session.flush()


async def open_page_session(
    session: AsyncSession, *, user: User, user_agent: str = "", ip: str = ""
) -> str:
    """Record a browser sign-in; returns the random session id for the cookie (only its
    hash is stored)."""
    session_id = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            user_id=user.id,
            session_hash=_token_hash(session_id),
            user_agent=user_agent[:200],
            ip=ip[:45],
        )
    )
    await session.flush()
    return session_id


# last_seen_at is written at most this often per session, not on every page view.
_SEEN_EVERY = timedelta(minutes=5)


async def actor_for_page_session(
    session: AsyncSession, *, session_id: str, ttl_hours: int
) -> Actor:
    """Resolve a page session id (from the signed cookie) to its user, refusing unknown,
    revoked or expired sessions and disabled accounts."""
    row = (
        await session.execute(
            select(User, UserSession)
            .join(UserSession, UserSession.user_id == User.id)
            .where(UserSession.session_hash == _token_hash(session_id))
        )
    ).first()
    if row is None:
        raise Unauthenticated("Phiên đăng nhập không hợp lệ, vui lòng đăng nhập lại")
    user, page_session = row
    now = utcnow()
    if (
        page_session.revoked_at is not None
        or page_session.created_at + timedelta(hours=ttl_hours) < now
        or not user.active
    ):
        raise Unauthenticated("Phiên đăng nhập đã kết thúc, vui lòng đăng nhập lại")
    if now - page_session.last_seen_at > _SEEN_EVERY:
        page_session.last_seen_at = now
        await session.flush()
    return actor_of(user)


async def end_page_session(session: AsyncSession, *, session_id: str) -> None:
    """Sign a browser out (its row is kept, revoked, for the record)."""
    await session.execute(
        update(UserSession)
        .where(UserSession.session_hash == _token_hash(session_id))
        .where(UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def page_session_hash(session_id: str) -> str:
    return _token_hash(session_id)


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("Không tìm thấy người dùng", field="user_id")
    return user


async def display_names(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, str]:
    """Staff names for showing who did what (timelines), in one query."""
    ids = set(user_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(User.id, User.full_name, User.username).where(User.id.in_(ids))
    )
    return {uid: full or name for uid, full, name in rows.all()}


async def list_users(session: AsyncSession, *, actor: Actor) -> list[User]:
    """Every account (administrators and supervisors)."""
    require(actor, Permission.VIEW_USERS)
    return list((await session.scalars(select(User).order_by(User.username))).all())


async def get_user_by_username(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(
            msg("Không tìm thấy người dùng: {username}", username=username), field="username"
        )
    return user


async def view_user(session: AsyncSession, *, actor: Actor, user_id: int) -> User:
    """One account, for those who may see the accounts (administrators and supervisors)."""
    require(actor, Permission.VIEW_USERS)
    return await get_user(session, user_id)
