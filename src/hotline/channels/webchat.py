"""The web chat: the hotline's own widget on a ward's or the province's site (docs/channels.md,
"Web chat").

There is no provider: the widget calls the hotline's public chat routes, authenticated by a
visitor token this module signs. A reply is "delivered" by becoming readable to the visitor
(their thread and live stream show an outgoing message only once it is `sent`), so `send`
has nothing to call and is its own idempotent confirmation.

Keys: the channel's `secret` proves an embedding site's identity claims,
HMAC-SHA256(secret, identifier), as CHANNELS.md states for the app and the widget. Visitor
tokens are signed with a key derived from it under a label no identifier can spell (labels
hold a newline, identifiers may not), so an identity HMAC the site hands out is never a
token signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from hotline.channels.adapter import HttpClient, Inbound, Outgoing, Sent
from hotline.contacts.phones import normalise_phone
from hotline.errors import InvalidInput
from hotline.messages import msg

TOKEN_PREFIX = "wc1"
TOKEN_TTL_SECONDS = 180 * 24 * 3600
_TOKEN_LABEL = b"hotline webchat\nvisitor token v1"
IDENTIFIER_MAX = 100
MAX_ORIGINS = 50
_IDENTIFIER = re.compile(r"[^\x00-\x1f\x7f]{1,100}")
_ORIGIN = re.compile(r"https?://[a-z0-9.\-\[\]:]+", re.IGNORECASE)


def origins(settings: Mapping[str, Any]) -> list[str]:
    """The channel's allowed origins, normalised (a list, or one string of them separated by
    spaces or commas)."""
    raw = settings.get("allowed_origins") or []
    items = re.split(r"[\s,]+", raw) if isinstance(raw, str) else list(raw)
    return [normalise_origin(str(o)) for o in items if str(o).strip()]


def normalise_origin(origin: str) -> str:
    """`https://Example.gov.vn:443/` -> `https://example.gov.vn` (what a browser sends)."""
    origin = origin.strip().rstrip("/")
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return origin.lower()
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    shown = "" if port is None or port == default else f":{port}"
    return f"{parts.scheme.lower()}://{host}{shown}"


def origin_allowed(settings: Mapping[str, Any], origin: str | None) -> bool:
    return bool(origin) and normalise_origin(origin or "") in origins(settings)


def _key(settings: Mapping[str, Any]) -> bytes:
    secret = str(settings.get("secret") or "").encode()
    return hmac.new(secret, _TOKEN_LABEL, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Visitor:
    """Who a token speaks for: a conversation's `external_user_id` on its channel, and the
    phone number their identity proves, if the site's identifier is one."""

    channel_id: int
    user_id: str
    phone: str | None = None


def sign_token(settings: Mapping[str, Any], channel_id: int, user_id: str, now: float) -> str:
    body = _b64(
        json.dumps({"c": channel_id, "u": user_id, "t": int(now)}, separators=(",", ":")).encode()
    )
    mac = hmac.new(_key(settings), f"{TOKEN_PREFIX}.{body}".encode(), hashlib.sha256).digest()
    return f"{TOKEN_PREFIX}.{body}.{_b64(mac)}"


class BadToken(ValueError):
    """Not a token of this channel's key (forged, damaged, expired, or the key changed)."""


class OtherChannel(ValueError):
    """A genuine token, of another channel's visitor."""


