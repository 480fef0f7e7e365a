"""Reading the event log live: wake-ups between processes and each web process's feed.

Every process that commits events calls its `Waker` after commit. The wake-up goes to this
process's feed at once and to the others through Redis pub/sub (when `redis_url` is set) or
PostgreSQL NOTIFY; on SQLite there is none and the feeds poll. A wake-up only says "read
the log now": each `EventFeed` also reads every `events_poll_seconds`, so a lost wake-up
(Redis restarting, a dropped LISTEN connection) delays events, never loses them.

The feed delivers in id order and never passes an id that may still commit: see
`EventFeed._read` and docs/architecture.md ("Live events").
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.db import create_engine, read_only_engine
from hotline.events import DomainEvent, EventBus, EventRow
from hotline.settings import Settings

log = structlog.get_logger("hotline.events")

PG_CHANNEL = "hotline_events"
# Wake-ups within this window are sent as one; a feed reads at most this often when woken.
COALESCE_SECONDS = 0.02


def _redis_channel(settings: Settings) -> str:
    return f"{settings.effective_redis_prefix}:events"


def _pg_dsn(engine: AsyncEngine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class Waker:
    """Wakes the log's readers after a commit: this process's feed at once, the other
    processes' through Redis or NOTIFY. Wake-ups asked for while one is being sent are
    sent as one, so a surge of commits costs a few messages, not one each."""

    def __init__(self, settings: Settings, engine: AsyncEngine, feed: EventFeed | None = None):
        self.feed = feed
        self.origin = feed.origin if feed is not None else uuid.uuid4().hex
        self._wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._redis: Any = None
        self._pg: Any = None
        self._dsn = _pg_dsn(engine) if engine.dialect.name == "postgresql" else None
        if settings.redis_url:
            from redis import asyncio as aioredis

            self._redis = aioredis.from_url(settings.redis_url)
            self._channel = _redis_channel(settings)
        self.failures = 0

    @property
    def crosses_processes(self) -> bool:
        return self._redis is not None or self._dsn is not None

    async def start(self) -> None:
        if self.crosses_processes and self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Send a wake-up still wanted (a CLI command's last commit), then close."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._wanted.is_set():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._send(), 5)
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
        if self._pg is not None:
            with contextlib.suppress(Exception):
                await self._pg.close()

    def __call__(self) -> None:
        if self.feed is not None:
            self.feed.poke()
        if self.crosses_processes:
            self._wanted.set()

    async def _run(self) -> None:
        while True:
            await self._wanted.wait()
            try:
                await self._send()
                # Commits in the next moment share one wake-up: under a surge the readers
                # get a few a second, not one per intake.
                await asyncio.sleep(COALESCE_SECONDS)
            except Exception as exc:
                # The readers' poll still finds the events; say why they came late.
                self.failures += 1
                log.warning("event_wake_failed", error=str(exc).splitlines()[0])
                await self._drop_pg()
                await asyncio.sleep(1)

    async def _send(self) -> None:
        self._wanted.clear()
        # The payload names this process, whose own feed was poked already.
        if self._redis is not None:
            await self._redis.publish(self._channel, self.origin)
            return
        import asyncpg

        if self._pg is None or self._pg.is_closed():
            self._pg = await asyncpg.connect(self._dsn)
        await self._pg.execute(f"NOTIFY {PG_CHANNEL}, '{self.origin}'")

    async def _drop_pg(self) -> None:
        if self._pg is not None:
            with contextlib.suppress(Exception):
                await self._pg.close()
            self._pg = None


class EventFeed:
    """Tails the event log for one process and delivers new events to `bus`, in id order.

    `last` is the newest id delivered; a subscriber that noted it when subscribing gets
    every later event from the bus and earlier ones from the log (web/sse.py)."""

    def __init__(self, settings: Settings, engine: AsyncEngine, bus: EventBus) -> None:
        self.settings = settings
        self.engine = engine
        self.bus = bus
        self.origin = uuid.uuid4().hex
        self.last = 0
        self._poked = asyncio.Event()
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._reader: asyncio.Task[None] | None = None
        self._stopping = False
        self._positioned = False
        self._pg = engine.dialect.name == "postgresql"
        # On PostgreSQL the log is read on a connection of its own, not the requests' pool:
        # when requests hold every pooled connection (a burst of them waiting on a slow
        # query or a lock) live events must not wait in line behind them.
        # On SQLite it is read in read-only transactions (BEGIN DEFERRED, no lock in WAL
        # mode): a poll that took the write lock held it until the loop came back to end
        # it, and a CLI writing meanwhile (operators run it beside the live app) could
        # wait out its busy timeout and fail with "database is locked".
        self._log_engine = (
            create_engine(engine.url.render_as_string(hide_password=False), pool_size=1)
            if self._pg
            else read_only_engine(engine)
        )
        # The first missing id the feed waits on: since when, and the snapshot's xmax
        # of the read that found it missing.
        self._gap: tuple[int, float, int] | None = None
        bus.on_subscribe = self.poke

    @property
    def log_engine(self) -> AsyncEngine:
        """The engine the log is read on (its own on PostgreSQL, the app's read-only one on
        SQLite)."""
        return self._log_engine

    async def start(self) -> None:
        try:
            await self._position()
        except Exception as exc:
            # The database is down or not migrated yet: the reader positions itself once
            # it can (from the newest event then: live subscribers get no old events).
            log.warning("event_feed_start_failed", error=str(exc).splitlines()[0])
        self._stopping = False
        self._reader = asyncio.create_task(self._run())
        if self.settings.redis_url:
            self._tasks.append(asyncio.create_task(self._listen_redis()))
        elif self._pg:
            self._tasks.append(asyncio.create_task(self._listen_pg()))

    async def stop(self) -> None:
        # The reader is asked to stop between reads, not cancelled inside one: a query
        # cancelled mid-way leaves SQLAlchemy closing its connection after the engine has
        # been disposed of, and the loop then waits on it for ever.
        if self._reader is not None:
            self._stopping = True
            self._poked.set()
            try:
                await asyncio.wait_for(self._reader, 10)
            except (TimeoutError, asyncio.CancelledError):
                log.warning("event_feed_stop_timed_out")
            self._reader = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._pg:  # its own engine
            await self._log_engine.dispose()

    async def _position(self) -> None:
        async with self._log_engine.connect() as conn:
            newest = await conn.scalar(text("SELECT max(id) FROM event"))
        self.last = int(newest or 0)
        self._positioned = True

    def poke(self) -> None:
        """Read the log now, if anyone listens: with nobody subscribed a wake-up (one per
        commit of this process, a few a second from the others) is dropped here, as
        waking the reader for it cost intake a few per cent. The poll keeps the position
        current meanwhile, and a subscriber joining pokes again (`EventBus.on_subscribe`),
        so it gets at once what was committed after the position it started from."""
        if self.bus.subscriber_count:
            self._poked.set()

    def _woken(self, origin: str) -> None:
        if origin != self.origin:
            self.poke()

    async def sync(self) -> None:
        """Deliver what the log holds now, waiting out a gap of ids that may still commit."""
        await self._read()
        deadline = time.monotonic() + self.settings.events_gap_seconds + 1
        while self._gap is not None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            await self._read()

    async def _run(self) -> None:
        every = self.settings.events_poll_seconds
        while True:
            # With nobody subscribed, wake-ups are not worth a read: the poll keeps the
            # position current, so a new subscriber starts from about now.
            deadline = time.monotonic() + (every if self._gap is None else 0.1)
            while (left := deadline - time.monotonic()) > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._poked.wait(), left)
                self._poked.clear()
                if self._stopping:
                    return
                if self.bus.subscriber_count:
                    break
            try:
                await self._read()
                await asyncio.sleep(COALESCE_SECONDS)
            except Exception as exc:
                log.warning("event_feed_read_failed", error=str(exc).splitlines()[0])
                await asyncio.sleep(1)

    async def _read(self) -> None:
        async with self._lock:
            if not self._positioned:
                await self._position()
                return
            while await self._read_batch():
                pass

    async def _read_batch(self, limit: int = 500) -> bool:
        """Deliver the next events; True when a full batch came (read again)."""
        t = EventRow.__table__
        # With nobody subscribed only the position matters: the ids are enough (decoding
        # every event of a surge for nobody cost intake a few per cent).
        listened = self.bus.subscriber_count > 0
        query = t.select() if listened else t.select().with_only_columns(t.c.id)
        async with self._log_engine.connect() as conn:
            rows = (
                await conn.execute(query.where(t.c.id > self.last).order_by(t.c.id).limit(limit))
            ).all()
            snapshot = None
            gapped = bool(rows) and rows[-1].id != self.last + len(rows)
            if self._pg and (gapped or (rows and self._gap is not None)):
                snapshot = (
                    await conn.execute(
                        text(
                            "SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text"
                            " FROM pg_current_snapshot() s"
                        )
                    )
                ).one()
        if not listened and self.bus.subscriber_count:
            # Someone subscribed while the ids were read: they are owed these events.
            return True
        for row in rows:
            if row.id != self.last + 1 and self._pg and not self._gap_over(row.id, snapshot):
                return False
            self._gap = None
            self.last = row.id
            if listened:
                self.bus.publish(DomainEvent.of_row(row))
        return len(rows) == limit

    def _gap_over(self, next_id: int, snapshot: Any) -> bool:
        """Whether ids below `next_id` that are missing will never commit.

        A sequence hands out ids before their transactions commit, so a missing id may be
        a transaction still running (wait for it) or one rolled back (skip it). The ids
        were handed out before this read; every transaction that held one had started by
        then, so once the oldest running transaction is newer than the read's snapshot
        (xmin >= the xmax noted when the gap was found), the missing ids are final. A
        transaction running longer than events_gap_seconds is not waited for.
        """
        xmin, xmax = int(snapshot[0]), int(snapshot[1])
        now = time.monotonic()
        if self._gap is None or self._gap[0] != self.last + 1:
            self._gap = (self.last + 1, now, xmax)
            return False
        _, since, xmax_then = self._gap
        if xmin >= xmax_then and now - since >= 0.05:
            return True
        if now - since >= self.settings.events_gap_seconds:
            log.warning("event_gap_skipped", first_missing=self.last + 1, next=next_id)
            return True
        return False

    async def _listen_redis(self) -> None:
        from redis import asyncio as aioredis

        client = aioredis.from_url(self.settings.redis_url)
        channel = _redis_channel(self.settings)
        lost, failed = False, 0
        try:
            while True:
                try:
                    pubsub = client.pubsub()
                    await pubsub.subscribe(channel)
                    if lost:
                        log.info("event_wakeups_listening_again", via="redis", failed=failed)
                    lost, failed = False, 0
                    self.poke()  # what was committed while not listening
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            data = message.get("data")
                            self._woken(data.decode() if isinstance(data, bytes) else str(data))
                    raise ConnectionError("subscription ended")
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if not lost:  # once per outage (see _listen_pg)
                        log.warning("event_wakeups_lost", via="redis", error=str(exc))
                    lost, failed = True, failed + 1
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()
                    await asyncio.sleep(1)
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _listen_pg(self) -> None:
        """LISTEN on a connection of its own (a pooled one would lose it on release)."""
        import asyncpg

        dsn = _pg_dsn(self.engine)
        dropped, failed = False, 0
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(PG_CHANNEL, lambda *args: self._woken(args[-1]))
                if dropped:
                    log.info("event_wakeups_listening_again", via="postgresql", failed=failed)
                dropped, failed = False, 0
                self.poke()
                while not lost.is_set() and not conn.is_closed():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), 5)
                raise ConnectionError("LISTEN connection closed")
            except asyncio.CancelledError:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
                raise
            except Exception as exc:
                # Once per outage, not once per retry: the next line says how many failed.
                if not dropped:
                    log.warning("event_wakeups_lost", via="postgresql", error=str(exc))
                dropped, failed = True, failed + 1
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
                await asyncio.sleep(1)
