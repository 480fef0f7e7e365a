"""A number written in a message links its citizen to a card the same way however the
delivery is stored (one statement on PostgreSQL, the unit of work elsewhere) and however
many deliveries arrive at once: the cards end as some one-at-a-time order of the messages
would leave them (citizens._link_phones)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select, text

from hotline.channels.models import Conversation, Message
from hotline.contacts.models import ContactIdentity
from tests.channels.zalo_helpers import deliver, make_channel, variant

pytestmark = pytest.mark.anyio


def _from(user: str, msg_id: str, text: str) -> bytes:
    return variant("user_send_text", msg_id=msg_id, text=text, sender={"id": user})


async def _ok(client: Any, channel: int, body: bytes) -> None:
    r = await deliver(client, channel, body)
    assert r.status_code == 200, r.text


async def _card(client: Any, world: Any, name: str, phone: str) -> int:
    r = await client.post(
        "/api/v1/contacts", json={"name": name, "phones": [phone]}, headers=world.auth("operator")
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _conversations(client: Any, world: Any, channel: int) -> list[dict[str, Any]]:
    r = await client.get(
        "/api/v1/conversations",
        params={"channel": channel, "limit": 200},
        headers=world.auth("operator"),
    )
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def _identity_cards(client: Any, world: Any, channel: int) -> dict[str, int]:
    """Each citizen's card as their cards answer it: external id -> contact id."""
    out: dict[str, int] = {}
    for conversation in await _conversations(client, world, channel):
        r = await client.get(
            f"/api/v1/contacts/{conversation['contact_id']}", headers=world.auth("operator")
        )
        assert r.status_code == 200, r.text
        for identity in r.json()["identities"]:
            out[identity["external_id"]] = int(r.json()["id"])
    return out


