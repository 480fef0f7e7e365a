"""REGISTER lockouts shared by every line on the database, and kept across restarts.

Behind the edge a guesser's REGISTERs are spread over the lines by Call-ID: a new Call-ID
for each guess reaches any of them, and each line's own count (sip/guard.py, in memory)
would give it the whole budget once per line, and again after each restart. So the counts
that lock also live in the database the lines share (agents/sip_lockouts.py): a REGISTER
that is not the registered phone's refresh is checked there before it is challenged or
granted, and each failure is counted there. The database away, the memory counts still
hold (they are kept as before, and a lockout read from the database is copied into them, so
a locked-out guesser's further tries cost no query); the REGISTER is not refused for the
outage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.agents.sip_lockouts import Budget, clear_lockout, locked_keys, record_failure
from hotline.db import READ_ONLY_OPTION, utcnow
from hotline.telephony.sip.guard import LockoutPolicy

log = structlog.get_logger("hotline.telephony.lockouts")
T = TypeVar("T")


def budget(policy: LockoutPolicy) -> Budget:
    return Budget(policy.max_failures, policy.window, policy.lockout, policy.max_lockout)


class SharedLockouts:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        users: LockoutPolicy,
        addresses: LockoutPolicy,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.users, self.addresses = budget(users), budget(addresses)
        # Per user, the end of the last write called at this line (see _in_turn).
        self._writing: dict[str, asyncio.Future[None]] = {}

    async def locked(self, users: set[str], host: str) -> list[tuple[str, str, float]]:
        """The lockouts now on these users or this address: (kind, name, seconds left)."""
        keys = {f"user:{u}": ("user", u) for u in users} | {f"address:{host}": ("address", host)}
        try:
            async with self.sessionmaker() as session:
                # Only a read: on SQLite it must not queue for the write lock behind the
                # writers (BEGIN IMMEDIATE), each REGISTER's answer waits for it.
                await session.connection(execution_options={READ_ONLY_OPTION: True})
                found = await locked_keys(session, list(keys), now=utcnow())
        except Exception as exc:  # the memory counts hold meanwhile
            log.warning("sip_lockout_read_failed", error=str(exc)[:200])
            return []
        return [(*keys[key], seconds) for key, seconds in found.items()]

    def failed(self, user: str | None, host: str) -> Coroutine[Any, Any, list[tuple[str, float]]]:
        """Count a failure (per user only for a real login); the lockouts it started.
        Its turn among the user's writes is taken now, at the call: spawn it at once."""
        return self._in_turn(user, partial(self._count, user, host))

    def succeeded(self, user: str) -> Coroutine[Any, Any, None]:
        """Clear the user's count (a new registration with the right password). Its turn
        among the user's writes is taken now, at the call: spawn it at once."""
        return self._in_turn(user, partial(self._clear, user))

    def _in_turn(
        self, user: str | None, write: Callable[[], Coroutine[Any, Any, T]]
    ) -> Coroutine[Any, Any, T]:
        """`write`, once the user's writes called before it at this line have ended.

        A REGISTER waits for its write only so long (register.py); past that the write goes
        on in the background, and the next REGISTERs' writes would race it. On SQLite the
        newest waiter for the write lock tends to get it first, so a success's clear
        overtook the failure before it, and that failure and the next two locked out a
        user who never failed three times in a row. The address's count is never cleared:
        its order does not matter."""
        if user is None:
            return write()
        before = self._writing.get(user)
        mine = asyncio.get_running_loop().create_future()
        self._writing[user] = mine

        async def in_turn() -> T:
            try:
                if before is not None:
                    await asyncio.wait({before})  # never cancels it
                return await write()
            finally:
                if not mine.done():
                    mine.set_result(None)
                if self._writing.get(user) is mine:
                    del self._writing[user]

        return in_turn()

    async def _count(self, user: str | None, host: str) -> list[tuple[str, float]]:
        counts = [("address", f"address:{host}", self.addresses)]
        if user is not None:
            counts.insert(0, ("user", f"user:{user}", self.users))
        started = []
        try:
            async with self.sessionmaker() as session, session.begin():
                now = utcnow()
                for kind, key, limits in counts:
                    seconds = await record_failure(session, key, limits, now=now)
                    if seconds:
                        started.append((kind, seconds))
        except Exception as exc:
            log.warning("sip_lockout_write_failed", error=str(exc)[:200])
            return []
        return started

    async def _clear(self, user: str) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                await clear_lockout(session, f"user:{user}")
        except Exception as exc:
            log.warning("sip_lockout_write_failed", error=str(exc)[:200])
