"""What the app holds for its lifetime: settings, engine, sessionmaker, live events, caches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import anyio
import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hotline.auth.service import TokenCache
from hotline.cases import intake_pg
from hotline.cases.intake_batch import IntakeWriter
from hotline.channels.hooks_batch import HookWriter
from hotline.db import READ_ONLY_SESSION, WRITE_AFTER, read_only_engine
from hotline.eventfeed import EventFeed, Waker
from hotline.events import EventBus, committed
from hotline.settings import Settings
from hotline.site import Site
from hotline.triage import intake as triage_intake
from hotline.web.ratelimit import FailureLimiter, RequestLimiter, WebchatLimiter


@dataclass
class AppState:
    settings: Settings
    site: Site
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bus: EventBus
    feed: EventFeed
    waker: Waker
    tokens: TokenCache
    logins: FailureLimiter
    public: RequestLimiter
    # Wrong tracking code/secret pairs on the citizen portal, per address and per code.
    tracking: FailureLimiter
    # The web chat widget's sessions and messages (channels/api.py).
    webchat: WebchatLimiter
    _autocommit_pool: asyncpg.Pool | None = None
    _hooks_pool: asyncpg.Pool | None = None
    _intake_writer: IntakeWriter | None = None
    _hooks_writer: HookWriter | None = None
    _pool_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _read_only_engine: AsyncEngine | None = None
    _database: str | None = None
    _events_started: bool = False

    @property
    def database(self) -> str:
        """The database's identity for per-process caches (`directory.service.is_confirmed`)."""
        # Asked on every intake; the engine's URL never changes.
        if self._database is None:
            self._database = str(self.engine.url)
        return self._database

    async def warm_up(self) -> None:
        """Open the database connections and load the triage model now (app start-up)
        rather than while the first requests of a surge wait for them."""
        async with self.engine.connect():
            pass
        await self.autocommit_pool(open_all=True)
        async with self.sessionmaker() as session:
            await triage_intake.load(session)

    async def autocommit_pool(self, *, open_all: bool = False) -> asyncpg.Pool | None:
        """A plain asyncpg pool beside the ORM's, on PostgreSQL only (None on SQLite).

        For the few hot writes that are one self-committing statement (case intake): they
        skip the ORM session and the BEGIN/COMMIT round trips. Made on first use.
        """
        if self.engine.dialect.name != "postgresql":
            return None
        if self._autocommit_pool is None:
            async with self._pool_lock:
                if self._autocommit_pool is None:
                    dsn = self.engine.url.set(drivername="postgresql")
                    self._autocommit_pool = await asyncpg.create_pool(
                        dsn.render_as_string(hide_password=False),
                        min_size=self.settings.db_intake_pool_size if open_all else 1,
                        max_size=self.settings.db_intake_pool_size,
                        reset=_keep_as_is,
                        # One cached plan per connection (see PLAN_SETTINGS).
                        server_settings=intake_pg.PLAN_SETTINGS,
                    )
        return self._autocommit_pool

    async def hooks_pool(self) -> asyncpg.Pool | None:
        """The providers' webhooks' autocommit pool (channels/inbox_pg.py), on PostgreSQL
        only; made on first use, so a site without channels opens none of it.

        Apart from case intake's: these statements look rows up by unique keys only, so
        a plan kept for the connection is as good as one made per call, and planning their
        CTEs afresh every time cost about 0.4 ms of the server's CPU per event (as much as
        storing it). The plan is kept from the first run (PLAN_SETTINGS, as case intake's):
        left to choose, PostgreSQL planned every batch afresh, each array size making a
        plan of its own look cheaper; and the plan, made perhaps on empty tables, looks rows
        up by index (tests/channels/test_hook_plan.py)."""
        if self.engine.dialect.name != "postgresql":
            return None
        if self._hooks_pool is None:
            async with self._pool_lock:
                if self._hooks_pool is None:
                    dsn = self.engine.url.set(drivername="postgresql")
                    self._hooks_pool = await asyncpg.create_pool(
                        dsn.render_as_string(hide_password=False),
                        min_size=1,
                        max_size=self.settings.db_intake_pool_size,
                        reset=_keep_as_is,
                        server_settings=intake_pg.PLAN_SETTINGS,
                    )
        return self._hooks_pool

    async def intake_writer(self) -> IntakeWriter | None:
        """Case intake's writer over the autocommit pool (None on SQLite)."""
        if self._intake_writer is None:
            pool = await self.autocommit_pool()
            if pool is None:
                return None
            # Again: another first request may have made it while this one waited.
            if self._intake_writer is None:
                self._intake_writer = IntakeWriter(
                    pool,
                    lanes=self.settings.db_intake_pool_size,
                    max_batch=self.settings.intake_batch_max,
                )
        return self._intake_writer

    async def hooks_writer(self) -> HookWriter | None:
        """The providers' webhooks' writer over their pool (None on SQLite)."""
        if self._hooks_writer is None:
            pool = await self.hooks_pool()
            if pool is None:
                return None
            if self._hooks_writer is None:
                self._hooks_writer = HookWriter(
                    pool,
                    lanes=self.settings.db_intake_pool_size,
                    max_batch=self.settings.intake_batch_max,
                )
        return self._hooks_writer

    async def start_events(self) -> None:
        """Start reading the event log (from its newest event) and sending wake-ups."""
        if not self._events_started:
            self._events_started = True
            await self.feed.start()
            await self.waker.start()

    async def close(self) -> None:
        """Release the database connections (app shutdown)."""
        if self._events_started:
            self._events_started = False
            await self.feed.stop()
            await self.waker.stop()
        if self._intake_writer is not None:
            await self._intake_writer.close()
            self._intake_writer = None
        if self._hooks_writer is not None:
            await self._hooks_writer.close()
            self._hooks_writer = None
        if self._autocommit_pool is not None:
            await self._autocommit_pool.close()
            self._autocommit_pool = None
        if self._hooks_pool is not None:
            await self._hooks_pool.close()
            self._hooks_pool = None
        await self.engine.dispose()

    @asynccontextmanager
    async def unit_of_work(self, *, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        """One transaction with its events (`events.committed`): commit, then wake the
        event log's readers; or roll back whole.

        Files written during a transaction that rolls back are removed again. `read_only`
        units (routes that only read) take no write lock on SQLite, so they never queue
        behind each other or a writer; on PostgreSQL they are READ ONLY transactions.
        """
        maker: Callable[[], AsyncSession] = self.sessionmaker
        if read_only:
            if self._read_only_engine is None:
                self._read_only_engine = read_only_engine(self.engine)
            maker = partial(self.sessionmaker, bind=self._read_only_engine)
        opened: list[AsyncSession] = []
        try:
            async with committed(maker, self.waker) as session:
                if read_only:
                    session.info[READ_ONLY_SESSION] = True
                opened.append(session)
                yield session
        except BaseException:
            for path in opened[0].info.pop("on_rollback_unlink", []) if opened else []:
                Path(path).unlink(missing_ok=True)
            raise
        opened[0].info.pop("on_rollback_unlink", None)
        if rows := opened[0].info.pop(WRITE_AFTER, None):
            # What a read-only unit had to record (the personal-data reads of what it
            # returned), in a transaction of its own before the answer is sent: a failure
            # here fails the request, so nothing is shown unlogged.
            async with committed(self.sessionmaker, self.waker) as writer:
                writer.add_all(rows)

    @asynccontextmanager
    async def shielded_unit_of_work(self, *, read_only: bool = True) -> AsyncIterator[AsyncSession]:
        """A unit of work for a live stream, run to its end even when the stream is
        cancelled meanwhile (its client went away); the cancellation takes effect after.

        A query cut off half-way leaves its connection to be closed by the driver while
        a statement is still open: on SQLite that connection then keeps its transaction
        (and any write lock) for as long as the process runs, and every later writer
        waits on it. The stream's reads are short; no `yield` may happen inside.
        """
        with anyio.CancelScope(shield=True):
            async with self.unit_of_work(read_only=read_only) as session:
                yield session


async def _keep_as_is(_conn: asyncpg.Connection) -> None:
    """The autocommit pool's connections never change session state (no SET, LISTEN,
    advisory locks or open transactions), so asyncpg's reset query on every release would
    be a wasted round trip."""
