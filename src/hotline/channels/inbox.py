"""A provider's webhook in: verified, read, stored once per event, joined to one inbox.

Every event of a request is stored in the request's transaction under UNIQUE(channel,
event_id) with `INSERT ... ON CONFLICT DO NOTHING`, together with the contact, identity and
conversation it creates, so a redelivered event (however many at once) changes nothing and
still answers 200.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels.adapter import HookReply, Inbound, InboundKind
from hotline.channels.files import (
    KeepFile,
    describe,
    keep_attachments,
    queue_fetch_files,
    wants_fetch,
)
from hotline.channels.inbound import queue_message_in
from hotline.channels.mailthreads import find_thread, threaded
from hotline.channels.models import (
    IN_DOUBT,
    Audience,
    Channel,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
)
from hotline.channels.registry import CASE_CHANNEL, adapter_for
from hotline.contacts.models import Contact, ContactIdentity, ContactPhone
from hotline.contacts.phones import normalise_phone
from hotline.db import dialect_name, insert_for, utcnow
from hotline.errors import DomainError, InvalidInput, NotAllowed, NotFound
from hotline.events import DomainEvent, record_event
from hotline.messages import msg

# A Vietnamese number as people type it: 0912 345 678, 0912.345.678, +84 912345678.
_PHONE = re.compile(r"(?<![\d+])(?:\+?84|0)(?:[ .\-]?\d){9,10}(?!\d)")


class MethodNotAllowed(DomainError):
    status = 405
    title = msg("Phương thức không được hỗ trợ")


@dataclass(frozen=True)
class HookResult:
    reply: HookReply
    stored: int = 0  # events stored (repeats are not)


# What a provider gets for a request handled (stored or a repeat).
OK = HookReply(200, b'{"ok":true}', "application/json")


def _clean(text: str) -> str:
    # PostgreSQL text cannot hold NUL; no message needs one.
    return text.replace("\x00", "")


def clean_name(name: str | None) -> str:
    """A citizen's name as the provider gives it, for their contact and identity."""
    return _clean(name or "")[:200]


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
        return await _store_echo(session, channel, event)
    return await _store_follow(session, channel, event)


async def _seen(session: AsyncSession, channel: Channel, event_id: str) -> bool:
    return (
        await session.scalar(
            select(Message.id).where(Message.channel_id == channel.id, Message.event_id == event_id)
        )
    ) is not None


def _phones_in(text: str) -> list[str]:
    found = []
    for raw in _PHONE.findall(text):
        try:
            found.append(normalise_phone(re.sub(r"[ .\-]", "", raw)))
        except InvalidInput:
            continue
    return list(dict.fromkeys(found))


async def _identity(
    session: AsyncSession, channel: Channel, event: Inbound, phones: list[str]
) -> ContactIdentity:
    """The citizen's identity on this channel kind, with its contact: found, or created and
    linked to the contact owning a phone number they wrote, else to a new contact."""
    kind = CASE_CHANNEL[channel.kind].value
    where = (ContactIdentity.channel == kind, ContactIdentity.external_id == event.user_id)
    identity = await session.scalar(select(ContactIdentity).where(*where))
    owner = None
    for e164 in phones:
        owner = await session.scalar(
            select(ContactPhone.contact_id).where(ContactPhone.e164 == e164)
        )
        if owner is not None:
            break
    if identity is not None:
        await _link_phones(session, identity, owner, phones)
        return identity
    created = None
    if owner is None:
        created = Contact(name=clean_name(event.user_name))
        session.add(created)
        await session.flush()
        owner = created.id
    dialect = dialect_name(session)
    inserted = await session.scalar(
        insert_for(dialect)(ContactIdentity)
        .values(
            contact_id=owner,
            channel=kind,
            external_id=event.user_id,
            display_name=clean_name(event.user_name),
        )
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        .returning(ContactIdentity.id)
    )
    if inserted is None and created is not None:
        await session.delete(created)  # another delivery created the identity meanwhile
    identity = await session.scalar(select(ContactIdentity).where(*where))
    assert identity is not None
    if created is not None and inserted is not None:
        await _link_phones(session, identity, None, phones)
    return identity


async def _link_phones(
    session: AsyncSession, identity: ContactIdentity, owner: int | None, phones: list[str]
) -> None:
    """A number written in a message: a contact known only by this identity moves to the
    contact owning that number; an unknown number is added to the identity's contact."""
    if owner is not None and owner != identity.contact_id:
        has_phone = await session.scalar(
            select(ContactPhone.e164).where(ContactPhone.contact_id == identity.contact_id)
        )
        if has_phone is None:
            await session.execute(
                update(Conversation)
                .where(Conversation.contact_id == identity.contact_id)
                .values(contact_id=owner)
            )
            identity.contact_id = owner
            await session.flush()
        return
    if owner is None and phones:
        await session.execute(
            insert_for(dialect_name(session))(ContactPhone)
            .values(e164=phones[0], contact_id=identity.contact_id)
            .on_conflict_do_nothing(index_elements=["e164"])
        )


