"""Viber bot: documented callbacks read through the adapter, signatures, the welcome answer,
webhook registration and sending against a fake Viber API on loopback."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from hotline.channels.adapter import (
    InboundAttachment,
    InboundKind,
    Outgoing,
    PermanentSendError,
    RetryableSendError,
)
from hotline.channels.viber import ViberAdapter
from tests.channels.helpers import VIBER, FakeProvider, Recorded, client, payload, signature_headers

# The subscriber of Viber's documented examples (payloads/README.md).
USER = "jc9HsWTZ2Yf2NkRZ8KcNug=="
DOCUMENTED = [
    "documented/message",
    "documented/subscribed",
    "documented/unsubscribed",
    "documented/conversation_started",
    "documented/delivered",
    "documented/seen",
    "documented/failed",
]
# Viber's documented message callback with the message object of another type (README).
COMPOSED = ["message_picture", "message_location", "message_contact"]
ALL = [*DOCUMENTED, *COMPOSED, "webhook"]


def test_the_documented_message_is_read_with_its_place_and_its_token_as_an_exact_string() -> None:
    [event] = ViberAdapter().read(VIBER, payload("viber", "documented/message"))
    assert event.kind == InboundKind.MESSAGE
    # 4912661846655238145 is beyond a double's precision: read as an integer, not a float.
    assert event.event_id == "4912661846655238145"
    assert (event.user_id, event.user_name) == (USER, "John McClane")
    assert event.text == "a message to the service"
    # The documented text carries a location: it is the citizen's place.
    assert event.location == (50.76891, 6.11499)
    # ... and a `media` link, which on a text is no file to fetch.
    assert event.attachments == ()
    assert event.sent_at == datetime(2016, 3, 12, 6, 29, 57, 627000, tzinfo=UTC)


def test_a_picture_becomes_an_image_attachment_with_its_caption() -> None:
    [event] = ViberAdapter().read(VIBER, payload("viber", "message_picture"))
    assert (event.event_id, event.user_id) == ("4912661846655238145", USER)
    assert event.text == "My picture"
    assert event.attachments == (
        InboundAttachment(kind="image", url="http://media.example.com/picture.jpg"),
    )


def test_a_location_and_a_shared_contact_are_read() -> None:
    [place] = ViberAdapter().read(VIBER, payload("viber", "message_location"))
    assert (place.location, place.text) == ((32.0853, 34.7818), "")
    [contact] = ViberAdapter().read(VIBER, payload("viber", "message_contact"))
    assert contact.text == "John Doe +972501234567"


def test_subscription_events_follow_and_unfollow() -> None:
    read = ViberAdapter().read
    [subscribed] = read(VIBER, payload("viber", "documented/subscribed"))
    # A chat opened ("subscribed": false) is no subscription: answered, not stored.
    assert read(VIBER, payload("viber", "documented/conversation_started")) == []
    [unsubscribed] = read(VIBER, payload("viber", "documented/unsubscribed"))
    assert (subscribed.kind, subscribed.user_id, subscribed.user_name) == (
        InboundKind.FOLLOW,
        USER,
        "John McClane",
    )
    assert (unsubscribed.kind, unsubscribed.user_id) == (InboundKind.UNFOLLOW, USER)
    # Documented with the same token as the message: each keeps its own key.
    keys = {e.event_id for e in (subscribed, unsubscribed)}
    assert "4912661846655238145" not in keys and len(keys) == 2


@pytest.mark.parametrize(
    "name", ["webhook", "documented/delivered", "documented/seen", "documented/failed"]
)
def test_the_webhook_check_and_receipts_give_nothing_to_store(name: str) -> None:
    assert ViberAdapter().read(VIBER, payload("viber", name)) == []


@pytest.mark.parametrize("name", ALL)
def test_every_callback_verifies_and_fails_when_one_byte_changes(name: str) -> None:
    body = payload("viber", name)
    headers = signature_headers("viber", VIBER, body)
    assert ViberAdapter().verify(VIBER, headers, body)
    changed = body[:-2] + bytes([body[-2] ^ 1]) + body[-1:]
    assert not ViberAdapter().verify(VIBER, headers, changed)


def test_missing_prefixed_or_foreign_signatures_fail() -> None:
    body = payload("viber", "documented/message")
    digest = signature_headers("viber", VIBER, body)["X-Viber-Content-Signature"]
    other = signature_headers("viber", {**VIBER, "auth_token": "another-bot"}, body)
    assert not ViberAdapter().verify(VIBER, {}, body)
    assert not ViberAdapter().verify(VIBER, {"X-Viber-Content-Signature": "sha256=" + digest}, body)
    assert not ViberAdapter().verify(VIBER, other, body)
    assert ViberAdapter().verify(VIBER, {"x-viber-content-signature": digest}, body)


def test_conversation_started_is_answered_with_the_welcome_message() -> None:
    def answer(settings: dict[str, str], name: str) -> bytes | None:
        reply = ViberAdapter().handshake(settings, "POST", {}, {}, payload("viber", name))
        return None if reply is None else reply.body

    welcome = answer(VIBER, "documented/conversation_started")
    assert welcome is not None
    assert json.loads(welcome) == {
        "sender": {"name": "Tổng đài 1022"},
        "type": "text",
        "text": "Xin chào! Tổng đài 1022 xin nghe.",
    }
    no_welcome = {k: v for k, v in VIBER.items() if k != "welcome_text"}
    assert answer(no_welcome, "documented/conversation_started") == b""
    assert answer(VIBER, "webhook") == b'{"ok":true}'
    for name in ("documented/message", "documented/subscribed", "documented/delivered"):
        assert answer(VIBER, name) is None


# -- sending ---------------------------------------------------------------------------------


def settings_for(fake: FakeProvider) -> dict[str, Any]:
    return {**VIBER, "api_base": fake.url}


REPLY = Outgoing(idempotency_key="out-1", user_id=USER, text="Phường Hàng Bông đã nhận phản ánh")
SENT = {
    "status": 0,
    "status_message": "ok",
    "message_token": 5741311803571721087,
    "chat_hostname": "SN-CHAT-05_",
    "billing_status": 1,
}


@pytest.mark.anyio
async def test_a_reply_is_posted_as_viber_documents_it(provider: FakeProvider) -> None:
    provider.reply(200, SENT)
    async with client() as http:
        sent = await ViberAdapter().send(settings_for(provider), REPLY, http)
    assert sent.provider_id == "5741311803571721087"
    [request] = provider.requests
    assert request.path == "/pa/send_message"
    assert request.headers["x-viber-auth-token"] == VIBER["auth_token"]
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "receiver": USER,
        "type": "text",
        "text": "Phường Hàng Bông đã nhận phản ánh",
        "sender": {"name": "Tổng đài 1022"},
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "message", "retryable", "code"),
    [
        (5, "receiverNotRegistered", False, "receiverNotRegistered"),
        (6, "receiverNotSubscribed", False, "receiverNotSubscribed"),
        (7, "publicAccountBlocked", False, "publicAccountBlocked"),
        (2, "invalidAuthToken", False, "invalidAuthToken"),
        (11, "receiverNoSuitableDevice", False, "receiverNoSuitableDevice"),
        (12, "tooManyRequests", True, "tooManyRequests"),
        (99, "General error", True, "generalError"),
    ],
)
async def test_viber_statuses_say_whether_to_retry(
    provider: FakeProvider, status: int, message: str, retryable: bool, code: str
) -> None:
    provider.reply(200, {"status": status, "status_message": message, "chat_hostname": "SN-1_"})
    async with client() as http:
        with pytest.raises(RetryableSendError if retryable else PermanentSendError) as failure:
            await ViberAdapter().send(settings_for(provider), REPLY, http)
    assert failure.value.code == code
    assert VIBER["auth_token"] not in str(failure.value)


@pytest.mark.anyio
async def test_a_5xx_or_a_timeout_is_retryable(provider: FakeProvider) -> None:
    provider.reply(502, b"<html>Bad Gateway</html>")
    provider.hang()
    async with client() as http:
        for code in ("http", "timeout"):
            with pytest.raises(RetryableSendError) as failure:
                await ViberAdapter().send(settings_for(provider), REPLY, http)
            assert failure.value.code == code
    assert len(provider.requests) == 2


@pytest.mark.anyio
async def test_registering_the_webhook_passes_viber_s_signed_check(provider: FakeProvider) -> None:
    """Viber answers set_webhook only after our hook has answered its signed `webhook` event
    with 200; a stand-in hook here runs the adapter as `POST /hooks/{id}` will."""
    hook = FakeProvider().start()
    seen: list[tuple[bool, int]] = []

    def hook_check(request: Recorded) -> None:
        ok = ViberAdapter().verify(VIBER, request.headers, request.body)
        seen.append((ok, len(ViberAdapter().read(VIBER, request.body))))
        hook.reply(200 if ok else 403, {})

    def viber_set_webhook(request: Recorded) -> None:
        token = request.headers["x-viber-auth-token"]
        body = payload("viber", "webhook")
        headers = signature_headers("viber", {"auth_token": token}, body)
        answer = httpx.post(request.json()["url"], content=body, headers=headers)
        if answer.status_code == 200:
            provider.reply(200, {"status": 0, "status_message": "ok", "event_types": ["delivered"]})
        else:
            provider.reply(200, {"status": 1, "status_message": "invalidUrl"})

    hook.on_request = hook_check
    provider.on_request = viber_set_webhook
    try:
        async with client() as http:
            answer = await ViberAdapter().register_webhook(
                settings_for(provider), hook.url + "/hooks/7", http
            )
    finally:
        hook.stop()
    assert answer["status"] == 0
    assert seen == [(True, 0)]
    [request] = provider.requests
    assert request.path == "/pa/set_webhook"
    assert request.json() == {
        "url": hook.url + "/hooks/7",
        "event_types": [
            "subscribed",
            "unsubscribed",
            "conversation_started",
            "delivered",
            "seen",
            "failed",
        ],
        "send_name": True,
        "send_photo": False,
    }


@pytest.mark.anyio
async def test_a_refused_registration_raises_with_viber_s_reason(provider: FakeProvider) -> None:
    provider.reply(200, {"status": 1, "status_message": "Result[HttpResponse[404]]"})
    async with client() as http:
        with pytest.raises(PermanentSendError) as failure:
            await ViberAdapter().register_webhook(
                settings_for(provider), "https://x.invalid/h", http
            )
    assert failure.value.code == "invalidUrl"
    assert "404" in failure.value.reason
