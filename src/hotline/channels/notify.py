"""A text message to a phone number the hotline chose to write to (not a reply): through the
first enabled SMS channel's outbox, in a conversation with that number.

Staff alerts use it (staffing/alerts.py: reserve volunteers called in when the line enters
surge mode). The conversation is an ordinary one, so an answer the person texts back lands
in it, in the inbox, where operators see it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels.inbox import open_conversation
from hotline.channels.models import Channel, Message
from hotline.channels.outbox import queue_message
from hotline.contacts.phones import normalise_phone
from hotline.contacts.service import find_or_create_by_phone

SMS = "sms"


async def sms_channel(session: AsyncSession) -> Channel | None:
    """The SMS channel texts go out through: the first enabled one, or None."""
    return await session.scalar(
        select(Channel)
        .where(Channel.kind == SMS, Channel.enabled.is_(True))
        .order_by(Channel.id)
        .limit(1)
    )


async def text_phone(
    session: AsyncSession, *, phone: str, text: str, key: str, source: str, name: str = ""
) -> Message | None:
    """Queue `text` to `phone` (the send job in the caller's transaction); None when no SMS
    channel is enabled. A repeated `key` queues nothing new (the outbox's idempotency)."""
    channel = await sms_channel(session)
    if channel is None:
        return None
    e164 = normalise_phone(phone, field="phone")
    contact = await find_or_create_by_phone(session, phone=e164, name=name, field="phone")
    conversation = await open_conversation(session, channel, e164, contact.id)
    assert conversation is not None
    return await queue_message(
        session, conversation=conversation, text=text, author_id=None, source=source, key=key
    )
