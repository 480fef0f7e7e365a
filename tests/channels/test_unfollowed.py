"""A citizen who unfollowed the Zalo OA or unsubscribed from the Viber bot cannot be written
to: a reply to them is not sent to the provider and ends `failed` with the reason, shown in
the conversation; once they follow again, replies go out. Events arrive through `/hooks`
signed as each provider signs them (Viber's are its documented callbacks)."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.db import utcnow
from tests.channels.helpers import VIBER, FakeProvider, payload, signature_headers
from tests.channels.test_provider_hooks import make_channel as make_provider_channel
from tests.channels.zalo_helpers import (
    conversation_of,
    deliver,
    make_channel,
    run_jobs,
    variant,
)
from tests.channels.zalo_helpers import payload as zalo_payload

pytestmark = pytest.mark.anyio

REASON = "người dân đã bỏ theo dõi kênh: tin không được gửi"


async def _reply(client: Any, world: Any, conversation_id: int, key: str) -> None:
    r = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "Tổng đài 1022 đã nhận phản ánh", "idempotency_key": key},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202, r.text


def _replies(conversation: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(m["status"], m["error"]) for m in conversation["messages"] if m["direction"] == "out"]


async def test_a_reply_to_a_zalo_user_who_unfollowed_fails_visibly_and_is_not_sent(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    now = int(utcnow().timestamp() * 1000)
    # A fresh message keeps the 7-day window open: only the unfollow stands in the way.
    assert (
        await deliver(client, channel, variant("user_send_text", timestamp=str(now)))
    ).status_code == 200
    assert (await deliver(client, channel, zalo_payload("unfollow"))).status_code == 200
    conversation = await conversation_of(client, world, channel)
    assert conversation["following"] is False
    await _reply(client, world, conversation["id"], "after-unfollow")
    await run_jobs(app)
    assert zalo.fake.sends() == []
    conversation = await conversation_of(client, world, channel)
    assert _replies(conversation) == [("failed", REASON)]

    # Following again (a new follow event), a reply goes out.
    follow = variant("follow", timestamp=str(now + 1000))
    assert (await deliver(client, channel, follow)).status_code == 200
    await _reply(client, world, conversation["id"], "after-follow")
    await run_jobs(app)
    assert len(zalo.fake.sends()) == 1
    conversation = await conversation_of(client, world, channel)
    assert conversation["following"] is True
    assert _replies(conversation) == [("failed", REASON), ("sent", None)]


async def _viber(client: Any, channel: int, name: str) -> None:
    body = payload("viber", name)
    r = await client.post(
        f"/hooks/{channel}", content=body, headers=signature_headers("viber", VIBER, body)
    )
    assert r.status_code == 200, r.text


async def test_a_reply_to_an_unsubscribed_viber_user_fails_visibly_and_is_not_sent(
    app, client, world, provider: FakeProvider
):
    channel = await make_provider_channel(app, client, world, "viber", provider)
    await _viber(client, channel, "documented/message")
    await _viber(client, channel, "documented/unsubscribed")
    conversation = await conversation_of(client, world, channel)
    assert conversation["following"] is False
    provider.requests.clear()
    await _reply(client, world, conversation["id"], "after-unsubscribe")
    await run_jobs(app)
    assert [r.path for r in provider.requests] == []
    assert _replies(await conversation_of(client, world, channel)) == [("failed", REASON)]

    await _viber(client, channel, "documented/subscribed")
    provider.reply(200, {"status": 0, "status_message": "ok", "message_token": 5741311803571721087})
    await _reply(client, world, conversation["id"], "after-subscribe")
    await run_jobs(app)
    assert [r.path for r in provider.requests] == ["/pa/send_message"]
    conversation = await conversation_of(client, world, channel)
    assert conversation["following"] is True
    assert _replies(conversation) == [("failed", REASON), ("sent", None)]
    # The documented message (text with a place) and both subscription events are in the
    # thread, at the documented instant, before the replies made now.
    kinds = [(m["direction"], m["kind"]) for m in conversation["messages"]]
    assert kinds == [
        ("in", "location"),
        ("in", "unfollow"),
        ("in", "follow"),
        ("out", "text"),
        ("out", "text"),
    ]
