"""Live events cross web processes through Redis (the real server on 127.0.0.1:6379)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from hotline.events import DomainEvent, RedisEventBus

pytestmark = pytest.mark.anyio
REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
async def two_buses():
    if not _redis_up():
        pytest.fail("Redis is not running on 127.0.0.1:6379 (it is part of the test machine)")
    a, b = RedisEventBus(REDIS_URL), RedisEventBus(REDIS_URL)
    await a.start()
    await b.start()
    await asyncio.sleep(0.2)  # both subscriptions are active before anything is published
    yield a, b
    await a.stop()
    await b.stop()


async def test_an_event_published_in_one_process_reaches_subscribers_of_another(two_buses):
    a, b = two_buses
    async with a.subscribe() as on_a, b.subscribe() as on_b:
        a.publish(DomainEvent(kind="case.created", case_code="7KQ2-M9XD", unit_ids=(3,)))
        got_b = await asyncio.wait_for(on_b.get(), timeout=5)
        got_a = await asyncio.wait_for(on_a.get(), timeout=5)
        assert (got_b.kind, got_b.case_code, got_b.unit_ids) == ("case.created", "7KQ2-M9XD", (3,))
        assert got_a.case_code == "7KQ2-M9XD"
        # The publisher's own subscribers get it once, not again from Redis.
        await asyncio.sleep(0.3)
        assert on_a.empty()
