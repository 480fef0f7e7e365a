"""A provider's webhook in: verified, read, stored once per event, joined to one inbox.

Every event of a request is stored in the request's transaction under UNIQUE(channel,
event_id) with `INSERT ... ON CONFLICT DO NOTHING`, together with the contact, identity and
conversation it creates, so a redelivered event (however many at once) changes nothing and
still answers 200. Who wrote (identity, contact card, numbers, open conversation) is
citizens.py; a message's row message_rows.py; echoes and follows echoes.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels.adapter import HookReply, Inbound, InboundKind
from hotline.channels.citizens import (
    clean_text,
    identity_for,
    leave_staff,
    open_conversation,
    phones_of,
    unit_numbers,
    written_numbers,
)
from hotline.channels.echoes import store_echo, store_follow
from hotline.channels.files import (
    KeepFile,
    describe,
    keep_attachments,
    queue_fetch_files,
    wants_fetch,
)
from hotline.channels.inbound import queue_message_in
from hotline.channels.mailthreads import find_thread, threaded
from hotline.channels.message_rows import insert_message, message_event, seen, touch
from hotline.channels.models import Audience, Channel, Direction, MessageStatus
from hotline.channels.registry import adapter_for
from hotline.db import utcnow
from hotline.errors import DomainError, InvalidInput, NotAllowed, NotFound
from hotline.messages import msg


class MethodNotAllowed(DomainError):
    status = 405
    title = msg("Phương thức không được hỗ trợ")


@dataclass(frozen=True)
class HookResult:
    reply: HookReply
    stored: int = 0  # events stored (repeats are not)


# What a provider gets for a request handled (stored or a repeat).
OK = HookReply(200, b'{"ok":true}', "application/json")


async def _channel(session: AsyncSession, channel_id: int) -> Channel:
    channel = await session.get(Channel, channel_id)
    if channel is None or not channel.enabled:
        raise NotFound(msg("Không có kênh {id}", id=channel_id), field="channel_id")
    return channel


async def receive(
    session: AsyncSession,
    *,
    channel_id: int,
    method: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> HookResult:
    """One provider request: a handshake answered, or its events verified and stored.

    A bad signature stores nothing (NotAllowed, 403); an unknown or disabled channel is
    NotFound. No user is signed in: the signature is the authentication."""
    channel = await _channel(session, channel_id)
    adapter = adapter_for(channel.kind)
    if getattr(adapter, "pulls", False):
        # E-mail: the worker reads the mailbox; nothing is ever delivered to a hook.
        raise MethodNotAllowed(msg("Kênh này không nhận dữ liệu qua webhook"))
    handshake = getattr(adapter, "handshake", None)
    if method != "POST":
        reply = handshake(channel.settings, method, query, headers, body) if handshake else None
        if reply is None:
            raise MethodNotAllowed(msg("Kênh này chỉ nhận POST"))
        return HookResult(reply)
    if not adapter.verify(channel.settings, headers, body):
        raise NotAllowed(msg("Chữ ký của yêu cầu không hợp lệ"), field="signature")
    if handshake is not None:
        reply = handshake(channel.settings, method, query, headers, body)
        if reply is not None:
            return HookResult(reply)
    try:
        events = adapter.read(channel.settings, body)
    except ValueError:
        raise InvalidInput(msg("Nội dung không đọc được"), field="body") from None
    stored = 0
    for event in events:
        stored += await store(session, channel=channel, event=event)
    return HookResult(OK, stored)


async def store(
    session: AsyncSession,
    *,
    channel: Channel,
    event: Inbound,
    read: bool = True,
    keep_file: KeepFile | None = None,
) -> int:
    """Store one read event (1), or nothing for a repeat or an echo of our own send (0).
    `read`: triage reads a citizen's text afterwards (inbound.py); a message that is part
    of a case already (a portal report's thread) is not read again. `keep_file` keeps the
    bytes of attachments that carry them (files.py)."""
    if event.kind == InboundKind.MESSAGE:
        return await _store_message(session, channel, event, read=read, keep_file=keep_file)
    if event.kind == InboundKind.ECHO:
        return await store_echo(session, channel, event)
    return await store_follow(session, channel, event)


def message_values(event: Inbound) -> dict[str, Any]:
    """The columns of a citizen's message row (both paths store the same row)."""
    return {
        "direction": Direction.IN,
        "kind": (
            "location"
            if event.location
            else (event.attachments[0].kind if event.attachments else "text")
        ),
        "text": clean_text(event.text),
        "event_id": event.event_id,
        "attachments": [describe(a) for a in event.attachments],
        "lat": event.location[0] if event.location else None,
        "long": event.location[1] if event.location else None,
        "status": MessageStatus.RECEIVED,
        # Sent by a machine (RFC 3834): shown, but never the text of a case.
        "source": "automatic" if event.automatic else "citizen",
        "automatic": event.automatic,
        "subject": clean_text(event.subject)[:998] if event.subject else None,
        "attempts": 0,
        "created_at": event.sent_at or utcnow(),
    }


def needs_reading(values: dict[str, Any]) -> bool:
    """A citizen's own text (not a machine's): triage reads it after it is stored."""
    return bool(values["text"].strip()) and not values["automatic"]


async def _store_message(
    session: AsyncSession,
    channel: Channel,
    event: Inbound,
    *,
    read: bool = True,
    keep_file: KeepFile | None = None,
) -> int:
    if await seen(session, channel, event.event_id):
        return 0
    phones = phones_of(event, await unit_numbers(session) if written_numbers(event) else ())
    identity = await identity_for(session, channel, event, phones)
    conversation, case_id = (
        await find_thread(session, channel, event) if threaded(event) else (None, None)
    )
    if conversation is None:
        conversation = await open_conversation(session, channel, event.user_id, identity.contact_id)
    assert conversation is not None
    if conversation.audience == Audience.STAFF:
        conversation = await leave_staff(session, channel, conversation, identity.contact_id)
    if case_id is not None and conversation.case_id is None and not event.automatic:
        conversation.case_id = case_id
    values = message_values(event)
    if keep_file is not None and any(a.data for a in event.attachments):
        values["attachments"] = keep_attachments(session, event, keep_file)
    at = values["created_at"]
    message_id = await insert_message(session, conversation, values)
    if message_id is None:
        return 0
    touch(conversation, at, inbound=True)
    conversation.following = True
    message_event(session, conversation, message_id, "in")
    if read and needs_reading(values):
        await queue_message_in(session, message_id=message_id)
    if wants_fetch(event):
        await queue_fetch_files(session, message_id=message_id)
    await session.flush()
    return 1
