"""A phone number a citizen writes links them to a contact card: whichever way a delivery
is stored (one statement on PostgreSQL, the unit of work elsewhere), the same cards."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from hotline.channels.models import Message
from hotline.contacts.models import Contact, ContactIdentity
from tests.channels.zalo_helpers import conversation_of, deliver, make_channel, variant

pytestmark = pytest.mark.anyio


def _from(user: str, msg_id: str, text: str) -> bytes:
    return variant("user_send_text", msg_id=msg_id, text=text, sender={"id": user})


async def _count(app: Any, model: Any) -> int:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _card(client: Any, world: Any, contact_id: int) -> dict[str, Any]:
    r = await client.get(f"/api/v1/contacts/{contact_id}", headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _conversations(client: Any, world: Any, channel: int) -> list[dict[str, Any]]:
    r = await client.get(
        "/api/v1/conversations", params={"channel": channel}, headers=world.auth("operator")
    )
    return list(r.json()["items"])


async def test_a_new_citizen_giving_an_unknown_number_gets_a_card_with_it(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    r = await deliver(client, channel, _from("u1", "m1", "Gọi lại cho tôi: 0987.654.321"))
    assert r.status_code == 200, r.text
    conversation = await conversation_of(client, world, channel)
    card = await _card(client, world, conversation["contact_id"])
    assert card["phones"] == ["+84987654321"]
    assert [(i["channel"], i["external_id"]) for i in card["identities"]] == [("zalo", "u1")]
    assert await _count(app, Contact) == 1
    assert [m["text"] for m in conversation["messages"]] == ["Gọi lại cho tôi: 0987.654.321"]


async def test_a_known_citizen_giving_an_unknown_number_has_it_added_to_their_card(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    await deliver(client, channel, _from("u1", "m1", "Đèn đường hỏng"))
    await deliver(client, channel, _from("u1", "m2", "Số của tôi 0987 654 321"))
    conversation = await conversation_of(client, world, channel)
    card = await _card(client, world, conversation["contact_id"])
    assert card["phones"] == ["+84987654321"]
    assert await _count(app, Contact) == 1
    assert [m["text"] for m in conversation["messages"]] == [
        "Đèn đường hỏng",
        "Số của tôi 0987 654 321",
    ]


async def test_a_known_citizen_giving_another_cards_number_moves_to_that_card(
    app, client, world, zalo
):
    r = await client.post(
        "/api/v1/contacts",
        json={"name": "Nguyễn Thị Lan", "phones": ["0912345678"]},
        headers=world.auth("operator"),
    )
    lan = r.json()["id"]
    channel = await make_channel(client, world, zalo.url)
    await deliver(client, channel, _from("u1", "m1", "Cây đổ chắn đường"))
    await deliver(client, channel, _from("u1", "m2", "Tôi là Lan, 0912 345 678"))
    conversation = await conversation_of(client, world, channel)
    assert conversation["contact_id"] == lan
    assert len(conversation["messages"]) == 2
    card = await _card(client, world, lan)
    assert [(i["channel"], i["external_id"]) for i in card["identities"]] == [("zalo", "u1")]


async def test_new_citizens_giving_one_number_share_the_card_of_the_first(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    await deliver(client, channel, _from("u1", "m1", "Nhà tôi bị ngập, 0987 654 321"))
    await deliver(client, channel, _from("u2", "m2", "Chồng tôi đây, số 0987654321"))
    items = await _conversations(client, world, channel)
    assert len(items) == 2
    assert len({c["contact_id"] for c in items}) == 1
    card = await _card(client, world, items[0]["contact_id"])
    assert card["phones"] == ["+84987654321"]
    assert sorted(i["external_id"] for i in card["identities"]) == ["u1", "u2"]


async def test_a_first_message_with_a_number_delivered_50_times_at_once_is_stored_once(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    body = _from("u1", "m1", "SĐT 0987 654 321, xin gọi lại")
    answers = await asyncio.gather(*(deliver(client, channel, body) for _ in range(50)))
    assert {a.status_code for a in answers} == {200}, {a.text for a in answers}
    assert await _count(app, Message) == 1
    assert await _count(app, ContactIdentity) == 1
    assert await _count(app, Contact) == 1
    conversation = await conversation_of(client, world, channel)
    card = await _card(client, world, conversation["contact_id"])
    assert card["phones"] == ["+84987654321"]
