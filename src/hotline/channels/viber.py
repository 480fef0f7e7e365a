"""Viber bot (REST API): webhook registration, signed callbacks, messages and subscription
events, replies, and the one welcome message Viber accepts in the answer to
`conversation_started` (given by `handshake`, after the signature is checked)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import aiohttp

from hotline.channels.adapter import (
    NO_ANSWER,
    HookReply,
    HttpClient,
    Inbound,
    InboundAttachment,
    InboundKind,
    Outgoing,
    PermanentSendError,
    RetryableSendError,
    SendError,
    Sent,
)

DEFAULT_API_BASE = "https://chatapi.viber.com"
# The callbacks a bot asks for when it registers its webhook (`message` always comes).
EVENT_TYPES = ("subscribed", "unsubscribed", "conversation_started", "delivered", "seen", "failed")
_MEDIA = {"picture": "image", "video": "video", "file": "file"}
_SENDER_NAME_MAX = 28  # Viber's limit for sender.name

# Viber's status codes (developers.viber.com/docs/api/rest-bot-api/#error-codes) that no retry
# fixes: the receiver, the account or the request is wrong. Every other non-zero status, that
# is 12 tooManyRequests and the unnamed generalError, is tried again.
_PERMANENT = {
    1: "invalidUrl",
    2: "invalidAuthToken",
    3: "badData",
    4: "missingData",
    5: "receiverNotRegistered",
    6: "receiverNotSubscribed",
    7: "publicAccountBlocked",
    8: "publicAccountNotFound",
    9: "publicAccountSuspended",
    10: "webhookNotSet",
    11: "receiverNoSuitableDevice",
    13: "apiVersionNotSupported",
    14: "incompatibleWithVersion",
    15: "publicAccountNotAuthorized",
    16: "inchatReplyMessageNotAllowed",
    17: "publicAccountIsNotInline",
    18: "noPublicChat",
    19: "cannotSendBroadcast",
    20: "broadcastNotAllowed",
    21: "unsupportedCountry",
    22: "paymentUnsupported",
    23: "freeMessagesExceeded",
    24: "noBalance",
}
_RETRYABLE = {12: "tooManyRequests"}


class ViberAdapter:
    kind: ClassVar[str] = "viber"
    required: ClassVar[frozenset[str]] = frozenset({"auth_token", "sender_name"})
    optional: ClassVar[frozenset[str]] = frozenset({"api_base", "welcome_text"})
    secrets: ClassVar[frozenset[str]] = frozenset({"auth_token"})
    idempotent_send: ClassVar[bool] = False  # send_message takes no key
    reply_window: ClassVar[timedelta | None] = None  # a subscriber may be written to any time

    # -- inbound ---------------------------------------------------------------------------

    def verify(self, settings: Mapping[str, Any], headers: Mapping[str, str], body: bytes) -> bool:
        """`X-Viber-Content-Signature: <hex HMAC-SHA256(auth_token, raw body)>`, no prefix."""
        token = str(settings.get("auth_token") or "")
        given = _header(headers, "x-viber-content-signature")
        if not token or not given:
            return False
        expected = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given.strip().lower(), expected)

    def read(self, settings: Mapping[str, Any], body: bytes) -> Sequence[Inbound]:
        """A `message`, or a subscription event; the `webhook` check and delivery receipts
        (`delivered`, `seen`, `failed`) give nothing to store."""
        event = _parse(body)
        if event is None:
            return []
        name = event.get("event")
        token = event.get("message_token")
        if token is None or isinstance(token, bool):
            return []
        sent_at = _timestamp(event.get("timestamp"))
        if name == "message":
            sender = event.get("sender") or {}
            message = event.get("message") or {}
            if (
                not isinstance(sender, dict)
                or not isinstance(message, dict)
                or not sender.get("id")
            ):
                return []
            return [
                _message(str(token), str(sender["id"]), _name(sender.get("name")), message, sent_at)
            ]
        # `conversation_started` is a chat opened, not a subscription ("subscribed": false):
        # nothing to store; `handshake` answers it with the welcome.
        if name == "subscribed":
            user = event.get("user") or {}
            if not isinstance(user, dict) or not user.get("id"):
                return []
            # The event's name keeps a subscription apart from a message of the same token.
            return [
                Inbound(
                    kind=InboundKind.FOLLOW,
                    event_id=f"{name}:{token}",
                    user_id=str(user["id"]),
                    user_name=_name(user.get("name")),
                    sent_at=sent_at,
                )
            ]
        if name == "unsubscribed" and event.get("user_id"):
            return [
                Inbound(
                    kind=InboundKind.UNFOLLOW,
                    event_id=f"unsubscribed:{token}",
                    user_id=str(event["user_id"]),
                    sent_at=sent_at,
                )
            ]
        return []

    def handshake(
        self,
        settings: Mapping[str, Any],
        method: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> HookReply | None:
        """The answer to a verified callback that is no event to store: the `webhook` check
        of `set_webhook` (200), and `conversation_started` with the channel's welcome
        message as the body when it has one. Other callbacks: None, to be read."""
        if method != "POST":
            return None
        event = _parse(body)
        name = event.get("event") if event is not None else None
        if name == "webhook":
            return HookReply(200, b'{"ok":true}', "application/json")
        if name != "conversation_started":
            return None
        welcome = str(settings.get("welcome_text") or "").strip()
        if not welcome:
            return HookReply(200, b"", "application/json")
        answer = {"sender": _sender(settings), "type": "text", "text": welcome}
        return HookReply(200, json.dumps(answer, ensure_ascii=False).encode(), "application/json")

    # -- outbound --------------------------------------------------------------------------

    async def register_webhook(
        self, settings: Mapping[str, Any], url: str, http: HttpClient
    ) -> Mapping[str, Any]:
        """Point the bot at `url` (`/pa/set_webhook`). Viber checks it at once with a signed
        `{"event":"webhook"}` POST, which the hook must answer 200 before this returns.
        Raises a SendError (reason and Viber's status name) when Viber refuses."""
        body = {
            "url": url,
            "event_types": list(EVENT_TYPES),
            "send_name": True,
            "send_photo": False,
        }
        return await _call(settings, "/pa/set_webhook", body, http)

    async def send(self, settings: Mapping[str, Any], message: Outgoing, http: HttpClient) -> Sent:
        """Send a text with `/pa/send_message`; status 0 is delivered to Viber."""
        body = {
            "receiver": message.user_id,
            "type": "text",
            "text": message.text,
            "sender": _sender(settings),
        }
        answer = await _call(settings, "/pa/send_message", body, http, message.timeout_for(http))
        token = answer.get("message_token")
        return Sent(provider_id=None if token is None else str(token))


async def _call(
    settings: Mapping[str, Any],
    path: str,
    body: Mapping[str, Any],
    http: HttpClient,
    timeout: aiohttp.ClientTimeout | None = None,
) -> Mapping[str, Any]:
    api_base = str(settings.get("api_base") or DEFAULT_API_BASE).rstrip("/")
    try:
        async with http.post(
            api_base + path,
            headers={
                "X-Viber-Auth-Token": str(settings["auth_token"]),
                "Content-Type": "application/json",
            },
            timeout=timeout or http.timeout,
            data=json.dumps(body, ensure_ascii=False).encode(),
            allow_redirects=False,
        ) as response:
            http_status, raw = response.status, await response.read()
    except TimeoutError:
        raise RetryableSendError("Viber did not answer in time", code="timeout") from None
    except NO_ANSWER as exc:
        raise RetryableSendError(
            f"Viber could not be reached ({type(exc).__name__})", code="network"
        ) from None
    if http_status >= 500 or http_status == 429:
        raise RetryableSendError(f"Viber failed (HTTP {http_status})", code="http")
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = None
    if not 200 <= http_status < 300 or not isinstance(answer, dict):
        raise PermanentSendError(f"Viber refused the request (HTTP {http_status})", code="http")
    status = answer.get("status")
    if status == 0:
        return answer
    raise _status_error(status, str(answer.get("status_message") or ""))


def _status_error(status: Any, text: str) -> SendError:
    if isinstance(status, int) and status in _PERMANENT:
        name = _PERMANENT[status]
        return PermanentSendError(f"Viber refused the message: {name} ({text})", code=name)
    name = _RETRYABLE.get(status, "generalError") if isinstance(status, int) else "generalError"
    return RetryableSendError(f"Viber could not take the message: {name} ({text})", code=name)


def _message(
    token: str, user_id: str, user_name: str | None, message: Mapping[str, Any], sent_at: Any
) -> Inbound:
    kind = message.get("type")
    text = str(message.get("text") or "")
    attachments: tuple[InboundAttachment, ...] = ()
    location: tuple[float, float] | None = None
    if kind in _MEDIA and message.get("media"):
        attachments = (
            InboundAttachment(
                kind=_MEDIA[str(kind)],
                url=str(message["media"]),
                name=str(message["file_name"]) if message.get("file_name") else None,
            ),
        )
    elif kind == "contact":
        contact = message.get("contact") or {}
        if isinstance(contact, dict):
            shared = " ".join(
                str(contact[key]) for key in ("name", "phone_number") if contact.get(key)
            )
            text = f"{text}\n{shared}".strip() if text else shared
    elif kind == "url" and message.get("media"):
        text = text or str(message["media"])
    # Not only a `location` message: Viber's documented message callback carries a place
    # on a `text` one too (creators.viber.com, "User Message Received").
    place = message.get("location")
    if isinstance(place, dict):
        try:
            location = (float(place["lat"]), float(place["lon"]))
        except (KeyError, TypeError, ValueError):
            location = None
    return Inbound(
        kind=InboundKind.MESSAGE,
        event_id=token,
        user_id=user_id,
        user_name=user_name,
        text=text,
        attachments=attachments,
        location=location,
        sent_at=sent_at,
    )


def _sender(settings: Mapping[str, Any]) -> dict[str, str]:
    return {"name": str(settings.get("sender_name") or "")[:_SENDER_NAME_MAX]}


def _parse(body: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(body)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = {k.lower(): v for k, v in headers.items()}.get(name)
    return value


def _name(value: Any) -> str | None:
    return str(value) if value else None


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    return None


ADAPTER = ViberAdapter()
