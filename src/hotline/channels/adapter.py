"""What every channel adapter does, and nothing more: check a provider's request, read its
events into one shape, send a text.

Adapters speak the provider's protocol and touch no database: the channel service stores what
they read (deduplicated on `Inbound.event_id`, in the request's transaction) and the outbox
calls `send` from the worker. Keeping them pure lets each provider's documented payloads be
replayed against them byte for byte, and lets a new provider be added without touching the
inbox.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol

import aiohttp

# The HTTP client the adapters call providers with: aiohttp's, whose C parser and lean
# request path cost a fraction of httpx's CPU per send (see docs/channels.md, "Sending").
# Adapters pass `allow_redirects=False` (a provider answer is never a redirect to follow)
# and their message's timeout (`timeout_for`).
HttpClient = aiohttp.ClientSession
# The request never reached the provider: it is safe to send again.
NOT_SENT: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
)
# No answer came (a timeout, a dropped connection, a broken body): whether the request
# reached the provider is unknown. Includes NOT_SENT.
NO_ANSWER: tuple[type[BaseException], ...] = (aiohttp.ClientError, TimeoutError)


class InboundKind(enum.StrEnum):
    MESSAGE = "message"  # a citizen wrote
    ECHO = "echo"  # the account itself sent this (from our outbox or the provider's own tool)
    FOLLOW = "follow"  # subscribed / followed / started a conversation
    UNFOLLOW = "unfollow"


@dataclass(frozen=True)
class InboundAttachment:
    kind: str  # "image", "video", "audio", "file"
    url: str | None = None  # messengers give a link to fetch
    name: str | None = None
    content_type: str | None = None
    data: bytes | None = None  # e-mail carries the bytes


@dataclass(frozen=True)
class Inbound:
    """One provider event, read. `event_id` is the provider's own unique id (Zalo `msg_id`,
    Messenger `mid`, Viber `message_token`, e-mail Message-ID, gateway message id): the
    deduplication key together with the channel."""

    kind: InboundKind
    event_id: str
    user_id: str  # the citizen on this channel: Zalo user id, PSID, Viber id, address, E.164
    user_name: str | None = None
    text: str = ""
    attachments: tuple[InboundAttachment, ...] = ()
    location: tuple[float, float] | None = None  # latitude, longitude
    sent_at: datetime | None = None
    subject: str | None = None  # e-mail
    # E-mail threading: In-Reply-To first, then References, newest first.
    thread_refs: tuple[str, ...] = ()
    # Sent by a machine (auto-reply, bulk, list, loop header): stored, never acknowledged,
    # never opens a case (RFC 3834).
    automatic: bool = False
    # E.164 numbers the sender is proven to own (a web chat identity the embedding site
    # signed): they link the citizen to that number's contact as a number they wrote does.
    phones: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outgoing:
    """A reply to send. `idempotency_key` is the outbox row's key: an adapter passes it on
    where the provider accepts one, so a send retried after a crash is not delivered twice."""

    idempotency_key: str
    user_id: str
    text: str
    reply_to: str | None = None  # the provider id of the message answered, when it helps
    last_inbound_at: datetime | None = None  # for reply windows (Zalo 7 days, Messenger 24 h)
    subject: str | None = None  # e-mail
    thread_refs: tuple[str, ...] = ()  # e-mail References of the conversation, oldest first
    # An automatic acknowledgement rather than an operator's reply: e-mail marks it
    # `Auto-Submitted: auto-replied` (RFC 3834) so the citizen's auto-responder stays quiet.
    automatic: bool = False
    # This send's timeout (the channel's `send_timeout`): the worker's one HTTP client is
    # shared by every channel, so an adapter passes it with its request.
    timeout: aiohttp.ClientTimeout | None = None

    def timeout_for(self, http: HttpClient) -> aiohttp.ClientTimeout:
        return self.timeout or http.timeout


@dataclass(frozen=True)
class Sent:
    provider_id: str | None = None  # the provider's id for what was sent (drops its echo)
    details: Mapping[str, Any] = field(default_factory=dict)  # e.g. SMS segment count


class SendError(Exception):
    """A reply that was not delivered. `retryable` says whether trying again may help
    (timeouts, 5xx, rate limits) or never will (bad recipient, window closed)."""

    retryable: ClassVar[bool] = False

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class RetryableSendError(SendError):
    retryable = True


class PermanentSendError(SendError):
    retryable = False


class SendInDoubt(RetryableSendError):
    """The request may have reached the provider but no answer came (a read timeout, a
    dropped connection): it may or may not have been delivered. The outbox resends it only
    when that cannot make a double (channels/outbox.py)."""


class TokenExpired(RetryableSendError):
    """The access token is no longer valid: refresh (under the channel's lock), then retry."""


@dataclass(frozen=True)
class HookReply:
    """An answer the adapter gives a provider's request itself, before (or instead of)
    reading events: a GET verification (Messenger's `hub.challenge`) or a handshake body
    (Viber's `{"event":"webhook"}`). Nothing is stored for it."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"


class Adapter(Protocol):
    """One provider. `settings` is the channel's stored settings, secrets included."""

    kind: ClassVar[str]  # "zalo", "messenger", "viber", "email", "sms", "webchat"
    required: ClassVar[frozenset[str]]  # settings a channel of this kind must have
    secrets: ClassVar[frozenset[str]]  # settings never logged, never returned by the API
    # Whether the provider itself drops a second send with the same `idempotency_key`: then a
    # send whose outcome is unknown (timeout after the request went out, worker stopped
    # mid-send) is simply sent again. Otherwise the outbox waits for the send's echo first
    # (channels/outbox.py).
    idempotent_send: ClassVar[bool]
    # How long after the citizen's last message a reply may be sent (Zalo 7 days,
    # Messenger 24 hours); None: no window.
    reply_window: ClassVar[timedelta | None]

    def verify(self, settings: Mapping[str, Any], headers: Mapping[str, str], body: bytes) -> bool:
        """Whether the raw request body was signed by the provider (constant-time compare)."""
        ...

    def read(self, settings: Mapping[str, Any], body: bytes) -> Sequence[Inbound]:
        """The events of one verified request (or one raw e-mail); unknown events are skipped."""
        ...

    async def send(self, settings: Mapping[str, Any], message: Outgoing, http: HttpClient) -> Sent:
        """Deliver one reply or raise a SendError saying whether to retry."""
        ...


# Optional parts of an adapter: the channel service looks them up with getattr, so an adapter
# that needs none of them defines none.


class Handshake(Protocol):
    def handshake(
        self,
        settings: Mapping[str, Any],
        method: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> HookReply | None:
        """A reply to a request that is no event (GET verification, a handshake body), or
        None to go on: `verify` then `read`. Called before `verify` for GET requests and
        after it for POSTs, so a handshake body is still checked when the provider signs it."""
        ...


class Refreshes(Protocol):
    async def refresh(self, settings: Mapping[str, Any], http: HttpClient) -> Mapping[str, Any]:
        """New credentials after `TokenExpired` (e.g. a new access and refresh token pair),
        merged into the channel's settings under the channel's lock before the retry."""
        ...


class RegistersWebhook(Protocol):
    async def register_webhook(
        self, settings: Mapping[str, Any], url: str, http: HttpClient
    ) -> Mapping[str, Any]:
        """Point the provider at `url` (the channel's hook), for providers without a console
        for it (Viber); raises a SendError with the provider's reason when refused."""
        ...


class Pulls(Protocol):
    # True: the hotline fetches this provider's messages itself (e-mail over IMAP, read by
    # the worker); its channels' `/hooks` answer 405 to every request.
    pulls: ClassVar[bool]


class Validates(Protocol):
    def validate(self, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(setting, problem) for settings present but unusable, beyond `required`."""
        ...
