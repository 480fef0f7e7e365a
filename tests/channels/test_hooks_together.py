"""Webhooks arriving together (written in batches on PostgreSQL): each event stored once,
with its triage job and its live event, in order per conversation; and the hook's path,
served before routing, answering as the router would."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import func, select

from hotline.channels.models import Conversation, Message
from hotline.events import EventRow
from hotline.jobs.models import Job
from tests.channels.zalo_helpers import deliver, make_channel, payload, signed, variant

pytestmark = pytest.mark.anyio

START = 1733389200000  # 2024-12-05T09:00:00Z


def _text(user: int, n: int) -> str:
    return f"công dân {user} tin {n}"


def _event(user: int, n: int) -> bytes:
    return variant(
        "user_send_text",
        sender={"id": f"citizen-{user}"},
        msg_id=f"c{user}-m{n}",
        text=_text(user, n),
        timestamp=str(START + n * 1000),
    )


async def test_known_citizens_events_arriving_together_are_each_stored_once_with_job_and_event(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    users = range(6)
    for user in users:  # each citizen known, with an open conversation
        assert (await deliver(client, channel, _event(user, 0))).status_code == 200
    # Five more events each, every one delivered three times, all at once in random order.
    bodies = [_event(user, n) for user in users for n in range(1, 6) for _ in range(3)]
    random.Random(7).shuffle(bodies)
    answers = await asyncio.gather(*(deliver(client, channel, b) for b in bodies))
    assert {a.status_code for a in answers} == {200}, {a.text for a in answers}

    async with app.state.hotline.unit_of_work(read_only=True) as session:
        messages = (
            await session.execute(
                select(Message.id, Message.text, Conversation.external_user_id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .order_by(Message.created_at, Message.id)
            )
        ).all()
        jobs = await session.scalar(
            select(func.count()).select_from(Job).where(Job.kind == "channel_message_in")
        )
        events = (
            await session.scalars(
                select(EventRow.data).where(EventRow.kind == "conversation.message")
            )
        ).all()
        conversations = (await session.scalars(select(Conversation))).all()
    assert len(messages) == 36
    for user in users:
        assert [text for _, text, u in messages if u == f"citizen-{user}"] == [
            _text(user, n) for n in range(6)
        ]
    assert jobs == 36
    assert sorted(e["message_id"] for e in events) == sorted(m for m, _, _ in messages)
    assert len(conversations) == 6
    for conversation in conversations:
        # The newest message's time, whatever order the events were stored in.
        assert conversation.last_inbound_at is not None
        assert conversation.last_inbound_at.isoformat().startswith("2024-12-05T09:00:05")


async def test_the_hook_path_answers_as_the_router_would(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    body = payload("user_send_text")
    r = await client.post(f"/hooks/{channel + 100}", content=body, headers=signed(body))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.post(f"/hooks/{channel}", content=body, headers={"X-ZEvent-Signature": "x"})
    assert r.status_code in (401, 403)
    for path in ("/hooks/", f"/hooks/{channel}/more", f"/hooks//{channel}"):
        r = await client.post(path, content=body, headers=signed(body))
        assert r.status_code in (404, 405), (path, r.status_code)
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 0
    assert (await deliver(client, channel, body)).status_code == 200


async def test_an_event_the_database_refuses_among_many_fails_only_its_own_delivery(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    for user in range(4):
        assert (await deliver(client, channel, _event(user, 0))).status_code == 200
    good = [_event(user, n) for user in range(4) for n in range(1, 6)]
    # An id longer than the column holds (300): PostgreSQL refuses the statement holding it.
    bad = variant("user_send_text", sender={"id": "citizen-0"}, msg_id="x" * 400, text="quá dài")
    bodies = [*good[:10], bad, *good[10:]]
    answers = await asyncio.gather(*(deliver(client, channel, b) for b in bodies))
    assert [a.status_code for i, a in enumerate(answers) if i != 10] == [200] * len(good)
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        texts = set(
            (await session.scalars(select(Message.text).where(Message.text != "quá dài"))).all()
        )
    assert texts == {_text(user, n) for user in range(4) for n in range(6)}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_citizen_known_from_another_path_is_written_by_the_group_writer(
    app, client, world, zalo
):
    # Which web process stored a citizen's last event is chance: their next text goes
    # to the group-commit writer even if this process never stored one for them (here
    # the first came through the portable path: a picture to fetch).
    channel = await make_channel(client, world, zalo.url)
    picture = variant("user_send_image", sender={"id": "citizen-9"}, msg_id="c9-m0")
    assert (await deliver(client, channel, picture)).status_code == 200
    writer = await app.state.hotline.hooks_writer()
    before = writer.statements
    assert (await deliver(client, channel, _event(9, 1))).status_code == 200
    assert writer.statements == before + 1
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        texts = (
            await session.scalars(
                select(Message.text).where(Message.channel_id == channel).order_by(Message.id)
            )
        ).all()
    assert len(texts) == 2 and texts[1] == _text(9, 1)
