"""Facebook Messenger: documented webhooks read through the adapter, signatures over the raw
bytes, the verification handshake, and the Send API against a fake Graph API on loopback."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.channels.adapter import (
    InboundAttachment,
    InboundKind,
    Outgoing,
    PermanentSendError,
    RetryableSendError,
)
from hotline.channels.messenger import MessengerAdapter
from tests.channels.helpers import MESSENGER, FakeProvider, client, payload, signature_headers

NOW = datetime(2025, 6, 15, 8, 0, tzinfo=UTC)
PSID = "6944582312345678"


def adapter() -> MessengerAdapter:
    return MessengerAdapter(clock=lambda: NOW)


def test_vietnamese_text_is_read_from_the_escaped_body() -> None:
    body = payload("messenger", "text_vietnamese")
    assert b"\\u0110\\u01b0\\u1eddng" in body  # as Facebook sends it
    [event] = adapter().read(MESSENGER, body)
    assert event.kind == InboundKind.MESSAGE
    assert event.event_id.startswith("m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM")
    assert event.user_id == PSID
    assert event.text == "Đường Láng ngập nước, xe máy chết máy giữa đường"
    assert event.sent_at == datetime(2024, 5, 29, 16, 26, 40, tzinfo=UTC)


def test_every_entry_and_every_messaging_item_is_read_and_receipts_skipped() -> None:
    events = adapter().read(MESSENGER, payload("messenger", "two_entries"))
    assert [(e.event_id, e.kind, e.user_id) for e in events] == [
        ("m_first_text_1", InboundKind.MESSAGE, PSID),
        ("m_first_image_2", InboundKind.MESSAGE, PSID),
        ("m_second_location_3", InboundKind.MESSAGE, "7215559876543210"),
        # The Page wrote this one: the citizen is its recipient.
        ("m_second_echo_4", InboundKind.ECHO, "7215559876543210"),
        ("m_second_postback_5", InboundKind.MESSAGE, "7215559876543210"),
    ]
    text, image, location, echo, postback = events
    assert text.text == "Có cây đổ ở ngõ 5"
    assert image.attachments == (
        InboundAttachment(
            kind="image",
            url="https://scontent.xx.fbcdn.net/v/t1.15752-9/447265123_cay_do.jpg?_nc_cat=1&oh=00_AYB",
        ),
    )
    assert location.location == (21.028511, 105.804817)
    assert location.attachments == ()
    assert echo.text == "Cảm ơn anh, tổng đài đã tiếp nhận"
    assert postback.text == "Gặp tổng đài viên"


def test_standby_items_are_read_with_their_attachments() -> None:
    [event] = adapter().read(MESSENGER, payload("messenger", "standby"))
    assert event.event_id == "m_standby_video_6"
    assert [(a.kind, a.url) for a in event.attachments] == [
        ("video", "https://video.xx.fbcdn.net/v/t42.3356-2/ngap.mp4"),
        ("file", "https://cdn.fbsbx.com/v/t59.2708-21/don.pdf"),
    ]


def test_other_objects_and_broken_bodies_give_nothing() -> None:
    assert adapter().read(MESSENGER, b'{"object":"instagram","entry":[]}') == []
    assert adapter().read(MESSENGER, b"not json") == []


@pytest.mark.parametrize("name", ["text_vietnamese", "two_entries", "standby"])
def test_a_body_signed_with_the_app_secret_verifies(name: str) -> None:
    body = payload("messenger", name)
    assert adapter().verify(MESSENGER, signature_headers("messenger", MESSENGER, body), body)


def test_a_body_changed_by_one_byte_fails() -> None:
    body = payload("messenger", "two_entries")
    headers = signature_headers("messenger", MESSENGER, body)
    changed = body.replace(b"m_first_text_1", b"m_first_text_2")
    assert len(changed) == len(body) and changed != body
    assert not adapter().verify(MESSENGER, headers, changed)


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_a_re_serialised_body_fails(ensure_ascii: bool) -> None:
    # What a framework's parsed JSON gives back: same data, other bytes (unescaped Vietnamese,
    # or `/` no longer escaped as `\/`).
    for name in ("text_vietnamese", "two_entries"):
        body = payload("messenger", name)
        headers = signature_headers("messenger", MESSENGER, body)
        again = json.dumps(json.loads(body), ensure_ascii=ensure_ascii, separators=(",", ":"))
        if ensure_ascii and name == "text_vietnamese":
            continue  # Python happens to escape this one exactly as Facebook does
        assert again.encode() != body
        assert not adapter().verify(MESSENGER, headers, again.encode())


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": "0" * 64},  # no sha256= prefix
        {"X-Hub-Signature": "sha1=" + "0" * 40},  # the old SHA-1 header alone
        {"X-Hub-Signature-256": "sha256="},
    ],
)
def test_missing_or_malformed_signatures_fail(headers: dict[str, str]) -> None:
    assert not adapter().verify(MESSENGER, headers, payload("messenger", "standby"))


def test_a_signature_by_another_secret_fails() -> None:
    body = payload("messenger", "standby")
    other = {**MESSENGER, "app_secret": "someone-else"}
    assert not adapter().verify(MESSENGER, signature_headers("messenger", other, body), body)


def test_signature_header_names_are_case_insensitive() -> None:
    body = payload("messenger", "standby")
    headers = {k.lower(): v for k, v in signature_headers("messenger", MESSENGER, body).items()}
    assert adapter().verify(MESSENGER, headers, body)


def test_handshake_answers_the_challenge_only_for_the_verify_token() -> None:
    good = {
        "hub.mode": "subscribe",
        "hub.verify_token": "hotline-verify-7d1e",
        "hub.challenge": "1158201444",
    }

    def answer(settings: dict[str, str], query: dict[str, str]) -> tuple[int, bytes] | None:
        reply = adapter().handshake(settings, "GET", query, {}, b"")
        return None if reply is None else (reply.status, reply.body)

    assert answer(MESSENGER, good) == (200, b"1158201444")
    assert answer(MESSENGER, {**good, "hub.verify_token": "guess"}) == (403, b"")
    assert answer(MESSENGER, {**good, "hub.mode": "unsubscribe"}) == (403, b"")
    no_challenge = {"hub.mode": "subscribe", "hub.verify_token": "hotline-verify-7d1e"}
    assert answer(MESSENGER, no_challenge) == (403, b"")
    empty = {**MESSENGER, "verify_token": ""}
    assert answer(empty, {**good, "hub.verify_token": ""}) == (403, b"")
    # A POST is an event to read, not a handshake.
    assert adapter().handshake(MESSENGER, "POST", good, {}, b"{}") is None


# -- sending ---------------------------------------------------------------------------------


def settings_for(fake: FakeProvider) -> dict[str, Any]:
    return {**MESSENGER, "api_base": fake.url + "/v25.0"}


def reply(age: timedelta | None, text: str = "Tổng đài đã chuyển phản ánh tới phường") -> Outgoing:
    return Outgoing(
        idempotency_key="out-1",
        user_id=PSID,
        text=text,
        last_inbound_at=None if age is None else NOW - age,
    )


@pytest.mark.anyio
@pytest.mark.parametrize("age", [timedelta(minutes=5), timedelta(hours=24), None])
async def test_a_reply_inside_24_hours_is_a_response(
    provider: FakeProvider, age: timedelta | None
) -> None:
    provider.reply(200, {"recipient_id": PSID, "message_id": "m_sent_1"})
    async with client() as http:
        sent = await adapter().send(settings_for(provider), reply(age), http)
    assert sent.provider_id == "m_sent_1"
    [request] = provider.requests
    assert request.path == "/v25.0/106011532222370/messages"
    assert request.query == {"access_token": ["EAAGm0PX4ZCpsBAPageTokenSecret"]}
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Tổng đài đã chuyển phản ánh tới phường"},
    }


@pytest.mark.anyio
@pytest.mark.parametrize("age", [timedelta(hours=24, seconds=1), timedelta(days=7)])
async def test_a_reply_after_24_hours_carries_the_human_agent_tag(
    provider: FakeProvider, age: timedelta
) -> None:
    provider.reply(200, {"recipient_id": PSID, "message_id": "m_sent_2"})
    async with client() as http:
        sent = await adapter().send(settings_for(provider), reply(age), http)
    assert sent.provider_id == "m_sent_2"
    assert provider.requests[0].json() == {
        "recipient": {"id": PSID},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": "Tổng đài đã chuyển phản ánh tới phường"},
    }


@pytest.mark.anyio
async def test_a_reply_after_7_days_fails_without_calling_facebook(provider: FakeProvider) -> None:
    async with client() as http:
        with pytest.raises(PermanentSendError) as failure:
            await adapter().send(settings_for(provider), reply(timedelta(days=7, seconds=1)), http)
    assert failure.value.code == "window_closed"
    assert provider.requests == []


def graph_error(code: int, subcode: int | None = None, message: str = "error") -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbC",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "answer", "retryable"),
    [
        (500, graph_error(2, message="Service temporarily unavailable"), True),
        (503, b"<html>Service Unavailable</html>", True),
        (400, graph_error(1, message="An unknown error occurred"), True),
        (400, graph_error(4, message="Application request limit reached"), True),
        (400, graph_error(17, message="User request limit reached"), True),
        (400, graph_error(32, message="Page request limit reached"), True),
        (400, graph_error(613, message="Calls to this api have exceeded the rate limit."), True),
        (400, graph_error(10, 2018278, "This message is sent outside of allowed window."), False),
        (400, graph_error(100, 2018001, "No matching user found"), False),
        (400, graph_error(200, message="Permissions error"), False),
        (400, graph_error(551, 1545041, "This person isn't available right now."), False),
        (400, graph_error(190, 460, "Error validating access token"), False),
    ],
)
async def test_graph_errors_say_whether_to_retry(
    provider: FakeProvider, status: int, answer: Any, retryable: bool
) -> None:
    provider.reply(status, answer)
    async with client() as http:
        with pytest.raises(RetryableSendError if retryable else PermanentSendError) as failure:
            await adapter().send(settings_for(provider), reply(timedelta(hours=1)), http)
    assert failure.value.retryable is retryable
    assert MESSENGER["page_access_token"] not in str(failure.value)


@pytest.mark.anyio
async def test_an_expired_page_token_is_permanent_and_says_so(provider: FakeProvider) -> None:
    provider.reply(400, graph_error(190, 463, "Error validating access token: Session has expired"))
    async with client() as http:
        with pytest.raises(PermanentSendError) as failure:
            await adapter().send(settings_for(provider), reply(timedelta(hours=1)), http)
    assert failure.value.code == "190/463"
    assert "administrator must set a new one" in failure.value.reason


@pytest.mark.anyio
async def test_a_timeout_is_retryable_and_does_not_show_the_token(provider: FakeProvider) -> None:
    provider.hang()
    async with client() as http:
        with pytest.raises(RetryableSendError) as failure:
            await adapter().send(settings_for(provider), reply(timedelta(hours=1)), http)
    assert failure.value.code == "timeout"
    assert MESSENGER["page_access_token"] not in str(failure.value)
    assert len(provider.requests) == 1


@pytest.mark.anyio
async def test_an_unreachable_graph_api_is_retryable() -> None:
    closed = FakeProvider().start()
    closed.stop()  # nothing listens on its port any more
    async with client() as http:
        with pytest.raises(RetryableSendError) as failure:
            await adapter().send(settings_for(closed), reply(timedelta(hours=1)), http)
    assert failure.value.code == "network"