async def open_conversation(
    session: AsyncSession,
    channel: Channel,
    user_id: str,
    contact_id: int | None,
    *,
    audience: Audience = Audience.CITIZEN,
) -> Conversation | None:
    """The open conversation with `user_id` on the channel (whatever its audience: one is
    open per person and channel), else a new one for `audience` when a contact is given."""
    where = (
        Conversation.channel_id == channel.id,
        Conversation.external_user_id == user_id,
        Conversation.status == ConversationStatus.OPEN,
    )
    conversation = await session.scalar(select(Conversation).where(*where))
    if conversation is not None or contact_id is None:
        return conversation
    now = utcnow()
    await session.execute(
        insert_for(dialect_name(session))(Conversation)
        .values(
            channel_id=channel.id,
            contact_id=contact_id,
            external_user_id=user_id,
            status=ConversationStatus.OPEN,
            audience=audience,
            following=True,
            last_message_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=["channel_id", "external_user_id"],
            # The index's own predicate, as a literal: a bound parameter here lets PostgreSQL
            # find the partial index only while it plans the statement for its value (the
            # first five runs on a connection), not in the generic plan after them.
            index_where=text("status = 'open'"),
        )
    )
    return await session.scalar(select(Conversation).where(*where))


async def _leave_staff(
    session: AsyncSession, channel: Channel, staff: Conversation, contact_id: int
) -> Conversation:
    """What a number sends never joins a staff conversation (notify.py): a staff text is a
    notice out, and who holds the number is not known (anyone can sign a number up as a
    volunteer). The staff conversation is closed and the message opens a citizen one, in the
    inbox and read by triage like any citizen's text."""
    staff.status = ConversationStatus.CLOSED
    record_event(
        session,
        DomainEvent(
            kind="conversation.updated",
            data={"conversation_id": staff.id, "channel_id": staff.channel_id, "what": "closed"},
        ),
    )
    await session.flush()
    conversation = await open_conversation(session, channel, staff.external_user_id, contact_id)
    assert conversation is not None
    return conversation


async def _insert(session: AsyncSession, conversation: Conversation, values: dict) -> int | None:
    """The message row, unless this (channel, event id) is already stored."""
    return await session.scalar(
        insert_for(dialect_name(session))(Message)
        .values(conversation_id=conversation.id, channel_id=conversation.channel_id, **values)
        .on_conflict_do_nothing(index_elements=["channel_id", "event_id"])
        .returning(Message.id)
    )


def _touch(conversation: Conversation, at: datetime, *, inbound: bool) -> None:
    if conversation.last_message_at is None or at > conversation.last_message_at:
        conversation.last_message_at = at
    if inbound and (conversation.last_inbound_at is None or at > conversation.last_inbound_at):
        conversation.last_inbound_at = at


def _event(session: AsyncSession, conversation: Conversation, message_id: int, kind: str) -> None:
    record_event(
        session,
        DomainEvent(
            kind="conversation.message",
            data={
                "conversation_id": conversation.id,
                "channel_id": conversation.channel_id,
                "message_id": message_id,
                "direction": kind,
            },
        ),
    )


def phones_of(event: Inbound) -> list[str]:
    """The numbers a message links its citizen to: proven ones, then those in its text."""
    return list(dict.fromkeys([*event.phones, *_phones_in(_clean(event.text))]))