def read_token(settings: Mapping[str, Any], channel_id: int, token: str, now: float) -> str:
    """The visitor's user id in a token this channel signed (BadToken, OtherChannel)."""
    prefix, _, rest = token.partition(".")
    body, _, mac = rest.partition(".")
    if prefix != TOKEN_PREFIX or not body or not mac or len(token) > 1000:
        raise BadToken("malformed")
    try:
        given = _unb64(mac)
        data = json.loads(_unb64(body))
    except (ValueError, binascii.Error):
        raise BadToken("malformed") from None
    wanted = hmac.new(_key(settings), f"{prefix}.{body}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(given, wanted):
        # A token of another channel is signed with that channel's key: only its claim says
        # which, and an unsigned claim is no proof. Told apart only to answer 404, as for
        # any object that is not the caller's.
        if isinstance(data, dict) and data.get("c") != channel_id:
            raise OtherChannel("another channel")
        raise BadToken("signature")
    if not isinstance(data, dict) or not isinstance(data.get("u"), str):
        raise BadToken("malformed")
    if data.get("c") != channel_id:
        raise OtherChannel("another channel")
    issued = data.get("t")
    if not isinstance(issued, int) or issued > now + 300 or now - issued > TOKEN_TTL_SECONDS:
        raise BadToken("expired")
    return str(data["u"])


def anonymous_user(visitor_id: str) -> str:
    return f"v:{visitor_id}"


def identified_user(channel_id: int, identifier: str) -> str:
    # Scoped by channel: two sites may number their users alike, and each proves its own.
    return f"id:{channel_id}:{identifier}"


def identity_proven(settings: Mapping[str, Any], identifier: str, proof: str) -> bool:
    """Whether `proof` is HMAC-SHA256(secret, identifier), in hex (constant-time compare)."""
    secret = str(settings.get("secret") or "").encode()
    wanted = hmac.new(secret, identifier.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(proof.strip().lower().encode(), wanted.encode())


def check_identifier(identifier: str) -> str:
    identifier = identifier.strip()
    if not _IDENTIFIER.fullmatch(identifier):
        raise InvalidInput(
            msg("Mã người dùng từ 1 đến {n} ký tự, không có ký tự điều khiển", n=IDENTIFIER_MAX),
            field="identifier",
        )
    return identifier


def phone_of(user_id: str) -> str | None:
    """The E.164 number an identified visitor's identifier is, if it is one: the site vouched
    for it with the channel's secret, so it links the visitor to that number's contact."""
    if not user_id.startswith("id:"):
        return None
    identifier = user_id.split(":", 2)[2]
    if not re.fullmatch(r"\+?[\d .\-]{9,16}", identifier):
        return None
    try:
        return normalise_phone(re.sub(r"[ .\-]", "", identifier))
    except InvalidInput:
        return None


class WebchatAdapter:
    kind: ClassVar[str] = "webchat"
    required: ClassVar[frozenset[str]] = frozenset({"secret", "allowed_origins"})
    secrets: ClassVar[frozenset[str]] = frozenset({"secret"})
    # Sending is making the reply readable in the visitor's thread: doing it twice is once.
    idempotent_send: ClassVar[bool] = True
    reply_window: ClassVar[None] = None

    def verify(self, settings: Mapping[str, Any], headers: Mapping[str, str], body: bytes) -> bool:
        # No provider calls /hooks/ for a web chat: the widget has routes of its own.
        return False

    def read(self, settings: Mapping[str, Any], body: bytes) -> Sequence[Inbound]:
        return ()

    async def send(self, settings: Mapping[str, Any], message: Outgoing, http: HttpClient) -> Sent:
        """Nothing to call: the outbox marking the reply `sent`, in the transaction that
        records this answer, is what shows it to the visitor (and wakes their stream)."""
        return Sent(provider_id=f"webchat:{message.idempotency_key}")

    def validate(self, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if len(str(settings.get("secret") or "")) < 16:
            problems.append(("secret", msg("Khóa bí mật cần ít nhất 16 ký tự")))
        raw = settings.get("allowed_origins")
        items = re.split(r"[\s,]+", raw) if isinstance(raw, str) else list(raw or [])
        items = [str(o).strip() for o in items if str(o).strip()]
        if not items or len(items) > MAX_ORIGINS:
            problems.append(
                (
                    "allowed_origins",
                    msg("Cần từ 1 đến {n} nguồn (origin) được nhúng", n=MAX_ORIGINS),
                )
            )
        for item in items:
            if not _ORIGIN.fullmatch(item.rstrip("/")):
                problems.append(
                    (
                        "allowed_origins",
                        msg(
                            "Nguồn không hợp lệ: {origin} (dạng https://ten-mien, không đường dẫn)",
                            origin=item,
                        ),
                    )
                )
        for name in ("title", "welcome_text"):
            value = settings.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > 500):
                problems.append((name, msg("Tối đa 500 ký tự")))
        return problems


def token_now() -> float:
    return time.time()


ADAPTER = WebchatAdapter()
