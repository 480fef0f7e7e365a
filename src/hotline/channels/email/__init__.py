"""The e-mail channel: one mailbox read over IMAP (IDLE, or polling) and answered over SMTP.

Unlike the messengers, mail is not pushed to `/hooks`: the channel worker pulls it with
`fetch_new` (and waits with `wait_for_mail`), then hands each raw message to `read`, exactly
as the hook hands a request body to another adapter's `read`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, ClassVar

from hotline.channels.adapter import HttpClient, Inbound, Outgoing, Sent
from hotline.channels.email.config import REQUIRED, SECRETS, MailboxSettings
from hotline.channels.email.mailbox import (
    FetchedMessage,
    FetchResult,
    MailboxError,
    fetch_new,
    wait_for_mail,
)
from hotline.channels.email.reading import automatic_reasons, parse, read_message
from hotline.channels.email.sending import build_reply, message_id_for, send_reply
from hotline.channels.email.threads import (
    ThreadKey,
    case_codes,
    should_acknowledge,
    thread_keys,
)


class EmailAdapter:
    kind: ClassVar[str] = "email"
    required: ClassVar[frozenset[str]] = REQUIRED
    secrets: ClassVar[frozenset[str]] = SECRETS
    # SMTP takes no idempotency key: a reply sent again keeps its Message-ID (made from the
    # key), but the server delivers it again.
    idempotent_send: ClassVar[bool] = False
    reply_window: ClassVar[timedelta | None] = None
    # Mail is pulled from the mailbox by the worker (channels/mailboxes.py): `/hooks` refuses
    # every request for this channel (405) before reading it.
    pulls: ClassVar[bool] = True

    def verify(self, settings: Mapping[str, Any], headers: Mapping[str, str], body: bytes) -> bool:
        """Mail never arrives through `/hooks`: a request there claiming to be e-mail is refused."""
        return False

    def read(self, settings: Mapping[str, Any], body: bytes) -> Sequence[Inbound]:
        """One raw RFC 5322 message as fetched from the mailbox; empty when it has no sender."""
        inbound = read_message(body, own_address=settings.get("address"))
        return [inbound] if inbound is not None else []

    async def send(self, settings: Mapping[str, Any], message: Outgoing, http: HttpClient) -> Sent:
        """Send one reply by SMTP (`http` is unused); `Sent.provider_id` is its Message-ID."""
        return await send_reply(MailboxSettings.of(settings), message)

    async def fetch_new(
        self, settings: Mapping[str, Any], state: Mapping[str, Any] | None
    ) -> FetchResult:
        return await fetch_new(settings, state)

    async def wait_for_mail(
        self,
        settings: Mapping[str, Any],
        state: Mapping[str, Any] | None,
        *,
        timeout: float | None = None,
    ) -> bool:
        return await wait_for_mail(settings, state, timeout=timeout)


ADAPTER = EmailAdapter()

__all__ = [
    "EmailAdapter",
    "FetchResult",
    "FetchedMessage",
    "MailboxError",
    "MailboxSettings",
    "ThreadKey",
    "automatic_reasons",
    "build_reply",
    "case_codes",
    "fetch_new",
    "message_id_for",
    "parse",
    "read_message",
    "should_acknowledge",
    "thread_keys",
    "wait_for_mail",
]
