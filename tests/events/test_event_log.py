"""The event log read live across processes: wake-ups by Redis (the real server), by
PostgreSQL NOTIFY, or none (SQLite polls); ordering when ids commit out of order."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import text, update

from hotline.db import create_engine, make_sessionmaker, utcnow
from hotline.eventfeed import EventFeed, Waker
from hotline.events import DomainEvent, EventBus, EventRow, committed, record_event
from hotline.settings import Settings
from hotline.site import Site

pytestmark = pytest.mark.anyio
REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_up(port: int = 6379) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class Process:
    """A process of the deployment as far as events go: its own engine, a waker, and
    (for a web process) a feed delivering to `bus`."""

    def __init__(self, settings: Settings, *, reads: bool = True) -> None:
        self.engine = create_engine(settings.effective_database_url)
        self.sessionmaker = make_sessionmaker(self.engine, Site.from_settings(settings))
        self.bus = EventBus()
        self.feed = EventFeed(settings, self.engine, self.bus) if reads else None
        self.waker = Waker(settings, self.engine, self.feed)

    async def start(self) -> Process:
        if self.feed is not None:
            await self.feed.start()
        await self.waker.start()
        return self

    async def stop(self) -> None:
        if self.feed is not None:
            await self.feed.stop()
        await self.waker.stop()
        await self.engine.dispose()

    async def write(self, code: str) -> None:
        async with committed(self.sessionmaker, self.waker) as session:
            record_event(session, DomainEvent(kind="case.created", case_code=code))


@contextlib.asynccontextmanager
async def processes(settings: Settings, *kinds: bool) -> AsyncIterator[list[Process]]:
    started = [await Process(settings, reads=reads).start() for reads in kinds]
    try:
        yield started
    finally:
        for p in started:
            await p.stop()


async def _codes(queue: asyncio.Queue[DomainEvent], n: int, within: float = 10) -> list[str]:
    out: list[str] = []
    async with asyncio.timeout(within):
        while len(out) < n:
            out.append(str((await queue.get()).case_code))
    return out


@pytest.mark.parametrize("via", ["redis", "database"])
async def test_events_committed_by_one_process_reach_every_other_in_order(settings, via):
    if via == "redis":
        if not _redis_up():
            pytest.fail("Redis is not running on 127.0.0.1:6379 (part of the test machine)")
        settings = settings.model_copy(update={"redis_url": REDIS_URL})
    async with (
        processes(settings, True, True, False) as (web1, web2, worker),
        contextlib.AsyncExitStack() as stack,
    ):
        on1 = await stack.enter_async_context(web1.bus.subscribe())
        on2 = await stack.enter_async_context(web2.bus.subscribe())
        await worker.write("W-1")
        await web1.write("A-1")
        await worker.write("W-2")
        assert await _codes(on1, 3) == ["W-1", "A-1", "W-2"]
        assert await _codes(on2, 3) == ["W-1", "A-1", "W-2"]


@pytest.fixture
def own_redis(tmp_path: Path):
    """A Redis server of this test's own, to restart (the shared one stays up)."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is part of the test machine")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _redis_up(port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        return proc

    server = {"proc": start()}

    yield f"redis://127.0.0.1:{port}/0", server, start
    server["proc"].kill()
    server["proc"].wait()


