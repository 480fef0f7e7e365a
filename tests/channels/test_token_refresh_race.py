"""Zalo's refresh token is single use: the pair the worker stores after a refresh must
survive an administrator changing the channel's settings at that moment (a change merged
into settings read before the refresh committed would put the spent pair back, and the
next refresh would be refused: every reply failing until the OA is authorised again)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import pytest
from sqlalchemy import select

from hotline.channels.models import Channel
from hotline.db import utcnow
from hotline.jobs.worker import run_due_jobs
from tests.channels.zalo_helpers import conversation_of, deliver, make_channel, variant

pytestmark = pytest.mark.anyio


async def _reply_held_at_its_token_refresh(
    app: Any, client: Any, world: Any, zalo: Any
) -> tuple[int, asyncio.Task[int]]:
    """A citizen's conversation and a reply whose send finds its access token expired: the
    worker running it is held while Zalo answers the refresh (after it spent `ref-1`)."""
    channel = await make_channel(client, world, zalo.url)
    now_ms = str(int(utcnow().timestamp() * 1000))
    assert (
        await deliver(client, channel, variant("user_send_text", timestamp=now_ms))
    ).status_code == 200
    await run_due_jobs(app.state.hotline.sessionmaker)  # the citizen's text read
    conversation = await conversation_of(client, world, channel)
    zalo.fake.access_token, zalo.fake.refresh_token = "tok-2", "ref-1"  # tok-1 expired
    zalo.fake.refreshes.append({})  # the pair Zalo gives next is tok-3 / ref-3
    zalo.fake.refresh_hold = threading.Event()
    r = await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": "Tổng đài đã nhận phản ánh"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202, r.text
    worker = asyncio.create_task(run_due_jobs(app.state.hotline.sessionmaker))
    assert await asyncio.to_thread(zalo.fake.refresh_arrived.wait, 10)
    return channel, worker


async def test_settings_changed_during_a_token_refresh_keep_the_new_token_pair(
    app, client, world, zalo, settings
):
    if not settings.effective_database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: the change waits for the refresh's commit")
    channel, worker = await _reply_held_at_its_token_refresh(app, client, world, zalo)
    # While Zalo answers the refresh, an administrator switches acknowledgements on.
    change = asyncio.create_task(
        client.patch(
            f"/api/v1/channels/{channel}",
            json={"settings": {"auto_ack": True}},
            headers=world.auth("admin"),
        )
    )
    await asyncio.sleep(0.5)
    zalo.fake.refresh_hold.set()
    await worker
    r = await change
    assert r.status_code == 200, r.text
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        stored = await session.scalar(select(Channel.settings).where(Channel.id == channel))
    assert (stored["access_token"], stored["refresh_token"]) == ("tok-3", "ref-3")
    assert stored["auto_ack"] is True


async def test_a_send_cancelled_while_zalo_answers_its_refresh_keeps_the_new_token_pair(
    app, client, world, zalo
):
    # Zalo spends the refresh token when the request arrives: the pair it answers with must
    # be stored even if the send that asked for it is cancelled meanwhile.
    channel, worker = await _reply_held_at_its_token_refresh(app, client, world, zalo)
    worker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await worker
    zalo.fake.refresh_hold.set()
    stored: dict[str, object] = {}
    for _ in range(100):  # a liveness bound: the refresh finishes in the background
        async with app.state.hotline.unit_of_work(read_only=True) as session:
            stored = await session.scalar(select(Channel.settings).where(Channel.id == channel))
        if stored.get("refresh_token") == "ref-3":
            break
        await asyncio.sleep(0.1)
    assert (stored["access_token"], stored["refresh_token"]) == ("tok-3", "ref-3")
