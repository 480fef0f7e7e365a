"""The registrar's copy in the database: written after each REGISTER, read at start and on
every operator poll.

Writes leave the SIP path: a REGISTER is answered from memory and its user is marked to be
written; one writer task at a time writes each marked user's binding as it is *then* (a
refresh that arrives meanwhile is written once, and never overtaken by an older one). The
poll reads the live rows and merges them (sip/digest.py `Registrar.merge`), which brings in
phones registered at another instance and drops those unregistered there. Expired rows are
never read, and are deleted when the line starts and every PRUNE_SECONDS after (with the
REGISTER lockouts that have expired, agents/sip_lockouts.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.agents.registrations import (
    live_registrations,
    prune_registrations,
    remove_registration,
    save_registration,
)
from hotline.agents.sip_lockouts import prune_lockouts
from hotline.db import utcnow
from hotline.telephony.sip.digest import Binding, Registrar

log = structlog.get_logger("hotline.telephony.registrations")
# A binding changed here this recently is not replaced by a read: its write may be pending.
SETTLE_SECONDS = 10.0
# Expired rows are deleted at the line's first read, then at most this often.
PRUNE_SECONDS = 300.0


class RegistrationStore:
    def __init__(
        self,
        registrar: Registrar,
        sessionmaker: async_sessionmaker[AsyncSession],
        instance: str | None,
    ) -> None:
        self.registrar = registrar
        self.sessionmaker = sessionmaker
        self.instance = instance
        self._dirty: set[str] = set()
        self._writer: asyncio.Task[None] | None = None
        self._pruned_at: float | None = None  # registrar clock
        registrar.on_change = self.changed

    def changed(self, username: str) -> None:
        self._dirty.add(username)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        while self._dirty:
            username = self._dirty.pop()
            binding = self.registrar.lookup(username)
            try:
                async with self.sessionmaker() as session, session.begin():
                    if binding is None:
                        await remove_registration(session, username=username)
                    else:
                        remaining = binding.expires_at - self.registrar.clock()
                        await save_registration(
                            session,
                            username=username,
                            contact=binding.contact,
                            received=binding.source,
                            path=binding.path,
                            expires_at=utcnow() + timedelta(seconds=remaining),
                            instance=self.instance,
                        )
            except Exception as exc:  # the phone stays registered here; its refresh retries
                log.warning("registration_write_failed", user=username, error=str(exc)[:200])

    async def load(self) -> None:
        """Merge the database's live bindings into the registrar (expired ones are never
        read); delete the expired rows at the first load and every PRUNE_SECONDS."""
        read_at = self.registrar.clock()
        now = utcnow()
        if self._pruned_at is None or read_at - self._pruned_at >= PRUNE_SECONDS:
            await self._prune(now)
            self._pruned_at = read_at
        async with self.sessionmaker() as session:
            rows = await live_registrations(session, now=now)
        stored = {
            r.username: Binding(
                r.contact,
                (r.received_host, r.received_port),
                read_at + (r.expires_at - now).total_seconds(),
                tuple(r.path or ()),
            )
            for r in rows
        }
        self.registrar.merge(stored, read_at=read_at, settle=SETTLE_SECONDS)

    async def _prune(self, now: datetime) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                pruned = await prune_registrations(session, now=now)
                # The REGISTER lockouts that say nothing any more (telephony/lockouts.py).
                pruned += await prune_lockouts(session, now=now)
        except Exception as exc:  # the next prune tries again; reads skip expired rows
            log.warning("registration_prune_failed", error=str(exc)[:200])
            return
        if pruned:
            log.info("registrations_pruned", count=pruned)

    async def drain(self) -> None:
        """Let the pending writes finish (the line is stopping)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._writer, 5)
