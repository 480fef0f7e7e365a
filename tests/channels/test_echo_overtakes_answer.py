"""An echo that arrives while the worker is still recording its send's answer is answered by
the shared lookup made once more a moment later (channels/inbox_pg.py, ECHO_RECHECK), not by
the portable path's transaction, which would only wait for that record to find the same."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from hotline.channels import inbox, inbox_pg
from hotline.channels.models import Message
from hotline.db import utcnow
from tests.channels.zalo_helpers import conversation_of, deliver, make_channel, run_jobs, variant

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

TEXT = "Tổng đài đã chuyển phản ánh của bạn tới UBND phường"


async def test_an_echo_overtaking_its_sends_answer_is_recognised_without_a_transaction(
    app, client, world, zalo, monkeypatch
):
    # Long enough for the worker to record the answer on a loaded test machine.
    monkeypatch.setattr(inbox_pg, "ECHO_RECHECK", 1.5)
    portable: list[str] = []
    store_echo = inbox.store_echo

    async def counted(session, channel, event):  # type: ignore[no-untyped-def]
        portable.append(event.event_id)
        return await store_echo(session, channel, event)

    monkeypatch.setattr(inbox, "store_echo", counted)
    channel = await make_channel(client, world, zalo.url)
    now_ms = str(int(utcnow().timestamp() * 1000))
    assert (await deliver(client, channel, variant("user_send_text", timestamp=now_ms))).is_success
    await run_jobs(app)
    conversation = await conversation_of(client, world, channel)
    r = await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": TEXT},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202, r.text

    zalo.fake.plan.append("hold")  # Zalo takes the message; its answer is held
    worker = asyncio.create_task(run_jobs(app))
    for _ in range(200):
        if zalo.fake.sends():
            break
        await asyncio.sleep(0.02)
    provider_id = f"zmsg{len(zalo.fake.received)}"  # what the held answer will say
    echo = asyncio.create_task(
        deliver(client, channel, variant("oa_send_text", msg_id=provider_id, text=TEXT))
    )
    await asyncio.sleep(0.1)  # the echo is in, before the answer
    zalo.fake.release.set()
    answer = await echo
    await worker

    assert answer.status_code == 200
    assert portable == []
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        reply = await session.scalar(select(Message).where(Message.text == TEXT))
    assert reply is not None
    assert (str(reply.status), reply.provider_id) == ("sent", provider_id)
