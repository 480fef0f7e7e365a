"""A text message to a phone number the hotline chose to write to (not a reply): through the
first enabled SMS channel's outbox, in a conversation with that number.

Staff alerts use it (staffing/alerts.py: reserve volunteers called in when the line enters
surge mode). The conversation is a staff one (`Audience.STAFF`): the person's answer, joining
the open conversation with their number, lands in it too, and neither shows in the citizen
inbox (`GET /api/v1/conversations?audience=staff` lists them); triage (consult requests,
automatic answers) leaves them alone. A number already in an open citizen conversation on the
channel (a volunteer who is also writing to the line as a citizen) is not texted: the notice
stays recorded, for a supervisor to phone them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels.inbox import open_conversation
from hotline.channels.models import Audience, Channel, Message
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
    """Queue `text` to `phone` in a staff conversation (the send job in the caller's
    transaction); None when no SMS channel is enabled or the number is in an open citizen
    conversation. A repeated `key` queues nothing new (the outbox's idempotency)."""
    channel = await sms_channel(session)
    if channel is None:
        return None
    e164 = normalise_phone(phone, field="phone")
    contact = await find_or_create_by_phone(session, phone=e164, name=name, field="phone")
    conversation = await open_conversation(
        session, channel, e164, contact.id, audience=Audience.STAFF
    )
    assert conversation is not None
    if conversation.audience != Audience.STAFF:
        return None
    return await queue_message(
        session, conversation=conversation, text=text, author_id=None, source=source, key=key
    )
