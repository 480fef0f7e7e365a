"""SMS gateway: the signed contract both ways, stale requests refused, senders in E.164, and the
GSM-7 / UCS-2 segment counts of Vietnamese texts."""

from __future__ import annotations

import hashlib
import hmac
import math
import unicodedata
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.channels.adapter import InboundKind, Outgoing, PermanentSendError, RetryableSendError
from hotline.channels.sms import SmsAdapter, segments
from tests.channels.helpers import SMS, FakeProvider, client, payload, signature_headers

NOW = 1_750_000_030.0

# GSM 03.38, written out here from the standard rather than taken from the adapter.
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"


def adapter(now: float = NOW) -> SmsAdapter:
    return SmsAdapter(clock=lambda: now)


# -- inbound ---------------------------------------------------------------------------------


def test_a_message_is_read_with_the_sender_in_e164() -> None:
    [event] = adapter().read(SMS, payload("sms", "inbound"))
    assert event.kind == InboundKind.MESSAGE
    assert event.event_id == "gw-7f3a9c21"
    assert event.user_id == "+84912345678"
    assert event.text == "Đường Láng ngập sâu 40cm, xe máy không đi được"
    assert event.sent_at == datetime(2025, 6, 15, 15, 6, 40, tzinfo=UTC)


def test_a_batch_is_read_and_a_named_sender_kept_as_it_came() -> None:
    first, second = adapter().read(SMS, payload("sms", "batch"))
    assert (first.event_id, first.user_id) == ("gw-7f3a9c22", "+84987654321")
    assert first.sent_at == datetime(2025, 6, 15, 8, 6, 40, tzinfo=UTC)
    assert (second.event_id, second.user_id) == ("gw-7f3a9c23", "VIETTEL")


def test_items_without_an_id_or_a_sender_are_skipped() -> None:
    body = b'[{"from":"0912345678","text":"x"},{"id":"a","text":"y"},"z"]'
    assert adapter().read(SMS, body) == []


@pytest.mark.parametrize("name", ["inbound", "batch"])
def test_a_signed_fresh_request_verifies(name: str) -> None:
    body = payload("sms", name)
    assert adapter().verify(SMS, signature_headers("sms", SMS, body, now=NOW - 10), body)


def test_a_body_changed_by_one_byte_or_another_timestamp_fails() -> None:
    body = payload("sms", "inbound")
    headers = signature_headers("sms", SMS, body, now=NOW)
    assert not adapter().verify(SMS, headers, body.replace(b"0912345678", b"0912345679"))
    moved = {**headers, "X-Hotline-Timestamp": str(int(NOW) - 1)}
    assert not adapter().verify(SMS, moved, body)


@pytest.mark.parametrize("skew", [-301, 301, 86_400])
def test_stale_or_future_timestamps_are_refused(skew: int) -> None:
    body = payload("sms", "inbound")
    headers = signature_headers("sms", SMS, body, now=NOW - skew)
    assert not adapter().verify(SMS, headers, body)


def test_the_allowed_skew_is_configurable() -> None:
    body = payload("sms", "inbound")
    headers = signature_headers("sms", SMS, body, now=NOW - 400)
    assert not adapter().verify(SMS, headers, body)
    assert adapter().verify({**SMS, "max_skew_seconds": 600}, headers, body)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hotline-Timestamp": str(int(NOW))},
        {"X-Hotline-Timestamp": "soon", "X-Hotline-Signature": "00"},
    ],
)
def test_missing_or_malformed_headers_fail(headers: dict[str, str]) -> None:
    assert not adapter().verify(SMS, headers, payload("sms", "inbound"))


# -- outbound --------------------------------------------------------------------------------

REPLY = Outgoing(
    idempotency_key="outbox-41",
    user_id="+84912345678",
    text="Tổng đài 1022: phản ánh HS-000123 đã chuyển UBND phường Láng.",
)


def settings_for(fake: FakeProvider, **more: Any) -> dict[str, Any]:
    return {**SMS, "api_base": fake.url + "/api", **more}


@pytest.mark.anyio
async def test_a_reply_is_posted_signed_with_the_idempotency_key(provider: FakeProvider) -> None:
    provider.reply(202, {"id": "gw-out-9"})
    async with client() as http:
        sent = await adapter().send(settings_for(provider), REPLY, http)
    assert sent.provider_id == "gw-out-9"
    assert sent.details == {"encoding": "UCS-2", "segments": 1}
    [request] = provider.requests
    assert request.path == "/api/messages"
    assert request.json() == {"to": "+84912345678", "text": REPLY.text, "id": "outbox-41"}
    stamp = request.headers["x-hotline-timestamp"]
    assert stamp == str(int(NOW))
    expected = hmac.new(
        SMS["secret"].encode(), stamp.encode() + b"." + request.body, hashlib.sha256
    )
    assert request.headers["x-hotline-signature"] == expected.hexdigest()
    # The gateway can check a reply with the very code that checks inbound requests.
    assert adapter().verify(SMS, request.headers, request.body)


