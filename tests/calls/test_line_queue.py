"""Callers waiting in the phone line's queues as the web knows them: the latest `queue.changed`
of each line instance, summed, a silent instance dropped; read from the event log, streamed
as `queue.now` on change, never flooding the stream or its replay."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from hotline.auth.service import actor_for_token
from hotline.calls.line_queue import QueueBoard, read_line_queue
from hotline.db import utcnow
from hotline.errors import NotAllowed
from hotline.events import DomainEvent, EventRow, prune_events, record_event
from hotline.telephony.queue_events import queue_event
from tests.cases.helpers import create
from tests.cases.test_events_sse import _messages, _serve, _until

pytestmark = pytest.mark.anyio
T0 = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


def heard(
    instance: str, at: datetime, *, id: int, heartbeat: float = 5, **queues: tuple[int, datetime]
) -> DomainEvent:
    event = queue_event(instance, dict(queues), heartbeat)
    return DomainEvent(kind=event.kind, data=event.data, at=at.isoformat(), id=id)


def test_instances_are_summed_and_the_oldest_caller_is_the_longest_wait():
    board = QueueBoard()
    board.apply(heard("a", T0, id=1, operator=(2, T0 - timedelta(seconds=40))))
    board.apply(heard("b", T0, id=2, operator=(1, T0 - timedelta(seconds=90)), doctor=(1, T0)))
    now = board.now(T0 + timedelta(seconds=1))
    assert now.waiting == 4
    assert now.by_queue == {"doctor": 1, "operator": 3}
    assert now.oldest_at == T0 - timedelta(seconds=90)
    assert now.wait_seconds(T0) == 90


def test_the_latest_event_of_an_instance_replaces_its_figures_and_older_ones_are_ignored():
    board = QueueBoard()
    board.apply(heard("a", T0, id=5, operator=(3, T0)))
    board.apply(heard("a", T0 - timedelta(seconds=1), id=4, operator=(9, T0)))  # late reader
    assert board.now(T0).waiting == 3
    board.apply(heard("a", T0 + timedelta(seconds=1), id=6))  # everybody answered
    assert board.now(T0 + timedelta(seconds=1)).waiting == 0
    assert board.now(T0 + timedelta(seconds=1)).oldest_at is None


def test_an_instance_silent_for_three_heartbeats_is_dropped():
    board = QueueBoard()
    board.apply(heard("alive", T0, id=1, heartbeat=5, operator=(1, T0)))
    board.apply(heard("dead", T0, id=2, heartbeat=5, operator=(2, T0 - timedelta(minutes=3))))
    assert board.now(T0 + timedelta(seconds=15)).waiting == 3
    board.apply(heard("alive", T0 + timedelta(seconds=10), id=3, heartbeat=5, operator=(1, T0)))
    later = board.now(T0 + timedelta(seconds=16))
    assert later.waiting == 1 and later.oldest_at == T0  # the dead line's callers are gone


def test_events_of_another_shape_are_ignored():
    board = QueueBoard()
    board.apply(DomainEvent(kind="queue.changed", data={"instance": "a"}, id=1))
    board.apply(DomainEvent(kind="case.created", data={"queues": {}}, id=2))
    board.apply(
        DomainEvent(
            kind="queue.changed",
            data={"instance": "a", "heartbeat_seconds": 5, "queues": {"x": {"waiting": "?"}}},
            id=3,
        )
    )
    assert board.now(utcnow()).waiting == 0


async def _write(app: Any, event: DomainEvent) -> None:
    async with app.state.hotline.unit_of_work() as session:
        record_event(session, event)


async def _actor(app: Any, token: str) -> Any:
    async with app.state.hotline.sessionmaker() as session:
        return await actor_for_token(session, token=token)


async def test_the_figures_are_read_from_the_log_for_hotline_staff_only(app, world):
    now = utcnow()
    await _write(app, queue_event("a", {"operator": (2, now - timedelta(seconds=65))}, 5))
    await _write(app, queue_event("b", {"operator": (1, now)}, 5))
    state = app.state.hotline
    operator = await _actor(app, world.tokens["operator"])
    officer = await _actor(app, world.tokens["officer"])
    async with state.sessionmaker() as session:
        figures = await read_line_queue(session, actor=operator, now=utcnow())
        assert figures.waiting == 3 and figures.wait_seconds(utcnow()) >= 65
        with pytest.raises(NotAllowed):
            await read_line_queue(session, actor=officer, now=utcnow())


async def test_old_queue_events_are_pruned_like_every_other(app, world):
    await _write(app, queue_event("a", {"operator": (1, utcnow())}, 5))
    async with _client(app) as client:
        await create(client, world)
    state = app.state.hotline
    async with state.unit_of_work() as session:
        await session.execute(update(EventRow).values(at=utcnow() - timedelta(days=3)))
    await _write(app, queue_event("a", {}, 5))
    async with state.unit_of_work() as session:
        assert await prune_events(session, keep_hours=48) == 2
        kinds = (await session.scalars(select(EventRow.kind))).all()
    assert kinds == ["queue.changed"]


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_the_stream_says_queue_now_on_change_only_and_replays_no_heartbeats(app, world):
    state = app.state.hotline
    async with (
        _serve(app) as base,
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as http,
        asyncio.timeout(60),
    ):
        auth = world.auth("operator")
        # Without ?queue=1 a stream carries domain events only.
        async with http.stream("GET", "/api/v1/events", headers=auth) as plain:
            plain_messages = _messages(plain.aiter_lines())
            await _until(plain_messages, "ready")
            async with http.stream("GET", "/api/v1/events?queue=1", headers=auth) as r:
                messages = _messages(r.aiter_lines())
                ready = await _until(messages, "ready")
                first = await messages.__anext__()  # at once: the figures now
                assert first["event"] == "queue.now" and "id" not in first
                assert json.loads(first["data"])["data"]["waiting"] == 0
                arrived = utcnow() - timedelta(seconds=30)
                await _write(app, queue_event("a", {"operator": (1, arrived)}, 5))
                for _ in range(3):  # the same figures again: heartbeats say nothing new
                    await _write(app, queue_event("a", {"operator": (1, arrived)}, 5))
                await _write(app, queue_event("b", {"doctor": (2, utcnow())}, 5))
                got = [await messages.__anext__() for _ in range(2)]
                data = [json.loads(m["data"])["data"] for m in got]
                assert [m["event"] for m in got] == ["queue.now", "queue.now"]
                assert [d["waiting"] for d in data] == [1, 3]
                assert data[1]["oldest_at"] == arrived.isoformat()
                assert data[1]["wait_seconds"] >= 30
                assert data[1]["by_queue"] == {"doctor": 2, "operator": 1}
                await create(http, world)
                created = await messages.__anext__()
                assert created["event"] == "case.created"
            # The plain stream got the case and none of the queue events.
            assert (await plain_messages.__anext__())["event"] == "case.created"
        # A stream resuming from before all this replays the case, not the queue events.
        headers = {**auth, "Last-Event-ID": ready["id"]}
        async with http.stream("GET", "/api/v1/events?queue=1", headers=headers) as r:
            messages = _messages(r.aiter_lines())
            await _until(messages, "ready")
            replayed = await messages.__anext__()
            assert replayed["event"] == "case.created"
            now = await messages.__anext__()
            assert now["event"] == "queue.now"
            assert json.loads(now["data"])["data"]["waiting"] == 3
    async with state.sessionmaker() as session:
        logged = await session.scalar(select(func.count()).where(EventRow.kind == "queue.changed"))
    assert logged == 5


async def test_an_officer_asking_for_the_queue_gets_the_domain_events_only(app, world):
    async with (
        _serve(app) as base,
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as http,
        asyncio.timeout(30),
    ):
        headers = world.auth("officer")
        async with http.stream("GET", "/api/v1/events?queue=1", headers=headers) as r:
            messages = _messages(r.aiter_lines())
            await _until(messages, "ready")
            await _write(app, queue_event("a", {"operator": (1, utcnow())}, 5))
            code = (await create(http, world))["code"]
            from tests.cases.helpers import forward

            await forward(http, world, code, "ward_a")
            m = await messages.__anext__()
            assert m["event"] == "case.forwarded"
