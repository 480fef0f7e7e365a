"""Replies over SMTP: the message built from an `Outgoing`, sent with aiosmtplib, and each
SMTP failure sorted into retry or give up.

SMTP has no idempotency key, so the outbox's key becomes the Message-ID: a reply sent again
after a crash carries the same Message-ID, which the citizen's mail client and most servers
treat as the same message, and the conversation still threads on it.
"""

from __future__ import annotations

import hashlib
import re
import ssl
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from hotline.channels.adapter import Outgoing, PermanentSendError, RetryableSendError, Sent
from hotline.channels.email.config import MailboxSettings
from hotline.channels.email.reading import message_ids, normalise_message_id
from hotline.channels.email.threads import case_codes

DEFAULT_SUBJECT = "Đường dây nóng 1022"
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|tr|trả lời)\s*:", re.IGNORECASE)
_MAX_REFERENCES = 20  # RFC 5322 lets References grow; keep the first and the latest


def message_id_for(idempotency_key: str, domain: str) -> str:
    """Our Message-ID for one outbox row: the same key gives the same id, every time."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    return f"<hotline.{digest}@{domain}>"


def reply_subject(subject: str | None, text: str) -> str:
    """`Re: <subject>` and the case code in brackets when the reply or subject names one and
    the subject does not show it yet: a citizen's answer to it then finds the case."""
    base = " ".join((subject or "").split()) or DEFAULT_SUBJECT
    if subject and not _REPLY_PREFIX.match(base):
        base = f"Re: {base}"
    shown = set(case_codes(base))
    for code in case_codes(text):
        if code not in shown:
            base = f"{base} [{code}]"
            break
    return base


def _references(message: Outgoing) -> list[str]:
    refs: list[str] = []
    for value in (*message.thread_refs, message.reply_to):
        found: list[str | None] = [*message_ids(value)] or [normalise_message_id(value)]
        refs += [ref for ref in found if ref and ref not in refs]
    if len(refs) > _MAX_REFERENCES:
        refs = [refs[0], *refs[-(_MAX_REFERENCES - 1) :]]
    return refs


def build_reply(
    mailbox: MailboxSettings, message: Outgoing, *, now: datetime | None = None
) -> EmailMessage:
    """The reply as it goes on the wire (UTF-8, threading headers, RFC 3834 marks)."""
    reply = EmailMessage()
    username, _, domain = mailbox.address.partition("@")
    reply["From"] = Address(mailbox.display_name or "", username, domain)
    reply["To"] = message.user_id
    reply["Subject"] = reply_subject(message.subject, message.text)
    reply["Date"] = format_datetime(now or datetime.now(UTC))
    reply["Message-ID"] = message_id_for(message.idempotency_key, mailbox.domain)
    in_reply_to = normalise_message_id(message.reply_to)
    if in_reply_to:
        reply["In-Reply-To"] = in_reply_to
    references = _references(message)
    if references:
        reply["References"] = " ".join(references)
    if message.automatic:
        # RFC 3834: a machine's answer. Auto-responders (vacation, ticket systems) must not
        # answer it; Exchange reads the second header for the same purpose.
        reply["Auto-Submitted"] = "auto-replied"
        reply["X-Auto-Response-Suppress"] = "All"
    reply.set_content(message.text, charset="utf-8")
    return reply


def _smtp_code(error: aiosmtplib.SMTPException) -> int | None:
    code = getattr(error, "code", None)
    if isinstance(code, int):
        return code
    refused = getattr(error, "recipients", None)
    if refused:
        codes = [getattr(one, "code", None) for one in refused]
        known = [one for one in codes if isinstance(one, int)]
        return max(known) if known else None
    return None


def classify(error: BaseException) -> RetryableSendError | PermanentSendError:
    """4xx, connection trouble and timeouts may pass: retry. 5xx will not: give up."""
    if isinstance(error, aiosmtplib.SMTPException):
        code = _smtp_code(error)
        reason = getattr(error, "message", None) or str(error) or type(error).__name__
        if code is not None and 500 <= code < 600:
            return PermanentSendError(f"SMTP {code}: {reason}", code=str(code))
        if code is not None and 400 <= code < 500:
            return RetryableSendError(f"SMTP {code}: {reason}", code=str(code))
        if isinstance(error, aiosmtplib.SMTPNotSupported):
            # e.g. STARTTLS asked of a server without it: settings to fix, not a moment to wait.
            return PermanentSendError(f"SMTP: {reason}", code="not-supported")
        return RetryableSendError(f"SMTP: {reason}", code="connection")
    if isinstance(error, ssl.SSLCertVerificationError):
        return PermanentSendError(f"SMTP TLS: {error.verify_message}", code="tls")
    return RetryableSendError(f"SMTP: {type(error).__name__}: {error}", code="connection")


async def send_reply(mailbox: MailboxSettings, message: Outgoing) -> Sent:
    """Deliver one reply; raises RetryableSendError or PermanentSendError."""
    reply = build_reply(mailbox, message)
    message_id = str(reply["Message-ID"])
    try:
        await aiosmtplib.send(
            reply,
            sender=mailbox.address,
            recipients=[message.user_id],
            hostname=mailbox.smtp_host,
            port=mailbox.smtp_port,
            username=mailbox.smtp_username,
            password=mailbox.smtp_password,
            use_tls=mailbox.smtp_security == "ssl",
            start_tls=mailbox.smtp_security == "starttls",
            tls_context=mailbox.tls_context() if mailbox.smtp_security != "none" else None,
            timeout=mailbox.timeout,
        )
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        raise classify(error) from error
    return Sent(provider_id=message_id)
