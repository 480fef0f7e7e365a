"""What a provider reports besides a citizen's message: the account's own sends (echoes)
and follows / unfollows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels.adapter import Inbound, InboundKind
from hotline.channels.citizens import clean_text, open_conversation
from hotline.channels.message_rows import insert_message, message_event, seen, touch
from hotline.channels.models import (
    IN_DOUBT,
    Channel,
    Conversation,
    Direction,
    Message,
    MessageStatus,
)
from hotline.channels.registry import CASE_CHANNEL
from hotline.contacts.models import ContactIdentity
from hotline.db import utcnow


async def store_echo(session: AsyncSession, channel: Channel, event: Inbound) -> int:
    """What the account itself sent: our own send is dropped (and confirms a send whose
    outcome was unknown); a message from the provider's own tool joins the conversation."""
    ours = await session.scalar(
        select(Message).where(
            Message.channel_id == channel.id,
            Message.direction == Direction.OUT,
            Message.provider_id == event.event_id,
        )
    )
    if ours is not None or await seen(session, channel, event.event_id):
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
                Message.text == clean_text(event.text),
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
            message_event(session, conversation, doubtful.id, "out")
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