def message_values(event: Inbound) -> dict[str, Any]:
    """The columns of a citizen's message row (both paths store the same row)."""
    return {
        "direction": Direction.IN,
        "kind": (
            "location"
            if event.location
            else (event.attachments[0].kind if event.attachments else "text")
        ),
        "text": _clean(event.text),
        "event_id": event.event_id,
        "attachments": [describe(a) for a in event.attachments],
        "lat": event.location[0] if event.location else None,
        "long": event.location[1] if event.location else None,
        "status": MessageStatus.RECEIVED,
        # Sent by a machine (RFC 3834): shown, but never the text of a case.
        "source": "automatic" if event.automatic else "citizen",
        "automatic": event.automatic,
        "subject": _clean(event.subject)[:998] if event.subject else None,
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
    if await _seen(session, channel, event.event_id):
        return 0
    phones = phones_of(event)
    identity = await _identity(session, channel, event, phones)
    conversation, case_id = (
        await find_thread(session, channel, event) if threaded(event) else (None, None)
    )
    if conversation is None:
        conversation = await open_conversation(session, channel, event.user_id, identity.contact_id)
    assert conversation is not None
    if conversation.audience == Audience.STAFF:
        conversation = await _leave_staff(session, channel, conversation, identity.contact_id)
    if case_id is not None and conversation.case_id is None and not event.automatic:
        conversation.case_id = case_id
    values = message_values(event)
    if keep_file is not None and any(a.data for a in event.attachments):
        values["attachments"] = keep_attachments(session, event, keep_file)
    at = values["created_at"]
    message_id = await _insert(session, conversation, values)
    if message_id is None:
        return 0
    _touch(conversation, at, inbound=True)
    conversation.following = True
    _event(session, conversation, message_id, "in")
    if read and needs_reading(values):
        await queue_message_in(session, message_id=message_id)
    if wants_fetch(event):
        await queue_fetch_files(session, message_id=message_id)
    await session.flush()
    return 1


async def _store_echo(session: AsyncSession, channel: Channel, event: Inbound) -> int:
    """What the account itself sent: our own send is dropped (and confirms a send whose
    outcome was unknown); a message from the provider's own tool joins the conversation."""
    ours = await session.scalar(
        select(Message).where(
            Message.channel_id == channel.id,
            Message.direction == Direction.OUT,
            Message.provider_id == event.event_id,
        )
    )
    if ours is not None or await _seen(session, channel, event.event_id):
        return 0
    conversation = await open_conversation(session, channel, event.user_id, None)
    if conversation is not None:
        # A send in doubt (the worker stopped, or the provider did not answer in time) whose
        # echo this is: it was delivered. Matched on the text, oldest first.
        doubtful = await session.scalar(
            select(Message)
            .where(
                Message.conversation_id == conversation.id,
                Message.direction == Direction.OUT,
                Message.provider_id.is_(None),
                Message.text == _clean(event.text),
                (Message.status == MessageStatus.SENDING)
                | (
                    (Message.status == MessageStatus.FAILED) & (Message.error.like(f"{IN_DOUBT}:%"))
                ),
            )
            .order_by(Message.id)
            .limit(1)
            .with_for_update()
        )
        if doubtful is not None:
            doubtful.status = MessageStatus.SENT
            doubtful.provider_id = event.event_id
            doubtful.sent_at = event.sent_at or utcnow()
            doubtful.error = None
            _event(session, conversation, doubtful.id, "out")
            await session.flush()
            return 1
    else:
        contact = await session.scalar(
            select(ContactIdentity.contact_id).where(
                ContactIdentity.channel == CASE_CHANNEL[channel.kind].value,
                ContactIdentity.external_id == event.user_id,
            )
        )
        if contact is None:
            return 0  # sent to someone who never wrote to us: nothing to thread it to
        conversation = await open_conversation(session, channel, event.user_id, contact)
        assert conversation is not None
    at = event.sent_at or utcnow()
    message_id = await _insert(
        session,
        conversation,
        {
            "direction": Direction.OUT,
            "kind": event.attachments[0].kind if event.attachments else "text",
            "text": _clean(event.text),
            "event_id": event.event_id,
            "provider_id": event.event_id,
            "attachments": [{"kind": a.kind, "url": a.url} for a in event.attachments],
            "status": MessageStatus.SENT,
            "source": "provider",
            "attempts": 0,
            "created_at": at,
            "sent_at": at,
        },
    )
    if message_id is None:
        return 0
    _touch(conversation, at, inbound=False)
    _event(session, conversation, message_id, "out")
    await session.flush()
    return 1


async def _store_follow(session: AsyncSession, channel: Channel, event: Inbound) -> int:
    """Follow / unfollow: recorded on the citizen's conversation, if they have one (a
    follower who never wrote is not made a contact)."""
    conversation = await open_conversation(session, channel, event.user_id, None)
    if conversation is None:
        conversation = await session.scalar(
            select(Conversation)
            .where(
                Conversation.channel_id == channel.id,
                Conversation.external_user_id == event.user_id,
            )
            .order_by(Conversation.id.desc())
            .limit(1)
        )
    if conversation is None:
        return 0
    at = event.sent_at or utcnow()
    message_id = await _insert(
        session,
        conversation,
        {
            "direction": Direction.IN,
            "kind": str(event.kind),
            "text": "",
            "event_id": event.event_id,
            "attachments": [],
            "status": MessageStatus.RECEIVED,
            "source": "citizen",
            "attempts": 0,
            "created_at": at,
        },
    )
    if message_id is None:
        return 0
    conversation.following = event.kind == InboundKind.FOLLOW
    _event(session, conversation, message_id, "in")
    await session.flush()
    return 1