async def _phones(client: Any, world: Any, contact_id: int) -> list[str]:
    r = await client.get(f"/api/v1/contacts/{contact_id}", headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    return list(r.json()["phones"])


NUMBERS = [f"09876543{n:02d}" for n in range(10, 16)]


async def test_new_citizens_writing_one_number_at_once_share_one_card(app, client, world, zalo):
    # One at a time, the second joins the card the first made with the number
    # (test_inbox_phones); arriving together, the same.
    channel = await make_channel(client, world, zalo.url)
    bodies = [
        _from(f"{who}{n}", f"{who}{n}", f"Nhà tôi bị ngập, gọi {number}")
        for n, number in enumerate(NUMBERS)
        for who in ("a", "b")
    ]
    await asyncio.gather(*(_ok(client, channel, body) for body in bodies))
    cards = await _identity_cards(client, world, channel)
    for n, number in enumerate(NUMBERS):
        assert cards[f"a{n}"] == cards[f"b{n}"], number
        assert await _phones(client, world, cards[f"a{n}"]) == ["+84" + number[1:]]


async def test_known_citizens_writing_one_new_number_at_once_share_one_card(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    for n in range(len(NUMBERS)):
        for who in ("a", "b"):
            await _ok(client, channel, _from(f"{who}{n}", f"{who}{n}-1", "Đèn đường hỏng"))
    bodies = [
        _from(f"{who}{n}", f"{who}{n}-2", f"Số nhà tôi {number}")
        for n, number in enumerate(NUMBERS)
        for who in ("a", "b")
    ]
    await asyncio.gather(*(_ok(client, channel, body) for body in bodies))
    cards = await _identity_cards(client, world, channel)
    for n, number in enumerate(NUMBERS):
        assert cards[f"a{n}"] == cards[f"b{n}"], number
        assert await _phones(client, world, cards[f"a{n}"]) == ["+84" + number[1:]]


async def test_a_message_giving_another_cards_number_delivered_50_times_moves_once(
    app, client, world, zalo
):
    lan = await _card(client, world, "Nguyễn Thị Lan", "0912345678")
    channel = await make_channel(client, world, zalo.url)
    await _ok(client, channel, _from("u1", "m1", "Cây đổ chắn đường"))
    body = _from("u1", "m2", "Tôi là Lan, +84 912 345 678")
    answers = await asyncio.gather(*(deliver(client, channel, body) for _ in range(50)))
    assert {a.status_code for a in answers} == {200}, {a.text for a in answers}
    (conversation,) = await _conversations(client, world, channel)
    assert conversation["contact_id"] == lan
    assert await _identity_cards(client, world, channel) == {"u1": lan}
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 2
    assert await _phones(client, world, lan) == ["+84912345678"]


async def test_a_citizens_messages_giving_two_cards_numbers_at_once_leave_them_on_one(
    app, client, world, zalo
):
    # One at a time, the first number moves the citizen (and all their card's
    # conversations) to its card, which has a number: the second then moves nothing.
    cards = [await _card(client, world, f"Người {n}", f"09123456{n:02d}") for n in range(10, 14)]
    channel = await make_channel(client, world, zalo.url)
    users = [f"u{n}" for n in range(len(cards) // 2)]
    for user in users:
        await _ok(client, channel, _from(user, f"{user}-1", "Cây đổ chắn đường"))
    for conversation in await _conversations(client, world, channel):
        r = await client.post(
            f"/api/v1/conversations/{conversation['id']}/close", headers=world.auth("operator")
        )
        assert r.status_code == 200, r.text
    for user in users:
        await _ok(client, channel, _from(user, f"{user}-2", "Còn đó"))
    bodies = [
        _from(user, f"{user}-{3 + k}", f"Gọi số 09123456{10 + 2 * n + k:02d}")
        for n, user in enumerate(users)
        for k in (0, 1)
    ]
    await asyncio.gather(*(_ok(client, channel, body) for body in bodies))
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        for n, user in enumerate(users):
            identity = await session.scalar(
                select(ContactIdentity.contact_id).where(ContactIdentity.external_id == user)
            )
            assert identity in cards[2 * n : 2 * n + 2]
            convs = (
                await session.scalars(
                    select(Conversation.contact_id).where(Conversation.external_user_id == user)
                )
            ).all()
            assert convs == [identity, identity], user


async def _waiting(app: Any) -> int:
    async with app.state.hotline.engine.connect() as conn:
        return int(
            await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            or 0
        )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_messages_waiting_on_each_other_move_a_citizen_as_one_at_a_time_would(
    app, client, world, zalo
):
    # Two messages of one citizen giving two cards' numbers, the second waiting for the
    # first (its conversation is locked by whoever writes into it): the first moves the
    # citizen and their card's conversations to its card, which has a number, so the
    # second moves nothing. The lock is held here so that both start before either ends.
    lan = await _card(client, world, "Nguyễn Thị Lan", "0912345610")
    hoa = await _card(client, world, "Trần Thị Hoa", "0912345611")
    channel = await make_channel(client, world, zalo.url)
    await _ok(client, channel, _from("u1", "m1", "Cây đổ chắn đường"))
    (first,) = await _conversations(client, world, channel)
    r = await client.post(
        f"/api/v1/conversations/{first['id']}/close", headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    await _ok(client, channel, _from("u1", "m2", "Còn đó"))
    async with app.state.hotline.engine.connect() as holder:
        await holder.execute(text("SELECT id FROM conversation WHERE status = 'open' FOR UPDATE"))
        first_task = asyncio.ensure_future(
            _ok(client, channel, _from("u1", "m3", "Tôi là Lan 0912345610"))
        )
        while await _waiting(app) < 1:
            await asyncio.sleep(0.01)
        second_task = asyncio.ensure_future(
            _ok(client, channel, _from("u1", "m4", "Hoặc Hoa 0912345611"))
        )
        while await _waiting(app) < 2:
            await asyncio.sleep(0.01)
        await holder.rollback()
    await asyncio.gather(first_task, second_task)
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        identity = await session.scalar(select(ContactIdentity.contact_id))
        convs = (await session.scalars(select(Conversation.contact_id))).all()
        assert await session.scalar(select(func.count()).select_from(Message)) == 4
    assert identity in (lan, hoa)
    assert convs == [identity, identity]


async def test_a_card_known_by_two_identities_stays_whole_when_one_gives_another_cards_number(
    app, client, world, zalo
):
    # The move is for a citizen known only by their identity (citizens._link_phones): a
    # card staff gave a second identity is not that, and moving the conversations of the
    # card without its other identity left that one's conversation on another person.
    lan = await _card(client, world, "Nguyễn Thị Lan", "0912345678")
    channel = await make_channel(client, world, zalo.url)
    await _ok(client, channel, _from("u1", "m1", "Cây đổ chắn đường"))
    (first,) = await _conversations(client, world, channel)
    card = first["contact_id"]
    r = await client.post(
        f"/api/v1/contacts/{card}/identities",
        json={"channel": "zalo", "external_id": "u2"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    await _ok(client, channel, _from("u2", "m2", "Tôi là chồng"))
    await _ok(client, channel, _from("u1", "m3", "Gọi cho hàng xóm 0912 345 678"))
    assert await _identity_cards(client, world, channel) == {"u1": card, "u2": card}
    by_user = {
        c["external_user_id"]: c["contact_id"] for c in await _conversations(client, world, channel)
    }
    assert by_user == {"u1": card, "u2": card}
    assert await _phones(client, world, lan) == ["+84912345678"]


async def test_a_units_number_written_in_a_message_is_nobodys_card(app, client, world, zalo):
    # "I called the ward office on 024 3825 1234": that number is the unit's, not the
    # citizen's, and everyone who writes it is not one person.
    r = await client.post(
        "/api/v1/units",
        json={
            "code": "ubnd-phuong-x",
            "name": "UBND phường X",
            "type": "ward_committee",
            "phone": "024 3825 1234",
        },
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    channel = await make_channel(client, world, zalo.url)
    text = "Tôi gọi phường số 024.3825.1234 mà không ai nghe"
    await _ok(client, channel, _from("u1", "m1", text))
    await _ok(client, channel, _from("u2", "m2", "Đèn đường hỏng"))
    await _ok(client, channel, _from("u2", "m3", text))
    await _ok(client, channel, _from("u3", "m4", text))
    cards = await _identity_cards(client, world, channel)
    assert len(set(cards.values())) == 3, cards
    for card in cards.values():
        assert await _phones(client, world, card) == []


async def test_a_merged_cards_conversations_are_the_kept_cards(app, client, world, zalo):
    # A merge moves the card's identities (contacts.merge): its conversations went on
    # naming the merged card, so the kept card listed none of them, reads of them were
    # logged against the merged card, and a number the citizen gave later moved their
    # identity but left their conversation behind (the unit of work) or took it (one
    # statement on PostgreSQL).
    lan = await _card(client, world, "Nguyễn Thị Lan", "0912345678")
    channel = await make_channel(client, world, zalo.url)
    await _ok(client, channel, _from("u1", "m1", "Cây đổ chắn đường"))
    (conversation,) = await _conversations(client, world, channel)
    r = await client.post(
        f"/api/v1/contacts/{lan}/merge",
        json={"merge_id": conversation["contact_id"]},
        headers=world.auth("operator"),
    )
    assert r.status_code == 200, r.text
    r = await client.get(
        "/api/v1/conversations", params={"contact": lan}, headers=world.auth("operator")
    )
    assert [c["id"] for c in r.json()["items"]] == [conversation["id"]]
    await _ok(client, channel, _from("u1", "m2", "Còn đó"))
    r = await client.get(
        f"/api/v1/conversations/{conversation['id']}", headers=world.auth("operator")
    )
    assert r.json()["contact_id"] == lan
    assert len(r.json()["messages"]) == 2
    r = await client.get(f"/api/v1/contacts/{lan}/reads", headers=world.auth("admin"))
    assert "conversation" in {read["purpose"] for read in r.json()}, r.json()


@pytest.mark.parametrize(
    "written", ["0084 912 345 678", "+84 912.345.678", "84912345678", "0912-345-678"]
)
async def test_a_number_written_in_any_usual_form_finds_its_card(app, client, world, zalo, written):
    lan = await _card(client, world, "Nguyễn Thị Lan", "0912345678")
    channel = await make_channel(client, world, zalo.url)
    await _ok(client, channel, _from("u1", "m1", f"Tôi là Lan, số {written}"))
    await _ok(client, channel, _from("u2", "m2", "Đèn đường hỏng"))
    await _ok(client, channel, _from("u2", "m3", f"Nhà Lan, gọi {written}"))
    assert await _identity_cards(client, world, channel) == {"u1": lan, "u2": lan}