async def test_redis_restarted_mid_stream_events_keep_crossing_processes(settings, own_redis):
    url, server, start = own_redis
    # A poll so slow that only wake-ups can deliver within the test's waits.
    settings = settings.model_copy(update={"redis_url": url, "events_poll_seconds": 60})
    async with processes(settings, True, False) as (web, worker):
        await asyncio.sleep(0.3)  # subscribed
        async with web.bus.subscribe() as events:
            await worker.write("BEFORE")
            assert await _codes(events, 1) == ["BEFORE"]
            server["proc"].kill()
            server["proc"].wait()
            # Committed while Redis is down: its wake-up is lost, the event is not.
            await worker.write("DURING")
            await asyncio.sleep(0.5)
            server["proc"] = start()
            assert await _codes(events, 1, within=15) == ["DURING"]
            await worker.write("AFTER")
            assert await _codes(events, 1, within=15) == ["AFTER"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_an_id_committed_late_is_delivered_before_the_ids_after_it(settings):
    """PostgreSQL hands out ids before commit: a later id may commit first."""
    async with processes(settings, True, False) as (web, worker), web.bus.subscribe() as events:
        slow = worker.sessionmaker()
        await slow.begin()
        record_event(slow, DomainEvent(kind="case.created", case_code="FIRST-ID"))
        await slow.flush()  # holds the lower id, not committed yet
        await worker.write("SECOND-ID")
        await asyncio.sleep(1.5)
        assert events.empty(), "delivered past an id that was still to commit"
        await slow.commit()
        await slow.close()
        worker.waker()
        got = [await asyncio.wait_for(events.get(), 10) for _ in range(2)]
    assert [e.case_code for e in got] == ["FIRST-ID", "SECOND-ID"]
    assert got[0].id is not None and got[1].id is not None and got[0].id < got[1].id


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_an_id_rolled_back_does_not_hold_up_the_events_after_it(settings):
    async with processes(settings, True, False) as (web, worker), web.bus.subscribe() as events:
        with pytest.raises(RuntimeError):
            async with committed(worker.sessionmaker, worker.waker) as session:
                record_event(session, DomainEvent(kind="case.created", case_code="GONE"))
                await session.flush()
                raise RuntimeError("rolled back")
        await worker.write("NEXT")
        # Well before events_gap_seconds: the rolled-back id is known to be over.
        assert await _codes(events, 1, within=settings.events_gap_seconds - 1) == ["NEXT"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_live_events_do_not_wait_for_a_connection_of_the_requests_pool(settings):
    """Requests holding every pooled connection of a web process (a burst of them waiting on
    a lock or a slow query) do not hold up its live events: the feed reads on its own."""
    async with processes(settings, True, False) as (web, worker), web.bus.subscribe() as queue:
        pool = web.engine.pool
        held = [
            await web.engine.connect()
            for _ in range(pool.size() + pool._max_overflow)  # type: ignore[attr-defined]
        ]
        try:
            await worker.write("W-1")
            assert await _codes(queue, 1, within=5) == ["W-1"]
        finally:
            for conn in held:
                await conn.close()


async def test_the_worker_prunes_old_events_and_keeps_the_newest(settings):
    from hotline.events import prune_events

    async with processes(settings, False) as (worker,):
        # ids grow with time: old events are the first ones
        for code in ("OLD-1", "OLD-2", "NEW"):
            await worker.write(code)
        async with worker.sessionmaker() as s, s.begin():
            await s.execute(
                update(EventRow)
                .where(EventRow.case_code.like("OLD-%"))
                .values(at=utcnow() - timedelta(days=5))
            )
        async with worker.sessionmaker() as s, s.begin():
            assert await prune_events(s, keep_hours=48) == 2
        async with worker.sessionmaker() as s:
            left = (await s.execute(text("SELECT case_code FROM event"))).scalars().all()
    assert left == ["NEW"]


async def test_a_subscriber_arriving_while_the_feed_reads_only_ids_gets_what_it_found(settings):
    """With nobody subscribed the feed reads only the log's ids (to keep its position); a
    dashboard subscribing during that read is owed the events the read found."""
    # Only the explicit reads below, no poll in between.
    settings = settings.model_copy(update={"events_poll_seconds": 60})
    async with processes(settings, True, False) as (web, worker):
        assert web.feed is not None
        await worker.write("BEFORE")
        await web.feed.sync()
        joined: list[Any] = []

        def subscribe_during_the_read(conn, cursor, statement, *args) -> None:
            if statement.lstrip().startswith("SELECT event.id \nFROM") and not joined:
                cm = web.bus.subscribe()
                joined.append((cm, _enter_now(cm)))

        engine = web.feed.log_engine.sync_engine
        sa_event.listen(engine, "before_cursor_execute", subscribe_during_the_read)
        await worker.write("DURING")
        await web.feed.sync()
        sa_event.remove(engine, "before_cursor_execute", subscribe_during_the_read)
        assert joined, "the feed did not read ids alone"
        cm, queue = joined[0]
        try:
            assert await _codes(queue, 1, within=5) == ["DURING"]
        finally:
            await cm.__aexit__(None, None, None)


def _enter_now(cm: Any) -> Any:
    """Enter, from synchronous code (a database hook), a context manager that never waits:
    the bus's own `subscribe()`."""
    step = cm.__aenter__()
    try:
        step.send(None)
    except StopIteration as done:
        return done.value
    raise AssertionError("subscribe() waited")


def test_the_redis_prefix_setting_wins_and_processes_of_one_site_agree(tmp_path):
    url = "postgresql://hotline:secret@db.example/hotline"
    assert (
        Settings(database_url=url).effective_redis_prefix
        == Settings(database_url=url.replace("secret", "rotated")).effective_redis_prefix
    )
    assert Settings(database_url=url, redis_prefix="ha-noi").effective_redis_prefix == "ha-noi"


async def test_a_late_subscriber_gets_at_once_everything_after_its_last_event_id(settings):
    """With nobody subscribed the feed skips the wake-ups of commits; a stream joining later
    (as web/sse.py does: subscribe, note the feed's position, replay the log up to it from
    its Last-Event-ID) still gets every event after that id, once and in order, without
    waiting for the next poll."""
    from hotline.events import read_after

    # No poll within the test: only wake-ups and subscriptions make the feed read.
    settings = settings.model_copy(update={"events_poll_seconds": 60})
    async with processes(settings, True, False) as (web, worker):
        assert web.feed is not None
        await worker.write("SEEN")
        await web.feed.sync()
        last_event_id = web.feed.last
        # Committed while nobody listens, by this process and by another.
        for code in ("W1", "K1", "W2", "K2"):
            await (web if code.startswith("W") else worker).write(code)
        await asyncio.sleep(0.3)  # the wake-ups have come and gone
        async with web.bus.subscribe() as queue:
            upto = web.feed.last
            async with web.sessionmaker() as session:
                replayed = [
                    str(e.case_code) for e in await read_after(session, last_event_id, upto=upto)
                ]
            live = await _codes(queue, 4 - len(replayed), within=5)
            # SQLite has no wake-ups between processes: the live event is this process's.
            await web.write("AFTER")
            after = await _codes(queue, 1, within=5)
        assert replayed + live == ["W1", "K1", "W2", "K2"]
        assert after == ["AFTER"]
