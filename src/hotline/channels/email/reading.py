"""One raw e-mail (RFC 5322 bytes, as IMAP gives it) read into one `Inbound`.

The stdlib parser with `email.policy.default` decodes RFC 2047 words (Vietnamese names and
subjects in UTF-8 Q or B encoding), charsets and transfer encodings. What it leaves to us:
raw 8-bit UTF-8 in address headers (it keeps those bytes as surrogates), malformed headers
(read defensively: a broken Date or Message-ID must not lose the message), the loop signals
of RFC 3834, and plain text out of an HTML-only message.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from typing import Any

from hotline.channels.adapter import Inbound, InboundAttachment, InboundKind
from hotline.channels.email.html_text import html_to_text

_MSGID = re.compile(r"<([^<>\s]+)>")
_BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}
_BULK_PRECEDENCE = {"bulk", "list", "junk"}


def _unsurrogate(text: str) -> str:
    """Raw UTF-8 bytes in a header come back from the parser as surrogate escapes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _header(message: Message, name: str) -> str | None:
    """A header's decoded value, or None when absent or unreadable."""
    try:
        value = message.get(name)
    except Exception:  # the header registry raises on some malformed values
        return None
    if value is None:
        return None
    return _unsurrogate(str(value)).strip()


def message_ids(value: str | None) -> list[str]:
    """The `<id>`s of a Message-ID, In-Reply-To or References header, in header order."""
    if not value:
        return []
    return [f"<{found}>" for found in _MSGID.findall(value)]


def normalise_message_id(value: str | None) -> str | None:
    """One message id in its stored form, `<left@right>`; a bare id gets its brackets."""
    found = message_ids(value)
    if found:
        return found[0]
    bare = "".join((value or "").split())
    return f"<{bare}>" if bare else None


def event_id(raw: bytes, message: Message) -> str:
    """The Message-ID, or a hash of the exact bytes for a message without one: the same raw
    message fetched twice gets the same key either way."""
    found = normalise_message_id(_header(message, "Message-ID"))
    return found or "sha256:" + hashlib.sha256(raw).hexdigest()


def _sender(message: Message) -> tuple[str, str | None] | None:
    for name in ("From", "Sender", "Return-Path"):
        try:
            header: Any = message.get(name)
            addresses = getattr(header, "addresses", ()) if header is not None else ()
        except Exception:
            continue
        for address in addresses:
            if isinstance(address, Address) and address.addr_spec and "@" in address.addr_spec:
                display = _unsurrogate(address.display_name).strip() or None
                return _unsurrogate(address.addr_spec).strip().lower(), display
    return None


def automatic_reasons(message: Message) -> list[str]:
    """Why this message was sent by a machine (RFC 3834 and the common loop headers); empty for
    a person's message. The channel stores such messages but never acknowledges them or
    opens a case from them, which is what stops two auto-responders answering each other."""
    reasons = []
    auto = _header(message, "Auto-Submitted")
    if auto is not None and auto.split("(")[0].strip().lower() not in {"", "no"}:
        reasons.append("auto-submitted")
    autoreply = _header(message, "X-Autoreply")
    if autoreply is not None and autoreply.lower() == "yes":
        reasons.append("x-autoreply")
    precedence = _header(message, "Precedence")
    if precedence is not None and precedence.lower() in _BULK_PRECEDENCE:
        reasons.append("precedence")
    if message.get("X-Loop") is not None:
        reasons.append("x-loop")
    if message.get("List-Unsubscribe") is not None or message.get("List-Id") is not None:
        reasons.append("list")
    if message.get_content_type() == "multipart/report":
        reasons.append("report")
    return_path = _header(message, "Return-Path")
    if return_path is not None and return_path.replace(" ", "") == "<>":
        reasons.append("null-sender")
    sender = _sender(message)
    if sender is not None and sender[0].partition("@")[0] in _BOUNCE_SENDERS:
        reasons.append("bounce-sender")
    return reasons


def _content(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, ValueError, AssertionError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


# A quoted earlier message at the end of a reply: the attribution line clients write above it
# ("On ... wrote:", "Vào ... đã viết:") and the lines starting with ">".
_ATTRIBUTION = re.compile(r"(wrote|viết|a écrit|schrieb)\s*:\s*$", re.IGNORECASE)


def trim_quoted(text: str) -> str:
    """The text without the quoted earlier message at its end; only that trailing quote is
    cut (a reply written between quoted lines keeps everything), and never the whole text."""
    lines = text.rstrip().splitlines()
    end = len(lines)
    while end > 0 and (lines[end - 1].startswith(">") or not lines[end - 1].strip()):
        end -= 1
    if end == len(lines):
        return text.strip()
    # The attribution may wrap over two lines ("On Tue, ... <a@b>\nwrote:").
    for back in (1, 2):
        if end - back >= 0 and _ATTRIBUTION.search(" ".join(lines[end - back : end])):
            end -= back
            break
    kept = "\n".join(lines[:end]).strip()
    return kept or text.strip()


def _attachment_kind(content_type: str) -> str:
    main = content_type.partition("/")[0]
    return main if main in {"image", "video", "audio"} else "file"


def _attachments(message: EmailMessage, body: Message | None) -> list[InboundAttachment]:
    found = []
    for part in message.walk():
        if part is body or part.is_multipart():
            continue
        content_type = part.get_content_type()
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if content_type in {"text/plain", "text/html"} and disposition != "attachment":
            continue  # the other alternative of the body, or a signature block
        if content_type == "message/rfc822":
            inner = part.get_payload()
            inner_message = inner[0] if isinstance(inner, list) and inner else None
            data = inner_message.as_bytes() if isinstance(inner_message, Message) else b""
            filename = filename or "message.eml"
        else:
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
        if not data:
            continue
        found.append(
            InboundAttachment(
                kind=_attachment_kind(content_type),
                name=_unsurrogate(filename) if filename else None,
                content_type=content_type,
                data=data,
            )
        )
    return found


def _sent_at(message: Message) -> datetime | None:
    try:
        header: Any = message.get("Date")
        value = getattr(header, "datetime", None) if header is not None else None
    except Exception:
        return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def read_message(
    raw: bytes, *, own_address: str | None = None, trim: bool = True
) -> Inbound | None:
    """The message as one Inbound, or None when it names no sender to answer. A message
    from the mailbox's own address (a copy of our reply) reads as an echo."""
    message = parse(raw)
    sender = _sender(message)
    if sender is None:
        return None
    address, display_name = sender

    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        text = _content(body)
        if body.get_content_type() == "text/html":
            text = html_to_text(text)
    text = text.replace("\r\n", "\n").strip()
    if trim:
        text = trim_quoted(text)

    refs = message_ids(_header(message, "In-Reply-To"))
    for ref in reversed(message_ids(_header(message, "References"))):
        if ref not in refs:
            refs.append(ref)

    own = (own_address or "").strip().lower()
    return Inbound(
        kind=InboundKind.ECHO if own and address == own else InboundKind.MESSAGE,
        event_id=event_id(raw, message),
        user_id=address,
        user_name=display_name,
        text=text,
        attachments=tuple(_attachments(message, body)),
        sent_at=_sent_at(message),
        subject=_header(message, "Subject") or None,
        thread_refs=tuple(refs),
        automatic=bool(automatic_reasons(message)),
    )
