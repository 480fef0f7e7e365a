"""Facebook Messenger (a Page): the verification handshake, signed webhooks, the Send API with
its 24-hour window and the human-agent tag.

Facebook signs the exact bytes it sends and escapes Vietnamese as `\\uXXXX` in them, so the
signature is checked over the raw body: a body parsed and serialised again no longer verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from hotline.channels.adapter import (
    NO_ANSWER,
    NOT_SENT,
    HookReply,
    HttpClient,
    Inbound,
    InboundAttachment,
    InboundKind,
    Outgoing,
    PermanentSendError,
    RetryableSendError,
    SendError,
    SendInDoubt,
    Sent,
)

DEFAULT_API_BASE = "https://graph.facebook.com/v25.0"
RESPONSE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
_MEDIA = frozenset({"image", "video", "audio", "file"})

# Graph API error codes (developers.facebook.com/docs/graph-api/guides/error-handling and the
# Messenger Platform's error codes). Temporary or throttled: trying later helps.
_RETRYABLE_CODES = frozenset(
    {
        1,  # API Unknown: "possibly a temporary issue due to downtime"
        2,  # API Service: temporary
        4,  # API Too Many Calls (application rate limit)
        17,  # API User Too Many Calls
        32,  # Page-level rate limit
        613,  # Calls to this API have exceeded the rate limit
        1200,  # Temporary send message failure
    }
)
# Never deliverable as they stand: the window closed, the person cannot be reached, the
# Page lacks the permission. Code 100 with a 2018xxx subcode is "no matching user".
_PERMANENT_CODES = frozenset({10, 100, 200, 551})
_TOKEN_CODE = 190  # OAuthException: the Page access token is invalid or expired


class MessengerAdapter:
    kind: ClassVar[str] = "messenger"
    required: ClassVar[frozenset[str]] = frozenset(
        {"page_id", "app_secret", "page_access_token", "verify_token"}
    )
    optional: ClassVar[frozenset[str]] = frozenset({"api_base"})
    secrets: ClassVar[frozenset[str]] = frozenset(
        {"app_secret", "page_access_token", "verify_token"}
    )
    idempotent_send: ClassVar[bool] = False  # the Send API takes no key; echoes confirm
    # Up to 7 days with the HUMAN_AGENT tag; the 24-hour RESPONSE window is `send`'s choice.
    reply_window: ClassVar[timedelta | None] = HUMAN_AGENT_WINDOW

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self._now = clock or (lambda: datetime.now(UTC))

    # -- inbound ---------------------------------------------------------------------------

    def handshake(
        self,
        settings: Mapping[str, Any],
        method: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> HookReply | None:
        """Facebook's `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`: the
        challenge back (200, text/plain) when the token is the channel's, 403 otherwise.
        A POST is an event: None, to go on reading it."""
        if method != "GET":
            return None
        challenge = self.challenge(settings, query)
        if challenge is None:
            return HookReply(403, b"", "text/plain; charset=utf-8")
        return HookReply(200, challenge.encode(), "text/plain; charset=utf-8")

    def challenge(self, settings: Mapping[str, Any], query: Mapping[str, str]) -> str | None:
        """The challenge to echo, or None when the request is not a subscription with the
        channel's verify token."""
        expected = str(settings.get("verify_token") or "")
        given = query.get("hub.verify_token", "")
        challenge = query.get("hub.challenge")
        if query.get("hub.mode") != "subscribe" or not expected or challenge is None:
            return None
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return None
        return challenge

    def verify(self, settings: Mapping[str, Any], headers: Mapping[str, str], body: bytes) -> bool:
        """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>`."""
        secret = str(settings.get("app_secret") or "")
        header = _header(headers, "x-hub-signature-256")
        if not secret or not header or not header.startswith("sha256="):
            return False
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(header[len("sha256=") :].strip().lower(), expected)

    def read(self, settings: Mapping[str, Any], body: bytes) -> Sequence[Inbound]:
        """Messages, echoes and postbacks of every entry, from `messaging` and `standby`
        alike; delivery and read receipts, reactions and unknown items are skipped."""
        try:
            payload = json.loads(body)
        except ValueError:
            return []
        if not isinstance(payload, dict) or payload.get("object") != "page":
            return []
        return [event for item in _items(payload) if (event := _read_item(item)) is not None]

    # -- outbound --------------------------------------------------------------------------

    async def send(self, settings: Mapping[str, Any], message: Outgoing, http: HttpClient) -> Sent:
        """Send a text: a RESPONSE inside 24 hours of the citizen's last message, tagged
        HUMAN_AGENT up to 7 days, refused without calling Facebook after that."""
        body: dict[str, Any] = {
            "recipient": {"id": message.user_id},
            "messaging_type": "RESPONSE",
            "message": {"text": message.text},
        }
        if message.last_inbound_at is not None:
            last = message.last_inbound_at
            if last.tzinfo is None:
                last = last.replace(tzinfo=UTC)
            age = self._now() - last
            if age > HUMAN_AGENT_WINDOW:
                raise PermanentSendError(
                    "Messenger allows replies only within 7 days of the citizen's last message",
                    code="window_closed",
                )
            if age > RESPONSE_WINDOW:
                body["messaging_type"] = "MESSAGE_TAG"
                body["tag"] = "HUMAN_AGENT"
        api_base = str(settings.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        url = f"{api_base}/{settings['page_id']}/messages"
        try:
            async with http.post(
                url,
                params={"access_token": settings["page_access_token"]},
                data=json.dumps(body, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json"},
                timeout=message.timeout_for(http),
                allow_redirects=False,
            ) as response:
                status, raw = response.status, await response.read()
        except NOT_SENT as exc:
            # The exception's text may carry the URL, and so the token: name the type only.
            raise RetryableSendError(
                f"Messenger could not be reached ({type(exc).__name__})", code="network"
            ) from None
        except TimeoutError:
            # The request went out and the Send API takes no idempotency key: whether
            # Facebook delivered it is unknown until the Page's echo (outbox.py).
            raise SendInDoubt("Messenger did not answer in time", code="timeout") from None
        except NO_ANSWER as exc:
            raise SendInDoubt(
                f"Messenger did not answer ({type(exc).__name__})", code="network"
            ) from None
        answer = _json(raw)
        if 200 <= status < 300:
            message_id = answer.get("message_id")
            if not message_id:
                raise PermanentSendError(
                    "Messenger answered without a message id", code=str(status)
                )
            return Sent(
                provider_id=str(message_id), details={"messaging_type": body["messaging_type"]}
            )
        raise _graph_error(status, answer)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = {k.lower(): v for k, v in headers.items()}
        value = lowered.get(name)
    return value


def _items(payload: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for entry in payload.get("entry") or ():
        if not isinstance(entry, dict):
            continue
        for key in ("messaging", "standby"):
            for item in entry.get(key) or ():
                if isinstance(item, dict):
                    yield item


def _read_item(item: Mapping[str, Any]) -> Inbound | None:
    sender = str((item.get("sender") or {}).get("id") or "")
    recipient = str((item.get("recipient") or {}).get("id") or "")
    sent_at = _timestamp(item.get("timestamp"))
    message = item.get("message")
    if isinstance(message, dict):
        mid = message.get("mid")
        if not mid:
            return None
        echo = bool(message.get("is_echo"))
        attachments: list[InboundAttachment] = []
        location: tuple[float, float] | None = None
        for attachment in message.get("attachments") or ():
            if not isinstance(attachment, dict):
                continue
            kind = attachment.get("type")
            payload = attachment.get("payload") or {}
            if kind in _MEDIA and payload.get("url"):
                attachments.append(InboundAttachment(kind=str(kind), url=str(payload["url"])))
            elif kind == "location":
                location = _coordinates(payload.get("coordinates")) or location
        return Inbound(
            kind=InboundKind.ECHO if echo else InboundKind.MESSAGE,
            event_id=str(mid),
            # An echo is the Page writing to a citizen: the citizen is its recipient.
            user_id=recipient if echo else sender,
            text=str(message.get("text") or ""),
            attachments=tuple(attachments),
            location=location,
            sent_at=sent_at,
        )
    postback = item.get("postback")
    if isinstance(postback, dict):
        # A tapped button: its title is what the citizen "said". Older postbacks carry no mid.
        key = postback.get("mid") or f"postback:{sender}:{item.get('timestamp')}"
        return Inbound(
            kind=InboundKind.MESSAGE,
            event_id=str(key),
            user_id=sender,
            text=str(postback.get("title") or postback.get("payload") or ""),
            sent_at=sent_at,
        )
    return None


def _coordinates(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, dict):
        return None
    try:
        return float(value["lat"]), float(value["long"])
    except (KeyError, TypeError, ValueError):
        return None


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    return None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _graph_error(status: int, answer: Mapping[str, Any]) -> SendError:
    error = answer.get("error")
    if not isinstance(error, dict):
        error = {}
    code = error.get("code")
    subcode = error.get("error_subcode")
    text = str(error.get("message") or f"HTTP {status}")
    label = f"{code}/{subcode}" if subcode else str(code if code is not None else status)
    if code == _TOKEN_CODE:
        # A Page token is not refreshed by a machine: an administrator pastes a new one.
        return PermanentSendError(
            f"The Page access token is invalid or expired; an administrator must set a new "
            f"one ({text})",
            code=label,
        )
    if code in _RETRYABLE_CODES or error.get("is_transient") is True:
        return RetryableSendError(f"Messenger is busy or throttling ({text})", code=label)
    if code in _PERMANENT_CODES or (isinstance(subcode, int) and 2018000 <= subcode < 2019000):
        return PermanentSendError(f"Messenger refused the message ({text})", code=label)
    if status in (429, 503):
        return RetryableSendError(f"Messenger failed ({text})", code=label)
    if status >= 500:
        # A server error naming no transient code may come after Facebook delivered the
        # message: in doubt, confirmed by the Page's echo (outbox.py).
        return SendInDoubt(f"Messenger failed ({text})", code=label)
    return PermanentSendError(f"Messenger refused the message ({text})", code=label)


ADAPTER = MessengerAdapter()
