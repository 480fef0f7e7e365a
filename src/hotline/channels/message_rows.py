"""A message's row and what goes with it: stored once per (channel, event id), the
conversation's times, the live event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels.models import Channel, Conversation, Message
from hotline.db import dialect_name, insert_for
from hotline.events import DomainEvent, record_event


async def seen(session: AsyncSession, channel: Channel, event_id: str) -> bool:
    return (
        await session.scalar(
            select(Message.id).where(Message.channel_id == channel.id, Message.event_id == event_id)
        )
    ) is not None


async def insert_message(
    session: AsyncSession, conversation: Conversation, values: dict
) -> int | None:
    """The message row, unless this (channel, event id) is already stored."""
    return await session.scalar(
        insert_for(dialect_name(session))(Message)
        .values(conversation_id=conversation.id, channel_id=conversation.channel_id, **values)
        .on_conflict_do_nothing(index_elements=["channel_id", "event_id"])
        .returning(Message.id)
    )


def touch(conversation: Conversation, at: datetime, *, inbound: bool) -> None:
    if conversation.last_message_at is None or at > conversation.last_message_at:
        conversation.last_message_at = at
    if inbound and (conversation.last_inbound_at is None or at > conversation.last_inbound_at):
        conversation.last_inbound_at = at


def message_event(
    session: AsyncSession, conversation: Conversation, message_id: int, kind: str
) -> None:
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