@pytest.mark.anyio
async def test_a_gsm7_gateway_gets_the_text_without_diacritics(provider: FakeProvider) -> None:
    async with client() as http:
        sent = await adapter().send(
            settings_for(provider, gsm7_only=True, send_path="/sms/send"), REPLY, http
        )
    [request] = provider.requests
    assert request.path == "/api/sms/send"
    assert request.json()["text"] == "Tong dai 1022: phan anh HS-000123 da chuyen UBND phuong Lang."
    assert sent.details == {"encoding": "GSM-7", "segments": 1}
    assert sent.provider_id == "outbox-41"  # the gateway answered without an id of its own


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (503, True), (429, True), (400, False), (401, False), (422, False)],
)
async def test_gateway_errors_say_whether_to_retry(
    provider: FakeProvider, status: int, retryable: bool
) -> None:
    provider.reply(status, {"error": "nope"})
    async with client() as http:
        with pytest.raises(RetryableSendError if retryable else PermanentSendError) as failure:
            await adapter().send(settings_for(provider), REPLY, http)
    assert failure.value.code == str(status)
    assert SMS["secret"] not in str(failure.value)


@pytest.mark.anyio
async def test_a_gateway_that_does_not_answer_is_retryable(provider: FakeProvider) -> None:
    provider.hang()
    async with client() as http:
        with pytest.raises(RetryableSendError) as failure:
            await adapter().send(settings_for(provider), REPLY, http)
    assert failure.value.code == "timeout"


# -- segments --------------------------------------------------------------------------------

LONG_VI = (
    "Tổng đài 1022 xin thông báo: phản ánh của ông/bà về việc ngập úng tại ngõ 5 phố Láng Hạ "
    "đã được chuyển tới UBND phường Láng để xử lý. Mã tra cứu HS-2025-000123. Trân trọng."
)


def test_vietnamese_counts_in_ucs2_and_in_gsm7_without_diacritics() -> None:
    assert len(LONG_VI) == 172
    assert segments(LONG_VI) == ("UCS-2", 3, LONG_VI)  # 172 units: 67 + 67 + 38
    encoding, parts, text = segments(LONG_VI, gsm7_only=True)
    assert (encoding, parts) == ("GSM-7", 2)  # 172 septets: 153 + 19
    assert text.startswith("Tong dai 1022 xin thong bao: phan anh cua ong/ba ve viec ngap ung")
    assert "Tran trong." in text and len(text) == 172
    assert segments("Đ đ Ư ư Ơ ơ Ă ă Â â Ê ê Ô ô", True).text == "D d U u O o A a A a E e O o"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        ("a" * 159 + "€", ("GSM-7", 2)),  # the euro sign takes two septets
        ("a" * 158 + "€", ("GSM-7", 1)),
        ("a" * 152 + "€" + "a" * 152, ("GSM-7", 3)),  # an escape pair is never split
        ("ă" * 70, ("UCS-2", 1)),
        ("ă" * 71, ("UCS-2", 2)),
        ("ă" * 134, ("UCS-2", 2)),
        ("ă" * 135, ("UCS-2", 3)),
        ("😀" * 35, ("UCS-2", 1)),  # two UTF-16 units each
        ("😀" * 36, ("UCS-2", 2)),
        ("", ("GSM-7", 1)),
    ],
)
def test_segment_boundaries(text: str, expected: tuple[str, int]) -> None:
    encoding, parts, sent = segments(text)
    assert (encoding, parts) == expected
    assert sent == text


def test_decomposed_vietnamese_is_sent_composed() -> None:
    # Some keyboards (macOS, some Android ones) type a base letter and its marks apart: sent as
    # they are, these 65 letters would take 90 UCS-2 units: two parts instead of one.
    composed = "Đường ngập ở phường Láng Hạ, quận Đống Đa, Hà Nội; xin hỗ trợ gấp"
    decomposed = unicodedata.normalize("NFD", composed)
    assert len(decomposed) == 90
    assert segments(decomposed) == ("UCS-2", 1, composed)
    assert (
        segments(decomposed, True).text
        == "Duong ngap o phuong Lang Ha, quan Dong Da, Ha Noi; xin ho tro gap"
    )


def test_typography_and_symbols_become_plain_gsm7() -> None:
    assert segments("“Cảm ơn” – hẹn gặp lại… 😀", True).text == '"Cam on" - hen gap lai... ?'


VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)
ALPHABET = VIETNAMESE + VIETNAMESE.upper() + GSM_BASIC + GSM_EXTENSION + "“”‘’–—…\t😀🇻🇳中"


def true_minimum(units: int, single: int, part: int) -> int:
    return 1 if units <= single else math.ceil(units / part)


@given(st.text(alphabet=ALPHABET, max_size=400), st.booleans())
def test_counts_are_never_below_the_true_minimum(text: str, gsm7_only: bool) -> None:
    encoding, parts, sent = segments(text, gsm7_only)
    if encoding == "GSM-7":
        assert all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in sent)
        units = sum(2 if ch in GSM_EXTENSION else 1 for ch in sent)
        single, part = 160, 153
    else:
        assert not gsm7_only
        units = len(sent.encode("utf-16-le")) // 2
        single, part = 70, 67
    assert parts >= true_minimum(units, single, part)
    # Keeping pairs whole wastes at most one unit a part.
    assert parts <= max(1, math.ceil(units / (part - 1)))
    if not gsm7_only:
        assert sent == unicodedata.normalize("NFC", text)


@given(st.text(alphabet=ALPHABET, max_size=400))
def test_gsm7_only_sends_only_gsm7_characters(text: str) -> None:
    encoding, _, sent = segments(text, gsm7_only=True)
    assert encoding == "GSM-7"
    assert all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in sent)
    assert not any(ch in sent for ch in "đĐăâêôơưĂÂÊÔƠƯ")
