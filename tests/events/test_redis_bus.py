"""Live events cross web processes through Redis (the real server on 127.0.0.1:6379)."""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest

from hotline.events import DomainEvent, RedisEventBus
from hotline.settings import Settings

pytestmark = pytest.mark.anyio
REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


async def _started(*prefixes: str) -> list[RedisEventBus]:
    if not _redis_up():
        pytest.fail("Redis is not running on 127.0.0.1:6379 (it is part of the test machine)")
    buses = [RedisEventBus(REDIS_URL, prefix=p) for p in prefixes]
    for bus in buses:
        await bus.start()
    await asyncio.sleep(0.2)  # the subscriptions are active before anything is published
    return buses


@pytest.fixture
async def two_buses():
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    a, b = await _started(prefix, prefix)
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


async def test_deployments_sharing_one_redis_do_not_see_each_others_events(tmp_path):
    # Two deployments left at the default prefix: each derives its own from its database.
    site_a = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/a.sqlite3")
    site_b = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/b.sqlite3")
    assert site_a.effective_redis_prefix != site_b.effective_redis_prefix
    a, b = site_a.effective_redis_prefix, site_b.effective_redis_prefix
    a1, a2, b1, b2 = await _started(a, a, b, b)
    try:
        async with a2.subscribe() as on_a2, b2.subscribe() as on_b2:
            a1.publish(DomainEvent(kind="call.answered", data={"caller": "+84912345678"}))
            got = await asyncio.wait_for(on_a2.get(), timeout=5)
            assert got.data == {"caller": "+84912345678"}
            b1.publish(DomainEvent(kind="case.created", case_code="B"))
            assert (await asyncio.wait_for(on_b2.get(), timeout=5)).case_code == "B"
            # Redis has passed b's event on; a marker sent now on a's channel comes after it,
            # so had a2 been listening to b's channel, b's event would be first in its queue.
            a1.publish(DomainEvent(kind="marker", case_code="A"))
            assert (await asyncio.wait_for(on_a2.get(), timeout=5)).case_code == "A"
            assert on_a2.empty()
            assert on_b2.empty()
    finally:
        for bus in (a1, a2, b1, b2):
            await bus.stop()


def test_the_redis_prefix_setting_wins_and_processes_of_one_site_agree(tmp_path):
    url = "postgresql://hotline:secret@db.example/hotline"
    assert (
        Settings(database_url=url).effective_redis_prefix
        == Settings(database_url=url.replace("secret", "rotated")).effective_redis_prefix
    )
    assert Settings(database_url=url, redis_prefix="ha-noi").effective_redis_prefix == "ha-noi"
