"""What a provider reports besides a citizen's message: the account's own sends (echoes)
and follows / unfollows.

An echo of a reply whose send already recorded the provider's id is dropped as ours. Any
other echo confirms a reply with its text in the conversation whose send may have
delivered it without our knowing (`sending`; in doubt; `queued` for a retry after an error
that came after delivery), or else is a message from the provider's own tool, shown as
such. One such reply is the common case: the echo confirms it, at once. With two or more
(the same words sent twice) the echo confirms only one it can belong to: while one of them
still waits for its answer, the echo may be that one's, which will then record its own
id, so the echo is placed later (`ECHO_LATER`, after the sends' answer window), the others
held back from a resend meanwhile; by then each send has its outcome. An echo that
confirmed a reply whose own answer then shows it was another send's is placed again
(`place_again`, from step 3 in sender.py).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels.adapter import Inbound, InboundAttachment, InboundKind
from hotline.channels.citizens import clean_text, open_conversation
from hotline.channels.message_rows import insert_message, message_event, seen, touch
from hotline.channels.models import (
    AWAITING_ECHO,
    IN_DOUBT,
    Channel,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
)
from hotline.channels.outbox import Misplaced, answer_window
from hotline.channels.registry import CASE_CHANNEL
from hotline.contacts.models import ContactIdentity
from hotline.db import utcnow
from hotline.jobs.service import enqueue

ECHO_LATER = "channel_echo"


async def _ours(session: AsyncSession, channel_id: int, event_id: str) -> bool:
    found = await session.scalar(
        select(Message.id).where(
            Message.channel_id == channel_id,
            Message.direction == Direction.OUT,
            Message.provider_id == event_id,
        )
    )
    return found is not None


def _unconfirmed(conversation_id: int, text: str, event_id: str) -> Select[Message]:
    """The replies with this text whose send may have delivered it without our knowing,
    oldest first, locked; and the one that recorded this echo's id, if any. Read together:
    a step 3 that commits between the first look for ours and this statement (or that this
    statement waits for) shows here, so the echo is never taken for another reply's or the
    tool's."""
    maybe = (
        (Message.status == MessageStatus.SENDING)
        | ((Message.status == MessageStatus.QUEUED) & (Message.attempts > 0))
        | ((Message.status == MessageStatus.FAILED) & (Message.error.like(f"{IN_DOUBT}:%")))
    )
    return (
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.OUT,
            (Message.provider_id.is_(None) & (Message.text == text) & maybe)
            | (Message.provider_id == event_id),
        )
        .order_by(Message.id)
        .with_for_update()
    )


def _in_flight(message: Message, now: datetime, channel: Channel) -> bool:
    """Its last send's answer may still come: step 3 will record its own outcome."""
    return (
        message.status == MessageStatus.SENDING
        and message.error in (None, AWAITING_ECHO)
        and message.attempted_at is not None
        and message.attempted_at > now - answer_window(channel.settings)
    )


def _confirm(
    session: AsyncSession,
    conversation: Conversation,
    message: Message,
    event_id: str,
    at: datetime | None,
) -> None:
    message.status = MessageStatus.SENT
    message.provider_id = event_id
    message.sent_at = at or utcnow()
    message.error = None
    message_event(session, conversation, message.id, "out")


async def store_echo(session: AsyncSession, channel: Channel, event: Inbound) -> int:
    """What the account itself sent: our own send is dropped (and confirms a send whose
    outcome was unknown); a message from the provider's own tool joins the conversation."""
    if await _ours(session, channel.id, event.event_id) or await seen(
        session, channel, event.event_id
    ):
        return 0
    text = clean_text(event.text)
    conversation = await open_conversation(session, channel, event.user_id, None)
    for replied_in in (conversation, await _closed_last(session, channel, event.user_id)):
        if replied_in is None:
            continue
        found = (
            await session.scalars(_unconfirmed(replied_in.id, text, event.event_id).limit(2))
        ).all()
        if any(m.provider_id == event.event_id for m in found):
            return 0  # its own send's step 3 recorded it meanwhile
        if len(found) == 1:  # the common case: no other reply it could be
            _confirm(session, replied_in, found[0], event.event_id, event.sent_at)
            await session.flush()
            return 1
        if found:
            return await _among_several(session, channel, replied_in, event, text)
    if conversation is None:
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
    return await _from_the_tool(session, conversation, event)


async def _closed_last(
    session: AsyncSession, channel: Channel, user_id: str
) -> Conversation | None:
    """The citizen's conversation on the channel closed last: an operator commonly answers
    and closes at once, so the reply's echo comes after its conversation was closed (and
    maybe after the citizen opened a new one). Looked up only when the open conversation
    holds no reply the echo could confirm."""
    return await session.scalar(
        select(Conversation)
        .where(
            Conversation.channel_id == channel.id,
            Conversation.external_user_id == user_id,
            Conversation.status != ConversationStatus.OPEN,
        )
        .order_by(Conversation.id.desc())
        .limit(1)
    )


