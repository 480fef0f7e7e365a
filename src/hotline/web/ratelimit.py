"""Throttles: failed sign-ins and the public pages, counted in a store every web process shares.

The `limits` library keeps moving windows in Redis when `HOTLINE_REDIS_URL` is set (every web
process behind the load balancer sees the same counts) and in process memory otherwise (the
embedded single process). Its memory store expires old windows itself, so the number of keys
stays bounded by what one window can hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any

import structlog
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from hotline.errors import DomainError, Unauthenticated
from hotline.messages import msg
from hotline.netaddr import client_key


class TooManyAttempts(DomainError):
    status = 429
    title = msg("Quá nhiều lần thử")


class TooManyRequests(DomainError):
    status = 429
    title = msg("Quá nhiều yêu cầu")


log = structlog.get_logger(__name__)


class _Shared:
    """A `limits` strategy over the shared store, with the same strategy over this process's
    memory standing in while the store cannot be reached: a Redis outage must not stop staff
    signing in, and the throttle then holds per process, as it does without Redis."""

    def __init__(self, strategy: type[Any], storage: Storage) -> None:
        self._shared = strategy(storage)
        self._local = strategy(MemoryStorage()) if not isinstance(storage, MemoryStorage) else None
        self._logged_at = 0.0

    async def call(self, name: str, *args: Any) -> Any:
        if self._local is None:
            return await getattr(self._shared, name)(*args)
        try:
            return await getattr(self._shared, name)(*args)
        except Exception as exc:  # the store's client raises its own connection errors
            now = time.monotonic()
            if now - self._logged_at > 60:  # one line a minute, not one per request
                self._logged_at = now
                log.warning("ratelimit_store_unreachable", error=repr(exc)[:200])
            return await getattr(self._local, name)(*args)


def make_storage(redis_url: str, *, prefix: str) -> Storage:
    """Redis when the deployment has one (shared by processes), else this process's memory."""
    if redis_url:
        return RedisStorage(f"async+{redis_url}", implementation="redispy", key_prefix=prefix)
    return MemoryStorage()


def _user_key(username: str) -> str:
    # Hashed: a username field can be as long as the body cap allows.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


class FailureLimiter:
    """Failed sign-ins counted per client address across usernames (password spraying) and
    per username across addresses (one account guessed from many machines)."""

    def __init__(
        self,
        storage: Storage,
        *,
        per_address: int = 50,
        per_username: int = 10,
        window_seconds: int = 900,
        name: str = "login",
    ) -> None:
        # `name` keeps the counts of each use apart in the shared store (the portal's
        # tracking counts wrong secrets per case code with the same rules).
        self._limiter = _Shared(MovingWindowRateLimiter, storage)
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}
        self._by_address = RateLimitItemPerSecond(per_address, window_seconds, f"{name}-address")
        self._by_user = RateLimitItemPerSecond(per_username, window_seconds, f"{name}-user")

    @contextlib.asynccontextmanager
    async def attempt(self, client: str, username: str) -> AsyncIterator[None]:
        """One password check under the throttle: refused when a window is full, counted as
        a failure when the block raises Unauthenticated, and as a success otherwise.

        In this process, attempts for one username, and attempts from one address, run one
        at a time: a burst sent in parallel would otherwise all pass the count before the
        first failure is recorded. Across N web processes at most N run at once.
        """
        async with (
            self._lock(("user", _user_key(username))),
            self._lock(("address", client_key(client))),
        ):
            await self.check(client, username)
            try:
                yield
            except Unauthenticated:
                await self.failed(client, username)
                raise
            await self.succeeded(client, username)

    @contextlib.asynccontextmanager
    async def _lock(self, key: tuple[str, str]) -> AsyncIterator[None]:
        # A lock per key while anyone holds or waits for it, then forgotten: the table holds
        # only the attempts in flight. Username locks are always taken before address locks,
        # so two attempts never wait for each other in a circle.
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def check(self, client: str, username: str) -> None:
        """Refuse an attempt once either window is full (before the password is checked)."""
        for item, key in (
            (self._by_user, _user_key(username)),
            (self._by_address, client_key(client)),
        ):
            if not await self._limiter.call("test", item, key):
                stats = await self._limiter.call("get_window_stats", item, key)
                wait = max(1, int(stats.reset_time - time.time()) + 1)
                raise TooManyAttempts(
                    msg(
                        "Đăng nhập sai quá nhiều lần, hãy thử lại sau {minutes} phút",
                        minutes=max(1, wait // 60),
                    ),
                    field="username",
                )

    async def failed(self, client: str, username: str) -> None:
        await self._limiter.call("hit", self._by_address, client_key(client))
        await self._limiter.call("hit", self._by_user, _user_key(username))

    async def succeeded(self, client: str, username: str) -> None:
        """The account's own count starts again; the address's does not (a sprayer who
        owns one account must not reset its count by signing in with it)."""
        await self._limiter.call("clear", self._by_user, _user_key(username))


class RequestLimiter:
    """At most `per_minute` requests per client address in a minute (counted from its
    first request), for endpoints anyone may call without signing in (the FAQ): a scraper
    or a loop cannot take the database.

    A fixed window, unlike the sign-in counts: one counter per address (a Redis INCR) on a
    path taken by every public request, where a moving window keeps and scans a timestamp
    per request.
    """

    def __init__(self, storage: Storage, per_minute: int = 120, name: str = "public") -> None:
        # `name` keeps each use's counts apart in the shared store.
        self._limiter = _Shared(FixedWindowRateLimiter, storage)
        self._item = RateLimitItemPerMinute(per_minute, 1, name)

    async def hit(self, client: str) -> None:
        key = client_key(client)
        if not await self._limiter.call("hit", self._item, key):
            stats = await self._limiter.call("get_window_stats", self._item, key)
            wait = max(1, int(stats.reset_time - time.time()) + 1)
            raise TooManyRequests(
                msg("Bạn gửi quá nhiều yêu cầu, hãy thử lại sau {wait} giây", wait=wait)
            )


class WebchatLimiter:
    """The web chat widget's public routes: sessions started per client address, messages
    per visitor and per address (an office or a school behind one address holds many
    visitors, so its share is larger)."""

    ADDRESS_FACTOR = 5

    def __init__(self, storage: Storage, *, sessions_per_minute: int, messages_per_minute: int):
        self.sessions = RequestLimiter(storage, sessions_per_minute, "webchat-session")
        self.by_visitor = RequestLimiter(storage, messages_per_minute, "webchat-visitor")
        self.by_address = RequestLimiter(
            storage, messages_per_minute * self.ADDRESS_FACTOR, "webchat-address"
        )

    async def session(self, client: str) -> None:
        await self.sessions.hit(client)

    async def message(self, client: str, visitor: str) -> None:
        await self.by_address.hit(client)
        # Hashed: a user id holds what an embedding site chose (a phone number, an e-mail).
        await self.by_visitor.hit("visitor:" + _user_key(visitor))
