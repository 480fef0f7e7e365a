"""Zalo Official Account (Open API v3): signed webhooks in, consultation messages out.

Protocol facts: docs/channels.md ("Zalo"). Every id and timestamp Zalo sends is a string.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from hotline.channels.adapter import (
    NO_ANSWER,
    NOT_SENT,
    HttpClient,
    Inbound,
    InboundAttachment,
    InboundKind,
    Outgoing,
    PermanentSendError,
    RetryableSendError,
    SendInDoubt,
    Sent,
    TokenExpired,
)

API_BASE = "https://openapi.zalo.me"
OAUTH_BASE = "https://oauth.zaloapp.com"
TEXT_LIMIT = 2000
# Error codes Zalo answers with HTTP 200 (docs/channels.md).
OUTSIDE_WINDOW = -230
RATE_LIMITED = -32
TOKEN_EXPIRED = frozenset({-216, -220})


def _timestamp(raw: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(raw) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _location(attachment: Mapping[str, Any]) -> tuple[float, float] | None:
    coords = (attachment.get("payload") or {}).get("coordinates") or {}
    try:
        return float(coords["latitude"]), float(coords["longitude"])
    except (KeyError, TypeError, ValueError):
        return None


# The body last parsed, with its document: `verify` needs the body's timestamp and `read`
# the rest, right after it, on the same bytes object. Kept by identity (the bytes object is
# held here, so no other body can take its id); read-only for both.
_last_parsed: tuple[object, Any] = (object(), None)


def _parsed(body: bytes) -> Any:
    global _last_parsed
    last, document = _last_parsed
    if last is not body:
        document = json.loads(body)
        _last_parsed = (body, document)
    return document


# Answers that say the request was not taken (rate limited, service unavailable): retried.
NOT_TAKEN = frozenset({429, 503})


class ZaloAdapter:
    kind: ClassVar[str] = "zalo"
    required: ClassVar[frozenset[str]] = frozenset(
        {"app_id", "oa_id", "secret_key", "access_token", "refresh_token"}
    )
    # `app_secret`: the key the token refresh sends, when it is not `secret_key`.
    secrets: ClassVar[frozenset[str]] = frozenset(
        {"secret_key", "access_token", "refresh_token", "app_secret"}
    )
    idempotent_send: ClassVar[bool] = False  # the consultation API takes no key
    reply_window: ClassVar[timedelta | None] = timedelta(days=7)

    def verify(self, settings: Mapping[str, Any], headers: Mapping[str, str], body: bytes) -> bool:
        """`X-ZEvent-Signature: mac=<sha256(app_id + raw body + timestamp + secret_key)>`,
        `timestamp` as the body spells it; a plain hash, not an HMAC."""
        # Starlette's headers match any case; a plain mapping has Zalo's own spelling.
        header = headers.get("x-zevent-signature") or headers.get("X-ZEvent-Signature") or ""
        if not header.startswith("mac="):
            return False
        try:
            document = _parsed(body)
        except ValueError:
            return False
        if not isinstance(document, dict) or not isinstance(document.get("timestamp"), str):
            return False
        secret = str(settings.get("secret_key", ""))
        if not secret:
            return False
        digest = hashlib.sha256(
            str(settings.get("app_id", "")).encode()
            + body
            + document["timestamp"].encode()
            + secret.encode()
        ).hexdigest()
        return hmac.compare_digest(header[4:].strip().lower().encode(), digest.encode())

    def read(self, settings: Mapping[str, Any], body: bytes) -> Sequence[Inbound]:
        event = _parsed(body)
        if not isinstance(event, dict):
            return []
        name = str(event.get("event_name", ""))
        at = _timestamp(event.get("timestamp"))
        if name in ("follow", "unfollow"):
            user = str((event.get("follower") or {}).get("id", ""))
            if not user:
                return []
            return [
                Inbound(
                    kind=InboundKind.FOLLOW if name == "follow" else InboundKind.UNFOLLOW,
                    # Zalo gives these events no id: the user and the instant are one.
                    event_id=f"{name}:{user}:{event.get('timestamp', '')}",
                    user_id=user,
                    sent_at=at,
                )
            ]
        if name.startswith("user_send_"):
            kind, user = InboundKind.MESSAGE, str((event.get("sender") or {}).get("id", ""))
        elif name.startswith("oa_send_"):
            kind, user = InboundKind.ECHO, str((event.get("recipient") or {}).get("id", ""))
        else:
            return []  # reactions, seen receipts, ...: not messages
        message = event.get("message") or {}
        msg_id = str(message.get("msg_id", ""))
        if not msg_id or not user:
            return []
        attachments: list[InboundAttachment] = []
        location = None
        for item in message.get("attachments") or ():
            if not isinstance(item, dict):
                continue
            if item.get("type") == "location":
                location = _location(item) or location
                continue
            payload = item.get("payload") or {}
            link, named = payload.get("url"), payload.get("name")
            attachments.append(
                InboundAttachment(
                    kind=str(item.get("type") or "file"),
                    url=str(link) if link else None,
                    # A `user_send_file` names its file (Zalo's sample events).
                    name=str(named)[:255] if named else None,
                )
            )
        return [
            Inbound(
                kind=kind,
                event_id=msg_id,
                user_id=user,
                text=str(message.get("text") or ""),
                attachments=tuple(attachments),
                location=location,
                sent_at=at,
            )
        ]

    async def send(self, settings: Mapping[str, Any], message: Outgoing, http: HttpClient) -> Sent:
        window = self.reply_window
        if (
            message.last_inbound_at
            and window
            and datetime.now(UTC) > message.last_inbound_at + window
        ):
            raise PermanentSendError(
                "ngoài thời hạn 7 ngày trả lời của Zalo", code=str(OUTSIDE_WINDOW)
            )
        if len(message.text) > TEXT_LIMIT:
            raise PermanentSendError(f"tin nhắn dài quá {TEXT_LIMIT} ký tự", code="too_long")
        url = str(settings.get("api_base") or API_BASE).rstrip("/") + "/v3.0/oa/message/cs"
        body = {"recipient": {"user_id": message.user_id}, "message": {"text": message.text}}
        try:
            async with http.post(
                url,
                data=json.dumps(body, ensure_ascii=False).encode(),
                headers={
                    "access_token": str(settings.get("access_token", "")),
                    "Content-Type": "application/json",
                },
                timeout=message.timeout_for(http),
                allow_redirects=False,
            ) as response:
                status, raw = response.status, await response.read()
        except NOT_SENT as exc:
            raise RetryableSendError(f"không kết nối được Zalo ({type(exc).__name__})") from None
        except NO_ANSWER as exc:
            # The request went out; whether Zalo delivered it is unknown.
            raise SendInDoubt(f"Zalo không trả lời kịp ({type(exc).__name__})") from None
        if status in NOT_TAKEN:
            raise RetryableSendError(f"Zalo trả lời HTTP {status}")
        if status >= 500:
            # A server error (500, or a gateway's 502/504) may come after Zalo handed the
            # message on: in doubt, confirmed by its echo, resent only after the grace.
            raise SendInDoubt(f"Zalo trả lời HTTP {status}")
        if status >= 400:
            raise PermanentSendError(f"Zalo trả lời HTTP {status}")
        try:
            answer = json.loads(raw)
        except ValueError:
            # An answer whose body is not Zalo's (a proxy's page): the message may have
            # been delivered all the same.
            raise SendInDoubt("Zalo trả lời không phải JSON") from None
        error = int(answer.get("error", 0) or 0) if isinstance(answer, dict) else 0
        detail = str(answer.get("message", "")) if isinstance(answer, dict) else ""
        if error in TOKEN_EXPIRED:
            raise TokenExpired(f"Zalo: mã truy cập hết hạn ({error})", code=str(error))
        if error == RATE_LIMITED:
            raise RetryableSendError(f"Zalo: quá giới hạn gửi ({error})", code=str(error))
        if error == OUTSIDE_WINDOW:
            raise PermanentSendError(
                "Zalo: người dân không tương tác trong 7 ngày qua", code=str(error)
            )
        if error != 0:
            raise PermanentSendError(f"Zalo: lỗi {error} {detail}".strip(), code=str(error))
        data = answer.get("data") or {}
        return Sent(provider_id=str(data.get("message_id")) if data.get("message_id") else None)

    async def refresh(self, settings: Mapping[str, Any], http: HttpClient) -> Mapping[str, Any]:
        """A new access and refresh token pair: the old refresh token is spent by this call."""
        url = str(settings.get("oauth_base") or OAUTH_BASE).rstrip("/") + "/v4/oa/access_token"
        secret = str(settings.get("app_secret") or settings.get("secret_key", ""))
        try:
            async with http.post(
                url,
                headers={"secret_key": secret},
                data={
                    "refresh_token": str(settings.get("refresh_token", "")),
                    "app_id": str(settings.get("app_id", "")),
                    "grant_type": "refresh_token",
                },
                allow_redirects=False,
            ) as response:
                status, raw = response.status, await response.read()
        except NO_ANSWER as exc:
            raise RetryableSendError(f"không làm mới được mã Zalo ({type(exc).__name__})") from None
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = {}
        if status >= 500:
            raise RetryableSendError(f"Zalo OAuth trả lời HTTP {status}")
        if not isinstance(answer, dict) or not answer.get("access_token"):
            error = answer.get("error") if isinstance(answer, dict) else None
            raise PermanentSendError(
                f"Zalo từ chối làm mới mã truy cập ({error}); cần cấp lại quyền cho OA",
                code="refresh_refused",
            )
        fresh = {"access_token": str(answer["access_token"])}
        if answer.get("refresh_token"):
            fresh["refresh_token"] = str(answer["refresh_token"])
        return fresh


ADAPTER = ZaloAdapter()
