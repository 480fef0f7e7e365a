"""The line's queues as `queue.changed` events: coalesced, repeated while callers wait, silent
when idle, and free of personal data."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from hotline.events import DomainEvent
from hotline.telephony.acd import Acd
from hotline.telephony.queue_events import QueuePublisher, Waiting
from hotline.telephony.sip.ua import UaConfig, UserAgent
from tests.telephony.test_acd_queue import FakeLeg

pytestmark = pytest.mark.anyio
T0 = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


class Recorder:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    async def __call__(self, event: DomainEvent) -> None:
        self.events.append(event)

    def waiting(self) -> list[dict[str, Any]]:
        return [e.data["queues"] for e in self.events]


async def test_a_burst_of_joins_and_leaves_is_one_event_per_interval():
    state: Waiting = {}
    written = Recorder()
    publisher = QueuePublisher(
        lambda: dict(state), written, instance="line-a", min_interval=0.3, heartbeat=60
    )
    publisher.start()
    try:
        await asyncio.sleep(0.05)
        # The first event says what waits at start-up: nobody.
        assert written.waiting() == [{}]
        for n in range(1, 11):  # ten callers arrive within the interval
            state["operator"] = (n, T0)
            publisher.changed()
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.6)
        assert written.waiting() == [{}, {"operator": {"waiting": 10, "oldest_at": T0.isoformat()}}]
        # A change undone within the interval (one joins, one leaves) says nothing new.
        state["operator"] = (11, T0)
        publisher.changed()
        state["operator"] = (10, T0)
        publisher.changed()
        await asyncio.sleep(0.6)
        assert len(written.events) == 2
    finally:
        await publisher.stop()
    event = written.events[-1]
    assert event.kind == "queue.changed"
    assert set(event.data) == {"instance", "heartbeat_seconds", "queues"}
    assert event.data["instance"] == "line-a" and event.data["heartbeat_seconds"] == 60


async def test_heartbeats_while_callers_wait_and_silence_once_nobody_does():
    state: Waiting = {"doctor": (2, T0)}
    written = Recorder()
    publisher = QueuePublisher(
        lambda: dict(state), written, instance="line-a", min_interval=0.0, heartbeat=0.2
    )
    publisher.start()
    try:
        await asyncio.sleep(0.75)
        beats = len(written.events)
        assert beats >= 3  # the first event and the repeats of the same figures
        assert all(
            w == {"doctor": {"waiting": 2, "oldest_at": T0.isoformat()}} for w in written.waiting()
        )
        state.clear()
        publisher.changed()
        await asyncio.sleep(0.1)
        assert written.waiting()[-1] == {}
        idle = len(written.events)
        await asyncio.sleep(0.6)
        assert len(written.events) == idle  # an idle line writes nothing
    finally:
        await publisher.stop()


async def test_stopping_says_once_more_that_nobody_waits():
    state: Waiting = {"operator": (1, T0)}
    written = Recorder()
    publisher = QueuePublisher(lambda: dict(state), written, instance="line-a", heartbeat=60)
    publisher.start()
    await asyncio.sleep(0.05)
    state.clear()  # the line ended its calls
    await publisher.stop()
    assert written.waiting() == [{"operator": {"waiting": 1, "oldest_at": T0.isoformat()}}, {}]


async def test_a_failed_write_is_tried_again():
    state: Waiting = {"operator": (1, T0)}
    written = Recorder()
    failures = [RuntimeError("database away")]

    async def flaky(event: DomainEvent) -> None:
        if failures:
            raise failures.pop()
        await written(event)

    publisher = QueuePublisher(lambda: dict(state), flaky, instance="x", min_interval=0.0)
    publisher.start()
    try:
        await asyncio.sleep(1.3)
        assert written.waiting()[:1] == [{"operator": {"waiting": 1, "oldest_at": T0.isoformat()}}]
    finally:
        await publisher.stop()


async def test_the_acd_reports_its_queues_without_callers_details():
    acd = Acd(UserAgent(UaConfig()), ring_seconds=1, now=lambda: T0)
    changes: list[int] = []
    acd.on_change = lambda: changes.append(1)
    first = acd.join(cast(Any, FakeLeg()), "operator")
    acd.now = lambda: T0 + timedelta(seconds=30)
    acd.join(cast(Any, FakeLeg()), "operator")
    acd.join(cast(Any, FakeLeg()), "doctor")
    assert acd.waiting_now() == {
        "operator": (2, T0),
        "doctor": (1, T0 + timedelta(seconds=30)),
    }
    acd.leave(first)
    assert acd.waiting_now()["operator"] == (1, T0 + timedelta(seconds=30))
    acd.leave(first)  # already gone: no change
    assert len(changes) == 4