async def _among_several(
    session: AsyncSession,
    channel: Channel,
    conversation: Conversation,
    event: Inbound,
    text: str,
) -> int:
    """Two or more replies with the echo's text, unconfirmed: with every send's outcome
    known, the oldest is confirmed (which one does not matter: the same words were
    delivered); while one still waits for its answer, the echo is placed later."""
    rows = (await session.scalars(_unconfirmed(conversation.id, text, event.event_id))).all()
    if any(m.provider_id == event.event_id for m in rows):
        return 0
    now = utcnow()
    flying = [m for m in rows if _in_flight(m, now, channel)]
    if not flying:
        _confirm(session, conversation, rows[0], event.event_id, event.sent_at)
        await session.flush()
        return 1
    for message in rows:
        if message in flying:
            message.error = AWAITING_ECHO  # a retryable error leaves it in doubt (outbox.py)
        elif message.status != MessageStatus.FAILED:
            # Not resent before the echo is placed: in doubt, its grace counted from now.
            if not (message.error or "").startswith(IN_DOUBT):
                message.error = f"{IN_DOUBT}: {message.error or ''}".rstrip()
            message.status = MessageStatus.SENDING
            message.attempted_at = now
    await _later(
        session, channel.id, conversation.id, event, now, now + answer_window(channel.settings)
    )
    await session.flush()
    return 0


async def _later(
    session: AsyncSession,
    channel_id: int,
    conversation_id: int,
    event: Inbound,
    before: datetime,
    run_at: datetime,
    *,
    taken_by: int | None = None,
    own_id: str | None = None,
) -> None:
    """The `ECHO_LATER` job placing the echo at `run_at`; keyed on the channel and echo id
    (a provider's repeated webhook never defers it twice) and, when a reply's step 3 gave
    it back, on that reply."""
    # Hashed: a provider's id can be longer than a job key (e-mail Message-IDs).
    digest = hashlib.sha1(event.event_id.encode(), usedforsecurity=False).hexdigest()
    key = f"{ECHO_LATER}:{channel_id}:{digest}"
    await enqueue(
        session,
        kind=ECHO_LATER,
        key=key if taken_by is None else f"{key}:{taken_by}",
        run_at=run_at,
        payload={
            "channel_id": channel_id,
            "conversation_id": conversation_id,
            "event_id": event.event_id,
            "user_id": event.user_id,
            "text": event.text,
            "attachments": [[a.kind, a.url] for a in event.attachments],
            "sent_at": event.sent_at.isoformat() if event.sent_at else None,
            "before": before.isoformat(),
            "own_id": own_id,
        },
    )


async def place_again(session: AsyncSession, wrong: Misplaced) -> None:
    """Queue the placing of an echo that a reply's own answer gave back (step 3)."""
    message = wrong.message
    now = utcnow()
    event = Inbound(
        kind=InboundKind.ECHO,
        event_id=wrong.echo_id,
        user_id="",
        text=message.text,
        sent_at=wrong.echo_at,
    )
    await _later(
        session,
        message.channel_id,
        message.conversation_id,
        event,
        now,
        now,
        taken_by=message.id,
        own_id=wrong.own_id,
    )


async def place_echo(session: AsyncSession, payload: dict[str, Any]) -> None:
    """The `ECHO_LATER` job: the echo is dropped if a send recorded its id meanwhile; else
    it confirms a reply it can belong to (one whose send has its outcome first), or joins
    the conversation as the provider's own tool's message."""
    channel = await session.get(Channel, int(payload["channel_id"]))
    conversation = await session.get(Conversation, int(payload["conversation_id"]))
    event_id = str(payload["event_id"])
    if channel is None or conversation is None:
        return
    if await _ours(session, channel.id, event_id) or await seen(session, channel, event_id):
        return
    own_id = payload.get("own_id")
    if own_id:
        # The reply that had taken this echo was accepted as `own_id`: if that one's echo
        # was shown as the provider's own tool's meanwhile, it is this echo's row.
        shown = await session.scalar(
            select(Message)
            .where(
                Message.channel_id == channel.id,
                Message.event_id == own_id,
                Message.source == "provider",
            )
            .with_for_update()
        )
        if shown is not None:
            shown.event_id = shown.provider_id = event_id
            await session.flush()
            return
    sent_at = datetime.fromisoformat(payload["sent_at"]) if payload.get("sent_at") else None
    event = Inbound(
        kind=InboundKind.ECHO,
        event_id=event_id,
        user_id=str(payload.get("user_id") or conversation.external_user_id),
        text=str(payload.get("text") or ""),
        attachments=tuple(
            InboundAttachment(kind=str(kind), url=url)
            for kind, url in payload.get("attachments") or []
        ),
        sent_at=sent_at,
    )
    before = datetime.fromisoformat(payload["before"])
    rows = (
        await session.scalars(
            _unconfirmed(conversation.id, clean_text(event.text), event_id).where(
                # A send begun after the echo came is not its source.
                (Message.attempted_at <= before) | (Message.provider_id == event_id)
            )
        )
    ).all()
    if any(m.provider_id == event_id for m in rows):
        return
    if rows:
        now = utcnow()
        done = [m for m in rows if not _in_flight(m, now, channel)]
        _confirm(session, conversation, (done or rows)[0], event_id, sent_at)
        await session.flush()
        return
    await _from_the_tool(session, conversation, event)


async def _from_the_tool(session: AsyncSession, conversation: Conversation, event: Inbound) -> int:
    """An echo of a message written in the provider's own tool: shown as sent from there."""
    at = event.sent_at or utcnow()
    message_id = await insert_message(
        session,
        conversation,
        {
            "direction": Direction.OUT,
            "kind": event.attachments[0].kind if event.attachments else "text",
            "text": clean_text(event.text),
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
    touch(conversation, at, inbound=False)
    message_event(session, conversation, message_id, "out")
    await session.flush()
    return 1


async def store_follow(session: AsyncSession, channel: Channel, event: Inbound) -> int:
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
    message_id = await insert_message(
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
    message_event(session, conversation, message_id, "in")
    await session.flush()
    return 1
