"""On PostgreSQL a webhook's common cases are stored by one statement
(channels/inbox_pg.py), not by the unit of work: a citizen giving a number another card
owns, and a delivery racing another of the same event, are among them (in the
benchmark's traffic they were a tenth of the deliveries). `receive_autocommit` answers
None, having written nothing, for what it leaves to the unit of work."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from hotline.channels import inbox_pg
from hotline.channels.models import Conversation, Message
from hotline.contacts.models import ContactIdentity, ContactPhone
from hotline.events import EventRow
from hotline.jobs.models import Job
from tests.channels.zalo_helpers import deliver, make_channel, signed, variant

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


def _from(user: str, msg_id: str, text: str) -> bytes:
    return variant("user_send_text", msg_id=msg_id, text=text, sender={"id": user})


async def _receive(app: Any, channel: int, body: bytes) -> Any:
    """The statement path alone, as the hook calls it first."""
    state = app.state.hotline
    return await inbox_pg.receive_autocommit(
        await state.hooks_writer(),
        database=state.database,
        channel_id=channel,
        method="POST",
        query={},
        headers=signed(body),
        body=body,
    )


async def _count(app: Any, model: Any, *where: Any) -> int:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        query = select(func.count()).select_from(model).where(*where)
        return int(await session.scalar(query) or 0)


async def _lan(client: Any, world: Any) -> int:
    r = await client.post(
        "/api/v1/contacts",
        json={"name": "Nguyễn Thị Lan", "phones": ["0912345678"]},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def test_a_known_citizen_giving_another_cards_number_moves_in_one_statement(
    app, client, world, zalo
):
    lan = await _lan(client, world)
    channel = await make_channel(client, world, zalo.url)
    assert (
        await deliver(client, channel, _from("u1", "m1", "Cây đổ chắn đường"))
    ).status_code == 200
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        old = await session.scalar(select(ContactIdentity.contact_id))
    result = await _receive(app, channel, _from("u1", "m2", "Tôi là Lan, 0912 345 678"))
    assert result is not None and result.stored == 1
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        assert await session.scalar(select(ContactIdentity.contact_id)) == lan
        conversations = (await session.scalars(select(Conversation))).all()
        assert [c.contact_id for c in conversations] == [lan]
        conversation = conversations[0]
        assert conversation.following
        assert conversation.last_inbound_at is not None
        texts = (await session.scalars(select(Message.text).order_by(Message.id))).all()
    assert texts == ["Cây đổ chắn đường", "Tôi là Lan, 0912 345 678"]
    assert old != lan
    # Its triage job and live event, as for any message.
    assert await _count(app, Job, Job.kind == "channel_message_in") == 2
    assert await _count(app, EventRow, EventRow.kind == "conversation.message") == 2
    assert await _count(app, ContactPhone) == 1


async def test_a_citizen_whose_card_has_a_number_stays_on_it_in_one_statement(
    app, client, world, zalo
):
    lan = await _lan(client, world)
    channel = await make_channel(client, world, zalo.url)
    await deliver(client, channel, _from("u1", "m1", "Số tôi 0987 654 321"))
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        own = await session.scalar(select(ContactIdentity.contact_id))
    result = await _receive(app, channel, _from("u1", "m2", "Hoặc gọi 0912 345 678"))
    assert result is not None and result.stored == 1
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        assert await session.scalar(select(ContactIdentity.contact_id)) == own
        assert (await session.scalars(select(Conversation.contact_id))).all() == [own]
    assert own != lan
    assert await _count(app, Message) == 2


async def test_a_first_message_delivered_many_times_at_once_never_takes_the_unit_of_work(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    body = _from("u1", "m1", "Đèn đường hỏng")
    results = await asyncio.gather(*(_receive(app, channel, body) for _ in range(20)))
    # One stored it; the others, whether they waited on it or came after, are repeats.
    assert None not in results
    assert sorted(r.stored for r in results) == [0] * 19 + [1]
    assert await _count(app, Message) == 1
    assert await _count(app, ContactIdentity) == 1
