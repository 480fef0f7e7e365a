"""A reply delivered by Zalo whose answer the worker did not get in time (a send in doubt)
is confirmed by Zalo's echo whenever the echo comes: while the request still waits for its
answer (the message `sending`, before the worker records the doubt), or after the worker
recorded it and waits for the echo (taking the job again when it falls due). It is never
sent again (channels/outbox.py, channels/echoes.py)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest
from sqlalchemy import update

from hotline.channels.models import Message
from hotline.db import utcnow
from hotline.jobs import worker
from hotline.jobs.worker import run_due_jobs, run_worker
from tests.channels.zalo_helpers import (
    age_sends,
    conversation_of,
    deliver,
    run_jobs,
    variant,
    zalo_settings,
)

pytestmark = pytest.mark.anyio

REPLY = "Tổng đài đã chuyển phản ánh tới UBND phường Ngọc Hà"


async def _setup(app, client, world, zalo, send_timeout: int = 1) -> tuple[int, int]:
    r = await client.post(
        "/api/v1/channels",
        json={
            "kind": "zalo",
            "name": "Zalo OA",
            "settings": zalo_settings(zalo.url, send_timeout=send_timeout),
        },
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    channel = int(r.json()["id"])
    now_ms = str(int(utcnow().timestamp() * 1000))
    r = await deliver(client, channel, variant("user_send_text", timestamp=now_ms))
    assert r.status_code == 200
    await run_due_jobs(app.state.hotline.sessionmaker)  # the citizen's text read
    conversation = await conversation_of(client, world, channel)
    return channel, int(conversation["id"])


async def _reply(client, world, conversation_id: int) -> None:
    r = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": REPLY},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202, r.text


async def _out(client, world, channel: int) -> dict:
    conversation = await conversation_of(client, world, channel)
    [out] = [m for m in conversation["messages"] if m["direction"] == "out"]
    return dict(out)


async def _until(check, what: str) -> None:
    for _ in range(300):  # a liveness bound, far above the send timeout
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def _echo(client, channel: int) -> None:
    echo = variant("oa_send_text", msg_id="zmsg1", text=REPLY)
    assert (await deliver(client, channel, echo)).status_code == 200


async def test_echo_while_the_send_waits_for_its_answer_confirms_it_once(app, client, world, zalo):
    channel, conversation = await _setup(app, client, world, zalo)
    zalo.fake.plan.append("hold")  # delivered; answered only once released
    await _reply(client, world, conversation)
    sending = asyncio.create_task(run_due_jobs(app.state.hotline.sessionmaker))
    try:
        await _until(lambda: _delivered(zalo), "the send reached Zalo")
        # Zalo echoes the delivery before its answer comes: the worker has not recorded
        # anything yet (the message is `sending`).
        await _echo(client, channel)
        out = await _out(client, world, channel)
        assert (out["status"], out["provider_id"]) == ("sent", "zmsg1")
        await sending  # the send times out; what it records keeps the echo's word
    finally:
        zalo.fake.release.set()
        with contextlib.suppress(Exception):
            await sending
    out = await _out(client, world, channel)
    assert (out["status"], out["provider_id"], out["error"]) == ("sent", "zmsg1", None)
    await age_sends(app)
    await run_jobs(app)
    assert len(zalo.fake.sends()) == 1


async def test_echo_after_the_doubt_is_recorded_confirms_it_once_with_the_worker_running(
    app, client, world, zalo, settings, monkeypatch
):
    channel, conversation = await _setup(app, client, world, zalo)
    zalo.fake.plan.append("hold")
    await _reply(client, world, conversation)
    # The worker as deployed: it takes the job again whenever it falls due (1 s, 2 s, ...
    # while the send is in doubt); new jobs are looked for once an hour here.
    monkeypatch.setattr(worker, "JOB_POLL", 3600.0)
    running = asyncio.create_task(run_worker(settings, interval=3600.0))
    try:

        async def in_doubt() -> bool:
            out = await _out(client, world, channel)
            return out["status"] == "sending" and (out["error"] or "").startswith("in_doubt")

        await _until(in_doubt, "the send recorded in doubt")
        zalo.fake.release.set()  # the answer came too late: the worker stopped waiting
        await asyncio.sleep(1.5)  # the job taken again at least once: still waiting
        assert not running.done(), running
        assert len(zalo.fake.sends()) == 1
        await _echo(client, channel)
        await age_sends(app)  # the grace is over: only the echo keeps it from a resend
        await asyncio.sleep(2.5)  # the job's next due times (2 s, 4 s) come and go
        assert not running.done(), running
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    out = await _out(client, world, channel)
    assert (out["status"], out["provider_id"], out["error"]) == ("sent", "zmsg1", None)
    await run_jobs(app)
    assert len(zalo.fake.sends()) == 1


async def test_echo_of_a_reply_queued_again_after_a_5xx_that_delivered_it_confirms_it_once(
    app, client, world, zalo
):
    channel, conversation = await _setup(app, client, world, zalo)
    zalo.fake.plan.append("5xx")  # delivered, then answered 503
    await _reply(client, world, conversation)
    await run_due_jobs(app.state.hotline.sessionmaker)
    out = await _out(client, world, channel)
    assert (out["status"], out["attempts"]) == ("queued", 1)  # its retry waits a second
    await _echo(client, channel)  # Zalo's echo of that delivery
    out = await _out(client, world, channel)  # not shown as a second message
    assert (out["status"], out["provider_id"], out["error"]) == ("sent", "zmsg1", None)
    await run_jobs(app)  # the retry falls due: nothing is sent again
    await age_sends(app)
    await run_jobs(app)
    assert len(zalo.fake.sends()) == 1
    out = await _out(client, world, channel)
    assert (out["status"], out["provider_id"]) == ("sent", "zmsg1")


async def test_echo_during_the_retry_of_a_5xx_that_delivered_shows_both_deliveries(
    app, client, world, zalo
):
    # The echo of the first delivery comes only while the retry is already at Zalo: the
    # citizen gets the reply twice, and the conversation says so (the reply with the
    # retry's id, the first delivery as a message sent from Zalo's tool), never hiding it.
    channel, conversation = await _setup(app, client, world, zalo, send_timeout=30)
    zalo.fake.plan.extend(["5xx", "hold"])
    await _reply(client, world, conversation)
    await run_due_jobs(app.state.hotline.sessionmaker)  # delivered as zmsg1, answered 503
    sending = asyncio.create_task(run_jobs(app))
    try:
        await _until(lambda: _sends(zalo, 2), "the retry reached Zalo")
        await _echo(client, channel)  # zmsg1, the first delivery's echo
        zalo.fake.release.set()
        await sending  # the retry is accepted as zmsg2
    finally:
        zalo.fake.release.set()
        with contextlib.suppress(Exception):
            await sending
    await run_jobs(app)
    echo = variant("oa_send_text", msg_id="zmsg2", text=REPLY)
    assert (await deliver(client, channel, echo)).status_code == 200
    conversation_now = await conversation_of(client, world, channel)
    outs = [
        (m["source"], m["status"], m["provider_id"])
        for m in conversation_now["messages"]
        if m["direction"] == "out"
    ]
    assert sorted(outs) == [("provider", "sent", "zmsg1"), ("staff", "sent", "zmsg2")]
    assert len(zalo.fake.sends()) == 2


async def _delivered(zalo) -> bool:
    return len(zalo.fake.sends()) == 1


async def _sends(zalo, n: int) -> bool:
    return len(zalo.fake.sends()) == n


async def test_a_send_in_doubt_with_a_long_send_timeout_waits_twice_its_answer_window(
    app, client, world, zalo
):
    # A 60 s send timeout: a send may take 70 s to be answered (5 s to connect, 5 s for
    # step 3), so a send in doubt waits 140 s for its echo, not the usual 2 minutes: an
    # echo set aside for one answer window (two replies with the same words) always finds
    # it still waiting.
    channel, conversation = await _setup(app, client, world, zalo, send_timeout=60)
    zalo.fake.plan.append("hang")  # dropped without an answer: in doubt
    await _reply(client, world, conversation)
    await run_jobs(app)
    out = await _out(client, world, channel)
    assert out["status"] == "sending" and out["error"].startswith("in_doubt")
    await _age_sends(app, seconds=130)
    await run_jobs(app)
    assert zalo.fake.sends() == []  # still waiting for its echo
    await _age_sends(app, seconds=150)
    await run_jobs(app)
    out = await _out(client, world, channel)
    assert (out["status"], out["provider_id"]) == ("sent", "zmsg1")


async def _age_sends(app, *, seconds: int) -> None:
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(
            update(Message)
            .where(Message.attempted_at.is_not(None))
            .values(attempted_at=utcnow() - timedelta(seconds=seconds))
        )
