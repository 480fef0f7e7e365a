"""Messenger, Viber and SMS through the hotline's own doors: `/hooks/{id}` with each
provider's documented payloads and signatures, the conversation API, and replies delivered
by the worker to a fake of the provider's API (the cloud APIs are unreachable here)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from hotline.channels.models import Message
from tests.channels.helpers import (
    MESSENGER,
    SMS,
    VIBER,
    FakeProvider,
    payload,
    signature_headers,
)
from tests.channels.zalo_helpers import conversation_of, run_jobs

pytestmark = pytest.mark.anyio

PUBLIC_URL = "https://1022.example.gov.vn"
# What each provider's documented message says, and who says it.
MESSAGE = {
    "messenger": (
        "text_vietnamese",
        "6944582312345678",
        "Đường Láng ngập nước, xe máy chết máy giữa đường",
    ),
    "viber": ("documented/message", "jc9HsWTZ2Yf2NkRZ8KcNug==", "a message to the service"),
    "sms": ("inbound", "+84912345678", "Đường Láng ngập sâu 40cm, xe máy không đi được"),
}
SETTINGS = {"messenger": MESSENGER, "viber": VIBER, "sms": SMS}
# The provider's answer to an accepted send.
ACCEPTED = {
    "messenger": {"recipient_id": "6944582312345678", "message_id": "m_reply_from_page_1"},
    "viber": {"status": 0, "status_message": "ok", "message_token": 5741311803571721087},
    "sms": {"id": "gw-out-1"},
}
PROVIDER_ID = {
    "messenger": "m_reply_from_page_1",
    "viber": "5741311803571721087",
    "sms": "gw-out-1",
}


def settings_for(kind: str, fake: FakeProvider) -> dict[str, Any]:
    base = fake.url + "/v25.0" if kind == "messenger" else fake.url
    return {**SETTINGS[kind], "api_base": base, "send_timeout": 2}


async def make_channel(app: Any, client: Any, world: Any, kind: str, fake: FakeProvider) -> int:
    if kind == "viber":
        app.state.hotline.settings.public_url = PUBLIC_URL
        fake.reply(200, {"status": 0, "status_message": "ok", "event_types": ["delivered"]})
    r = await client.post(
        "/api/v1/channels",
        json={"kind": kind, "name": f"{kind} 1022", "settings": settings_for(kind, fake)},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def fresh(kind: str, body: bytes) -> bytes:
    """The documented message as if sent just now (Messenger's reply window counts from
    it): only the timestamps' digits change, the provider's escapes stay as they were."""
    if kind != "messenger":
        return body
    now = str(int(time.time() * 1000)).encode()
    return re.sub(rb'"(timestamp|time)":\d+', lambda m: b'"' + m.group(1) + b'":' + now, body)


async def post(client: Any, channel: int, kind: str, body: bytes, **kw: Any) -> Any:
    headers = signature_headers(kind, SETTINGS[kind], body, **kw)
    return await client.post(f"/hooks/{channel}", content=body, headers=headers)


async def count_messages(app: Any) -> int:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


@pytest.mark.parametrize("kind", ["messenger", "viber", "sms"])
async def test_a_signed_message_is_stored_once_in_the_citizens_conversation(
    app, client, world, provider, kind
):
    channel = await make_channel(app, client, world, kind, provider)
    name, user, text = MESSAGE[kind]
    body = payload(kind, name)
    for _ in range(3):  # the provider's retries
        r = await post(client, channel, kind, body)
        assert r.status_code == 200, r.text
    conversation = await conversation_of(client, world, channel)
    assert conversation["external_user_id"] == user
    assert conversation["channel_kind"] == kind
    assert [(m["direction"], m["text"]) for m in conversation["messages"]] == [("in", text)]


@pytest.mark.parametrize("kind", ["messenger", "viber", "sms"])
async def test_a_bad_signature_is_refused_and_nothing_is_stored(app, client, world, provider, kind):
    channel = await make_channel(app, client, world, kind, provider)
    body = payload(kind, MESSAGE[kind][0])
    wrong = {"messenger": "app_secret", "viber": "auth_token", "sms": "secret"}[kind]
    forged = signature_headers(kind, {**SETTINGS[kind], wrong: "guessed"}, body)
    r = await client.post(f"/hooks/{channel}", content=body, headers=forged)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    unsigned = await client.post(
        f"/hooks/{channel}", content=body, headers={"Content-Type": "application/json"}
    )
    assert unsigned.status_code == 403
    assert await count_messages(app) == 0


async def test_an_sms_with_a_stale_timestamp_is_refused(app, client, world, provider):
    channel = await make_channel(app, client, world, "sms", provider)
    body = payload("sms", "inbound")
    stale = await post(client, channel, "sms", body, now=time.time() - 3600)
    assert stale.status_code == 403
    assert await count_messages(app) == 0
    assert (await post(client, channel, "sms", body)).status_code == 200
    assert await count_messages(app) == 1


@pytest.mark.parametrize("kind", ["messenger", "viber", "sms"])
async def test_a_reply_is_delivered_by_the_worker_as_the_provider_documents_it(
    app, client, world, provider, kind
):
    channel = await make_channel(app, client, world, kind, provider)
    name, user, _ = MESSAGE[kind]
    assert (await post(client, channel, kind, fresh(kind, payload(kind, name)))).status_code == 200
    conversation = await conversation_of(client, world, channel)
    provider.requests.clear()
    provider.reply(200, ACCEPTED[kind])
    text = "Tổng đài 1022 đã chuyển phản ánh tới UBND phường"
    r = await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": text, "idempotency_key": "reply-0001"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    await run_jobs(app)
    await run_jobs(app)  # nothing left to send: still one request
    [request] = provider.requests
    if kind == "messenger":
        assert request.path == "/v25.0/106011532222370/messages"
        assert request.query == {"access_token": [MESSENGER["page_access_token"]]}
        assert request.json() == {
            "recipient": {"id": user},
            "messaging_type": "RESPONSE",
            "message": {"text": text},
        }
    elif kind == "viber":
        assert request.path == "/pa/send_message"
        assert request.headers["x-viber-auth-token"] == VIBER["auth_token"]
        assert request.json() == {
            "receiver": user,
            "type": "text",
            "text": text,
            "sender": {"name": "Tổng đài 1022"},
        }
    else:
        assert request.path == "/messages"
        assert request.json() == {"to": user, "text": text, "id": "reply:reply-0001"}
        stamp = request.headers["x-hotline-timestamp"]
        assert (
            signature_headers("sms", SMS, request.body, now=float(stamp))["X-Hotline-Signature"]
            == (request.headers["x-hotline-signature"])
        )
    [reply] = [
        m
        for m in (await conversation_of(client, world, channel))["messages"]
        if m["direction"] == "out"
    ]
    assert (reply["status"], reply["provider_id"], reply["attempts"]) == (
        "sent",
        PROVIDER_ID[kind],
        1,
    )


async def test_a_messenger_reply_after_seven_days_fails_visibly_without_calling_facebook(
    app, client, world, provider
):
    channel = await make_channel(app, client, world, "messenger", provider)
    # The documented message was written in May 2024: far outside the 7 days.
    assert (
        await post(client, channel, "messenger", payload("messenger", "text_vietnamese"))
    ).status_code == 200
    conversation = await conversation_of(client, world, channel)
    assert conversation["reply_window_ends_at"].startswith("2024-06-05")
    r = await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": "Xin lỗi vì trả lời muộn"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202
    await run_jobs(app)
    [reply] = [
        m
        for m in (await conversation_of(client, world, channel))["messages"]
        if m["direction"] == "out"
    ]
    assert reply["status"] == "failed"
    assert "7 days" in reply["error"]
    assert provider.requests == []


async def test_messenger_verification_answers_the_challenge_only_for_the_token(
    app, client, world, provider
):
    channel = await make_channel(app, client, world, "messenger", provider)
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": MESSENGER["verify_token"],
        "hub.challenge": "1158201444",
    }
    good = await client.get(f"/hooks/{channel}", params=query)
    assert (good.status_code, good.text) == (200, "1158201444")
    assert good.headers["content-type"].startswith("text/plain")
    bad = await client.get(f"/hooks/{channel}", params={**query, "hub.verify_token": "guess"})
    assert bad.status_code == 403
    assert "1158201444" not in bad.text


async def test_messenger_receipts_store_nothing_and_answer_200(app, client, world, provider):
    channel = await make_channel(app, client, world, "messenger", provider)
    item = {"sender": {"id": "6944582312345678"}, "recipient": {"id": "106011532222370"}}
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "106011532222370",
                    "time": 1717000100456,
                    "messaging": [
                        {**item, "delivery": {"mids": ["m_x"], "watermark": 1717000080000}},
                        {**item, "timestamp": 1717000097000, "read": {"watermark": 1717000096}},
                    ],
                }
            ],
        }
    ).encode()
    r = await post(client, channel, "messenger", body)
    assert r.status_code == 200
    assert await count_messages(app) == 0


async def test_viber_channel_registers_its_webhook_and_answers_the_check(
    app, client, world, provider
):
    channel = await make_channel(app, client, world, "viber", provider)
    [registration] = provider.requests
    assert registration.path == "/pa/set_webhook"
    assert registration.json()["url"] == f"{PUBLIC_URL}/hooks/{channel}"
    # Viber's check of the URL it was given: signed, answered 200, nothing stored.
    check = await post(client, channel, "viber", payload("viber", "webhook"))
    assert (check.status_code, check.json()) == (200, {"ok": True})
    for receipt in ("documented/delivered", "documented/seen", "documented/failed"):
        assert (await post(client, channel, "viber", payload("viber", receipt))).status_code == 200
    assert await count_messages(app) == 0


async def test_viber_conversation_started_is_answered_with_the_welcome(
    app, client, world, provider
):
    channel = await make_channel(app, client, world, "viber", provider)
    r = await post(client, channel, "viber", payload("viber", "documented/conversation_started"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {
        "sender": {"name": "Tổng đài 1022"},
        "type": "text",
        "text": "Xin chào! Tổng đài 1022 xin nghe.",
    }
    assert await count_messages(app) == 0


async def test_viber_needs_the_public_url_and_shows_a_refused_registration(
    app, client, world, provider
):
    app.state.hotline.settings.public_url = ""
    r = await client.post(
        "/api/v1/channels",
        json={"kind": "viber", "name": "Viber", "settings": settings_for("viber", provider)},
        headers=world.auth("admin"),
    )
    assert r.status_code == 422
    assert r.json()["field"] == "public_url"
    assert "HOTLINE_PUBLIC_URL" in r.json()["detail"]
    assert provider.requests == []

    app.state.hotline.settings.public_url = PUBLIC_URL
    provider.reply(200, {"status": 1, "status_message": "Result[HttpResponse[404]]"})
    r = await client.post(
        "/api/v1/channels",
        json={"kind": "viber", "name": "Viber", "settings": settings_for("viber", provider)},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    channel = r.json()
    assert channel["webhook"]["registered"] is False
    assert "invalidUrl" in channel["webhook"]["error"]
    assert VIBER["auth_token"] not in r.text
    provider.reply(200, {"status": 1, "status_message": "Result[HttpResponse[404]]"})
    again = await client.post(
        f"/api/v1/channels/{channel['id']}/register-webhook", headers=world.auth("admin")
    )
    assert again.status_code == 502
    assert again.json()["field"] == "webhook"
    denied = await client.post(
        f"/api/v1/channels/{channel['id']}/register-webhook", headers=world.auth("operator")
    )
    assert denied.status_code == 403
    provider.reply(200, {"status": 0, "status_message": "ok"})
    ok = await client.post(
        f"/api/v1/channels/{channel['id']}/register-webhook", headers=world.auth("admin")
    )
    assert ok.status_code == 200, ok.text
    assert ok.json() == {
        "url": f"{PUBLIC_URL}/hooks/{channel['id']}",
        "registered": True,
        "error": None,
    }


async def test_a_webhook_answer_never_touches_the_page_session(app, client, world, provider):
    """A provider's webhook is authenticated by its signature, never by a page session: a
    request that happens to carry a signed-in session cookie gets no cookie back."""
    from tests.admin.helpers import page_client

    channel = await make_channel(app, client, world, "sms", provider)
    browser = await page_client(app, "operator")
    try:
        assert browser.cookies.get("hotline_session")
        body = payload("sms", MESSAGE["sms"][0])
        r = await browser.post(
            f"/hooks/{channel}", content=body, headers=signature_headers("sms", SMS, body)
        )
        assert r.status_code == 200, r.text
        assert "set-cookie" not in r.headers
    finally:
        await browser.aclose()
