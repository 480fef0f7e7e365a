"""Two replies with the same words in one conversation (an operator sends "Cảm ơn anh/chị"
twice, or says what the acknowledgement said): Zalo's echo of one send confirms only a
reply it can belong to. It never shows sent a reply that Zalo refused or never got, and
each reply ends with its own send's id (channels/echoes.py)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import func, select

from hotline.jobs.models import Job
from hotline.jobs.worker import run_due_jobs
from tests.channels.zalo_helpers import (
    age_sends,
    conversation_of,
    deliver,
    run_jobs,
    variant,
    zalo_settings,
)

pytestmark = pytest.mark.anyio

THANKS = "Cảm ơn anh/chị đã liên hệ Tổng đài 1022"


async def _setup(app, client, world, zalo) -> tuple[int, int]:
    from hotline.db import utcnow

    # Room for held answers: a send waits 30 s for Zalo's answer.
    r = await client.post(
        "/api/v1/channels",
        json={
            "kind": "zalo",
            "name": "Zalo OA",
            "settings": zalo_settings(zalo.url, send_timeout=30),
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
        json={"text": THANKS},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202, r.text


async def _outs(client, world, channel: int) -> list[tuple[str, str, str | None]]:
    """The conversation's outgoing messages, oldest first: (source, status, provider id)."""
    conversation = await conversation_of(client, world, channel)
    outs = sorted(
        (m for m in conversation["messages"] if m["direction"] == "out"), key=lambda m: m["id"]
    )
    return [(m["source"], m["status"], m["provider_id"]) for m in outs]


async def _echo(client, channel: int, msg_id: str) -> None:
    echo = variant("oa_send_text", msg_id=msg_id, text=THANKS)
    assert (await deliver(client, channel, echo)).status_code == 200


async def _until(check, what: str) -> None:
    for _ in range(300):  # a liveness bound, far above the send timeout
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


def _start_sending(app) -> asyncio.Task[int]:
    return asyncio.create_task(run_due_jobs(app.state.hotline.sessionmaker))


async def _settle(zalo, *tasks: asyncio.Task[int]) -> None:
    zalo.fake.release.set()
    for task in tasks:
        with contextlib.suppress(Exception):
            await task


async def _echo_jobs(app) -> int:
    async with app.state.hotline.unit_of_work() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Job).where(Job.kind == "channel_echo")
            )
            or 0
        )


async def test_an_echo_never_confirms_a_same_text_reply_that_never_reached_zalo(
    app, client, world, zalo
):
    channel, conversation = await _setup(app, client, world, zalo)
    zalo.fake.plan.append("hang")  # the first reply never reaches Zalo: in doubt
    await _reply(client, world, conversation)
    await run_jobs(app)
    [first] = await _outs(client, world, channel)
    assert first == ("staff", "sending", None)
    zalo.fake.plan.append("hold")
    await _reply(client, world, conversation)  # the same words again
    sending = _start_sending(app)
    try:
        await _until(lambda: len(zalo.fake.sends()) == 1, "the second reply reached Zalo")
        # Zalo echoes the second reply before answering its request.
        await _echo(client, channel, "zmsg1")
        first, _ = await _outs(client, world, channel)
        assert first[1] != "sent"  # it never reached Zalo
        await _echo(client, channel, "zmsg1")  # the webhook delivered again
        assert await _echo_jobs(app) == 1  # placed once, later
    finally:
        await _settle(zalo, sending)
    await run_jobs(app)  # the echo placed: the second reply's own
    assert await _outs(client, world, channel) == [
        ("staff", "sending", None),
        ("staff", "sent", "zmsg1"),
    ]
    await age_sends(app)  # no echo came for the first: it is sent after the grace
    await run_jobs(app)
    assert await _outs(client, world, channel) == [
        ("staff", "sent", "zmsg2"),
        ("staff", "sent", "zmsg1"),
    ]
    assert len(zalo.fake.sends()) == 2


async def test_an_echo_never_confirms_a_same_text_reply_that_zalo_refused(app, client, world, zalo):
    channel, conversation = await _setup(app, client, world, zalo)
    zalo.fake.plan.append(("hold", -201))  # refused once answered (Zalo: invalid params)
    await _reply(client, world, conversation)
    first_send = _start_sending(app)
    second_send = None
    try:
        await _until(lambda: len(zalo.fake.sends()) == 1, "the first reply reached Zalo")
        zalo.fake.plan.append("hold")
        await _reply(client, world, conversation)
        second_send = _start_sending(app)
        await _until(lambda: len(zalo.fake.sends()) == 2, "the second reply reached Zalo")
        await _echo(client, channel, "zmsg2")  # the second one delivered
        first, _ = await _outs(client, world, channel)
        assert first[1] != "sent"
    finally:
        await _settle(zalo, first_send, *([second_send] if second_send else []))
    await run_jobs(app)
    first, second = await _outs(client, world, channel)
    assert first[:2] == ("staff", "failed")
    assert second == ("staff", "sent", "zmsg2")


async def test_same_text_replies_in_flight_each_keep_their_own_echo(app, client, world, zalo):
    channel, conversation = await _setup(app, client, world, zalo)
    zalo.fake.plan.append("hold")
    await _reply(client, world, conversation)
    first_send = _start_sending(app)
    second_send = None
    try:
        await _until(lambda: len(zalo.fake.sends()) == 1, "the first reply reached Zalo")
        zalo.fake.plan.append("hold")
        await _reply(client, world, conversation)
        second_send = _start_sending(app)
        await _until(lambda: len(zalo.fake.sends()) == 2, "the second reply reached Zalo")
        await _echo(client, channel, "zmsg2")  # the second's echo comes first
        first, second = await _outs(client, world, channel)
        assert "sent" not in (first[1], second[1])  # not known yet which it is
    finally:
        await _settle(zalo, first_send, *([second_send] if second_send else []))
    await run_jobs(app)
    await _echo(client, channel, "zmsg1")  # the first's own echo, late
    assert await _outs(client, world, channel) == [
        ("staff", "sent", "zmsg1"),
        ("staff", "sent", "zmsg2"),
    ]
    await age_sends(app)
    await run_jobs(app)
    assert len(zalo.fake.sends()) == 2


@pytest.mark.parametrize("own_echo_first", [False, True])
async def test_a_reply_confirmed_by_the_echo_of_the_same_words_sent_from_zalo_keeps_its_own(
    app, client, world, zalo, own_echo_first
):
    # An OA staff member types the same words in Zalo's own chat tool while the reply is
    # at Zalo: that echo confirms the reply (the one candidate), until the reply's own
    # answer shows whose it was. Both messages end shown, each with its own id.
    channel, conversation = await _setup(app, client, world, zalo)
    zalo.fake.plan.append("hold")
    await _reply(client, world, conversation)
    sending = _start_sending(app)
    try:
        await _until(lambda: len(zalo.fake.sends()) == 1, "the reply reached Zalo")
        await _echo(client, channel, "ztool1")
        if own_echo_first:
            await _echo(client, channel, "zmsg1")
    finally:
        await _settle(zalo, sending)
    await run_jobs(app)
    if not own_echo_first:
        await _echo(client, channel, "zmsg1")
    outs = await _outs(client, world, channel)
    assert sorted(outs) == [("provider", "sent", "ztool1"), ("staff", "sent", "zmsg1")]
    assert len(zalo.fake.sends()) == 1
