"""SMS through any HTTP gateway that follows the hotline's signed contract (docs/channels.md,
"SMS gateway"): messages in as signed JSON POSTs, replies out the same way.

There is no standard SMS gateway API, so the hotline states one and a gateway (or a few lines
of glue in front of one) speaks it: HMAC-SHA256 over `timestamp + "." + raw body`, stale
timestamps refused so a captured request cannot be replayed later, the gateway's message id as
the deduplication key, and the outbox's idempotency key as the id of each reply.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, NamedTuple

from hotline.channels.adapter import (
    NO_ANSWER,
    HttpClient,
    Inbound,
    InboundKind,
    Outgoing,
    PermanentSendError,
    RetryableSendError,
    Sent,
)
from hotline.contacts.phones import normalise_phone
from hotline.errors import InvalidInput
from hotline.text import strip_marks

TIMESTAMP_HEADER = "X-Hotline-Timestamp"
SIGNATURE_HEADER = "X-Hotline-Signature"
DEFAULT_SEND_PATH = "/messages"
DEFAULT_MAX_SKEW = 300  # seconds

# GSM 03.38: the default alphabet (one septet each) and its extension table (an escape and a
# septet: two each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7 = "GSM-7"
UCS2 = "UCS-2"
# (one message alone, each part of a concatenated message): the user data header of a long
# message takes 7 septets (GSM-7) or 3 UTF-16 units (UCS-2) of each part.
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}

# What remains outside GSM-7 once the marks are gone: typography a phone keyboard or a word
# processor puts in, written the plain way.
_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\t": " ",
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2022": "-",
        "\u00b0": "o",
        "`": "'",
    }
)


class Segments(NamedTuple):
    encoding: str  # "GSM-7" or "UCS-2"
    parts: int  # SMS parts the carrier bills
    text: str  # what is sent: without diacritics when the gateway needs GSM-7


def to_gsm7(text: str) -> str:
    """Vietnamese without diacritics (đ → d), typographic quotes and dashes made plain, and
    `?` for anything else GSM-7 cannot carry."""
    plain = strip_marks(text).translate(_PLAIN)
    return "".join(ch if ch in GSM7_BASIC or ch in GSM7_EXTENSION else "?" for ch in plain)


def segments(text: str, gsm7_only: bool = False) -> Segments:
    """How a text goes out by SMS: its encoding, the number of parts and the text itself.
    Pure and cheap, for the console to show while the operator types."""
    # Composed: a letter typed as base + marks would take two or three UCS-2 units.
    text = unicodedata.normalize("NFC", text)
    if gsm7_only:
        text = to_gsm7(text)
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        return Segments(GSM7, _pack([2 if ch in GSM7_EXTENSION else 1 for ch in text], GSM7), text)
    # UCS-2 counts UTF-16 units: a character beyond the BMP (an emoji) takes two.
    return Segments(UCS2, _pack([2 if ord(ch) > 0xFFFF else 1 for ch in text], UCS2), text)


def _pack(costs: list[int], encoding: str) -> int:
    single, part = LIMITS[encoding]
    if sum(costs) <= single:
        return 1
    # An escape pair or a surrogate pair is never split across two parts.
    count, used = 1, 0
    for cost in costs:
        if used + cost > part:
            count, used = count + 1, 0
        used += cost
    return count


def minimum_segments(units: int, encoding: str) -> int:
    """The fewest parts `units` septets or UTF-16 units could ever take."""
    single, part = LIMITS[encoding]
    return 1 if units <= single else math.ceil(units / part)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `timestamp + "." + body` under the channel's secret."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class SmsAdapter:
    kind: ClassVar[str] = "sms"
    required: ClassVar[frozenset[str]] = frozenset({"secret", "api_base"})
    optional: ClassVar[frozenset[str]] = frozenset(
        {"send_path", "gsm7_only", "max_skew_seconds", "region"}
    )
    secrets: ClassVar[frozenset[str]] = frozenset({"secret"})
    # The contract (docs/channels.md) makes the gateway drop a repeat of a reply's `id`, the
    # outbox's idempotency key: a send whose outcome is unknown is simply sent again.
    idempotent_send: ClassVar[bool] = True
    reply_window: ClassVar[timedelta | None] = None
    segments = staticmethod(segments)

    def __init__(self, *, clock: Callable[[], float] | None = None) -> None:
        self._now = clock or time.time

    # -- inbound ---------------------------------------------------------------------------

    def verify(self, settings: Mapping[str, Any], headers: Mapping[str, str], body: bytes) -> bool:
        """A signature by the channel's secret over this timestamp and body, the timestamp
        within `max_skew_seconds` (default 300) of now."""
        secret = str(settings.get("secret") or "")
        stamp = _header(headers, TIMESTAMP_HEADER)
        given = _header(headers, SIGNATURE_HEADER)
        if not secret or not stamp or not given:
            return False
        try:
            sent = int(stamp)
        except ValueError:
            return False
        skew = float(settings.get("max_skew_seconds") or DEFAULT_MAX_SKEW)
        if abs(self._now() - sent) > skew:
            return False
        return hmac.compare_digest(given.strip().lower(), sign(secret, stamp, body))

    def read(self, settings: Mapping[str, Any], body: bytes) -> Sequence[Inbound]:
        """One message object, or a JSON array of them; each needs `id` and `from`."""
        try:
            payload = json.loads(body)
        except ValueError:
            return []
        items = payload if isinstance(payload, list) else [payload]
        region = str(settings.get("region") or "VN")
        events = []
        for item in items:
            if not isinstance(item, dict) or not item.get("id") or not item.get("from"):
                continue
            events.append(
                Inbound(
                    kind=InboundKind.MESSAGE,
                    event_id=str(item["id"]),
                    user_id=_sender(str(item["from"]), region),
                    text=str(item.get("text") or ""),
                    sent_at=_timestamp(item.get("timestamp")),
                )
            )
        return events

    # -- outbound --------------------------------------------------------------------------

    async def send(self, settings: Mapping[str, Any], message: Outgoing, http: HttpClient) -> Sent:
        """POST `{"to", "text", "id"}` signed like the inbound requests; the id is the
        outbox's idempotency key, so a gateway that keeps its ids never sends a reply twice."""
        plan = segments(message.text, bool(settings.get("gsm7_only")))
        body = json.dumps(
            {"to": message.user_id, "text": plan.text, "id": message.idempotency_key},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        stamp = str(int(self._now()))
        url = str(settings["api_base"]).rstrip("/") + str(
            settings.get("send_path") or DEFAULT_SEND_PATH
        )
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: sign(str(settings["secret"]), stamp, body),
        }
        try:
            async with http.post(
                url,
                data=body,
                headers=headers,
                timeout=message.timeout_for(http),
                allow_redirects=False,
            ) as response:
                status, raw = response.status, await response.read()
        except TimeoutError:
            raise RetryableSendError(
                "The SMS gateway did not answer in time", code="timeout"
            ) from None
        except NO_ANSWER as exc:
            raise RetryableSendError(
                f"The SMS gateway could not be reached ({type(exc).__name__})", code="network"
            ) from None
        if status >= 500 or status in (408, 429):
            raise RetryableSendError(f"The SMS gateway failed (HTTP {status})", code=str(status))
        if not 200 <= status < 300:
            text = raw[:800].decode("utf-8", "replace")[:200]
            raise PermanentSendError(
                f"The SMS gateway refused the message (HTTP {status}): {text}",
                code=str(status),
            )
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = {}
        gateway_id = answer.get("id") if isinstance(answer, dict) else None
        return Sent(
            provider_id=str(gateway_id or message.idempotency_key),
            details={"encoding": plan.encoding, "segments": plan.parts},
        )


def _sender(raw: str, region: str) -> str:
    # A short code or an alphanumeric sender ("VIETTEL") is no E.164 number; kept as it came
    # so the message is not lost (a reply to it will fail at the gateway, visibly).
    try:
        return normalise_phone(raw, region=region, field="from")
    except InvalidInput:
        return raw.strip()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = {k.lower(): v for k, v in headers.items()}.get(name.lower())
    return value


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


ADAPTER = SmsAdapter()
