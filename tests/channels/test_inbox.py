"""Zalo webhooks in: signatures, one message per event however often delivered, one inbox
per citizen, order, attachments, follows and echoes."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select

from hotline.channels.models import Message
from hotline.contacts.models import ContactIdentity
from tests.channels.zalo_helpers import (
    USER,
    conversation_of,
    deliver,
    make_channel,
    payload,
    signed,
    variant,
)

pytestmark = pytest.mark.anyio


async def _count(app, model) -> int:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_documented_text_event_with_valid_signature_is_stored_once(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    body = payload("user_send_text")
    r = await deliver(client, channel, body)
    assert r.status_code == 200, r.text
    again = await deliver(client, channel, body)  # Zalo's retry
    assert again.status_code == 200
    conversation = await conversation_of(client, world, channel)
    assert [m["text"] for m in conversation["messages"]] == [
        "Nhà tôi ở ngõ 45 Kim Mã bị ngập nước, xin hỗ trợ"
    ]
    assert conversation["external_user_id"] == USER
    assert conversation["reply_window_ends_at"].startswith("2024-12-12")  # 7 days on
    assert await _count(app, ContactIdentity) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"X-ZEvent-Signature": "mac=" + "0" * 64, "Content-Type": "application/json"},
        {"X-ZEvent-Signature": "0" * 64, "Content-Type": "application/json"},
    ],
)
async def test_bad_signature_is_refused_and_stores_nothing(app, client, world, zalo, headers):
    channel = await make_channel(client, world, zalo.url)
    r = await client.post(f"/hooks/{channel}", content=payload("user_send_text"), headers=headers)
    assert r.status_code in (401, 403)
    assert await _count(app, Message) == 0
    assert await _count(app, ContactIdentity) == 0


async def test_signature_with_the_wrong_secret_or_altered_body_stores_nothing(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    body = payload("user_send_text")
    r = await client.post(f"/hooks/{channel}", content=body, headers=signed(body, "other"))
    assert r.status_code == 403
    tampered = body.replace("ngập".encode(), "cháy".encode())
    r = await client.post(f"/hooks/{channel}", content=tampered, headers=signed(body))
    assert r.status_code == 403
    assert await _count(app, Message) == 0


async def test_unknown_or_disabled_channel_is_not_found(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    body = payload("user_send_text")
    assert (await deliver(client, channel + 100, body)).status_code == 404
    r = await client.post(f"/api/v1/channels/{channel}/disable", headers=world.auth("admin"))
    assert r.status_code == 200 and r.json()["enabled"] is False
    assert (await deliver(client, channel, body)).status_code == 404
    assert await _count(app, Message) == 0


async def test_hook_needs_no_session_nor_csrf_but_the_body_is_capped(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    client.cookies.set("hotline_session", "forged")
    body = payload("user_send_text")
    assert (await deliver(client, channel, body)).status_code == 200
    big = b'{"timestamp":"1","x":"' + b"a" * (2 * 1024 * 1024) + b'"}'
    r = await client.post(f"/hooks/{channel}", content=big, headers=signed(big))
    assert r.status_code == 413


async def test_order_is_kept_per_conversation_whatever_the_arrival_order(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    texts = ["một", "hai", "ba", "bốn"]
    bodies = [
        variant("user_send_text", msg_id=f"m{i}", text=t, timestamp=str(1733389200000 + i * 1000))
        for i, t in enumerate(texts)
    ]
    for body in reversed(bodies):
        assert (await deliver(client, channel, body)).status_code == 200
    conversation = await conversation_of(client, world, channel)
    assert [m["text"] for m in conversation["messages"]] == texts


async def test_image_location_follow_and_unfollow_join_the_conversation(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    assert (await deliver(client, channel, payload("follow"))).status_code == 200
    for name in ("user_send_text", "user_send_image", "user_send_location", "unfollow"):
        assert (await deliver(client, channel, payload(name))).status_code == 200
    conversation = await conversation_of(client, world, channel)
    kinds = [m["kind"] for m in conversation["messages"]]
    # A follower who had never written is not made a contact: the follow before the first
    # message is not recorded.
    assert kinds == ["text", "image", "location", "unfollow"]
    image, location = conversation["messages"][1], conversation["messages"][2]
    assert image["attachments"][0]["url"] == "https://photo-stal-1.zdn.vn/ngap.jpg"
    assert (location["lat"], location["long"]) == (21.0313, 105.819)
    assert conversation["following"] is False


async def test_a_phone_number_in_a_message_links_the_citizen_to_their_contact(
    app, client, world, zalo
):
    r = await client.post(
        "/api/v1/contacts",
        json={"name": "Nguyễn Thị Lan", "phones": ["0912345678"]},
        headers=world.auth("operator"),
    )
    contact_id = r.json()["id"]
    channel = await make_channel(client, world, zalo.url)
    await deliver(client, channel, variant("user_send_text", msg_id="p1", text="SĐT 0912 345 678"))
    conversation = await conversation_of(client, world, channel)
    assert conversation["contact_id"] == contact_id
    card = (
        await client.get(f"/api/v1/contacts/{contact_id}", headers=world.auth("operator"))
    ).json()
    assert {"channel": "zalo", "external_id": USER} in [
        {k: i[k] for k in ("channel", "external_id")} for i in card["identities"]
    ]


async def test_echo_from_zalos_own_tool_is_threaded_as_an_outgoing_message(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    await deliver(client, channel, payload("user_send_text"))
    assert (await deliver(client, channel, payload("oa_send_text"))).status_code == 200
    assert (await deliver(client, channel, payload("oa_send_text"))).status_code == 200
    conversation = await conversation_of(client, world, channel)
    out = [m for m in conversation["messages"] if m["direction"] == "out"]
    assert [(m["source"], m["status"]) for m in out] == [("provider", "sent")]


async def test_one_event_delivered_100_times_at_once_is_one_message(
    app, client, world, zalo, database_url
):
    channel = await make_channel(client, world, zalo.url)
    body = payload("user_send_text")
    answers = await asyncio.gather(*(deliver(client, channel, body) for _ in range(100)))
    assert {a.status_code for a in answers} == {200}, {a.text for a in answers}
    assert await _count(app, Message) == 1
    assert await _count(app, ContactIdentity) == 1
    items = (await client.get("/api/v1/conversations", headers=world.auth("operator"))).json()[
        "items"
    ]
    assert len(items) == 1


async def test_reading_a_conversation_is_logged_as_a_personal_data_read(app, client, world, zalo):
    from hotline.contacts.models import PersonalDataRead

    channel = await make_channel(client, world, zalo.url)
    await deliver(client, channel, payload("user_send_text"))
    await conversation_of(client, world, channel)
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        purposes = set((await session.scalars(select(PersonalDataRead.purpose))).all())
    assert {"conversation_list", "conversation"} <= purposes
    r = await client.get("/api/v1/conversations", headers=world.auth("officer"))
    assert r.status_code == 403


def test_payload_fixtures_keep_ids_and_timestamps_as_strings() -> None:
    for name in ("user_send_text", "user_send_image", "user_send_location", "oa_send_text"):
        document = json.loads(payload(name))
        assert isinstance(document["timestamp"], str)
        assert isinstance(document["message"]["msg_id"], str)


async def test_many_citizens_writing_in_each_get_their_conversation(app, client, world, zalo):
    # PostgreSQL plans a statement generically after five runs on a connection: the new
    # conversation's ON CONFLICT must still find the partial unique index then.
    channel = await make_channel(client, world, zalo.url)
    for i in range(12):
        document = json.loads(payload("user_send_text"))
        document["sender"]["id"] = f"24684588352919{i:04d}"
        document["message"]["msg_id"] = f"citizen-{i}"
        body = json.dumps(document, ensure_ascii=False).encode()
        r = await deliver(client, channel, body)
        assert r.status_code == 200, r.text
    assert await _count(app, ContactIdentity) == 12
    assert await _count(app, Message) == 12


async def test_a_channel_rekeyed_or_disabled_after_deliveries_changes_the_next_one(
    app, client, world, zalo
):
    # Web processes keep the channel a few seconds; a change made through this process
    # applies to its next delivery.
    channel = await make_channel(client, world, zalo.url)
    first = variant("user_send_text", msg_id="before-change", text="before-change")
    assert (await deliver(client, channel, first)).status_code == 200
    r = await client.patch(
        f"/api/v1/channels/{channel}",
        json={"settings": {"secret_key": "a-new-secret-1234"}},
        headers=world.auth("admin"),
    )
    assert r.status_code == 200, r.text
    old = variant("user_send_text", msg_id="old-key", text="old-key")
    assert (
        await client.post(f"/hooks/{channel}", content=old, headers=signed(old))
    ).status_code in (
        401,
        403,
    )
    new = variant("user_send_text", msg_id="new-key", text="new-key")
    headers = signed(new, secret="a-new-secret-1234")
    assert (await client.post(f"/hooks/{channel}", content=new, headers=headers)).status_code == 200
    r = await client.post(f"/api/v1/channels/{channel}/disable", headers=world.auth("admin"))
    assert r.status_code == 200
    late = variant("user_send_text", msg_id="after-disable", text="after-disable")
    headers = signed(late, secret="a-new-secret-1234")
    assert (
        await client.post(f"/hooks/{channel}", content=late, headers=headers)
    ).status_code == 404
    conversation = await conversation_of(client, world, channel)
    assert [m["text"] for m in conversation["messages"]] == ["before-change", "new-key"]


async def test_a_known_citizens_events_delivered_many_times_at_once_are_stored_once_in_order(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    start = 1733389200000
    assert (
        await deliver(
            client,
            channel,
            variant("user_send_text", msg_id="k0", text="tin 0", timestamp=str(start)),
        )
    ).status_code == 200
    bodies = [
        variant("user_send_text", msg_id=f"k{i}", text=f"tin {i}", timestamp=str(start + i * 1000))
        for i in range(1, 6)
    ]
    answers = await asyncio.gather(*(deliver(client, channel, bodies[n % 5]) for n in range(100)))
    assert {a.status_code for a in answers} == {200}, {a.text for a in answers}
    assert await _count(app, Message) == 6
    assert await _count(app, ContactIdentity) == 1
    conversation = await conversation_of(client, world, channel)
    assert [m["text"] for m in conversation["messages"]] == [f"tin {i}" for i in range(6)]
    # The newest message opens the 7-day reply window: 2024-12-05T09:00:05Z + 7 days.
    assert conversation["reply_window_ends_at"].startswith("2024-12-12T09:00:05")


async def test_a_new_citizens_first_messages_arriving_together_make_one_contact(
    app, client, world, zalo
):
    from hotline.contacts.models import Contact

    channel = await make_channel(client, world, zalo.url)
    bodies = [variant("user_send_text", msg_id=f"n{i}", text=f"tin {i}") for i in range(20)]
    answers = await asyncio.gather(*(deliver(client, channel, b) for b in bodies))
    assert {a.status_code for a in answers} == {200}, {a.text for a in answers}
    assert await _count(app, Message) == 20
    assert await _count(app, ContactIdentity) == 1
    assert await _count(app, Contact) == 1
    items = (await client.get("/api/v1/conversations", headers=world.auth("operator"))).json()[
        "items"
    ]
    assert len(items) == 1


async def test_a_hook_with_a_bad_channel_id_or_unstorable_query_is_a_problem(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    body = payload("user_send_text")
    for path in ("/hooks/abc", "/hooks/0", f"/hooks/{2**63}"):
        r = await client.post(path, content=body, headers=signed(body))
        assert r.status_code == 422, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "channel_id" in r.text
    r = await client.get(f"/hooks/{channel}", params={"hub.challenge": "a\x00b"})
    assert r.status_code == 422, r.text
    assert await _count(app, Message) == 0
