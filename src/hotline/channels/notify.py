"""A text message to a phone number the hotline chose to write to (not a reply): through the
first enabled SMS channel's outbox, in a conversation with that number.

Staff alerts use it (staffing/alerts.py: reserve volunteers called in when the line enters
surge mode). The conversation is a staff one (`Audience.STAFF`), a notice out only, which the
citizen inbox does not show (`GET /api/v1/conversations?audience=staff` lists them). What
the number sends never joins it (`citizens.leave_staff` closes it and opens a citizen
conversation): anyone can sign a number up as a volunteer, so a staff text must not take
that number's messages out of the inbox or away from triage. A number already in an open citizen
conversation on the channel (a volunteer who is also writing to the line as a citizen) is not
texted: the notice stays recorded, for a supervisor to phone them.

Texting makes no citizen contact. A conversation needs a contact, so every staff
conversation hangs on one contact of its own, with no name and no phone number, found again
by its identity (`STAFF_IDENTITY`): the number texted is only the conversation's address.
An operator looking the number up finds no one (a volunteer's number would otherwise say
they had signed up), and a citizen's card that holds the number is left as it was.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels.citizens import open_conversation
from hotline.channels.models import Audience, Channel, Message
from hotline.channels.outbox import queue_message
from hotline.contacts.models import Contact, ContactIdentity
from hotline.contacts.phones import normalise_phone
from hotline.db import dialect_name, insert_for

SMS = "sms"
# The identity of the contact staff conversations hang on (channel, external id).
STAFF_IDENTITY = ("staff", "hotline-staff-texts")


async def sms_channel(session: AsyncSession) -> Channel | None:
    """The SMS channel texts go out through: the first enabled one, or None."""
    return await session.scalar(
        select(Channel)
        .where(Channel.kind == SMS, Channel.enabled.is_(True))
        .order_by(Channel.id)
        .limit(1)
    )


async def staff_contact(session: AsyncSession) -> int:
    """The id of the contact staff conversations hang on (no name, no phone), made once:
    two transactions making it at once keep one (the identity's unique key)."""
    channel, external_id = STAFF_IDENTITY
    find = select(ContactIdentity.contact_id).where(
        ContactIdentity.channel == channel, ContactIdentity.external_id == external_id
    )
    found = await session.scalar(find)
    if found is not None:
        return int(found)
    contact = Contact(name="")
    session.add(contact)
    await session.flush()
    inserted = await session.scalar(
        insert_for(dialect_name(session))(ContactIdentity)
        .values(contact_id=contact.id, channel=channel, external_id=external_id)
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        .returning(ContactIdentity.id)
    )
    if inserted is not None:
        return contact.id
    await session.delete(contact)
    found = await session.scalar(find)
    assert found is not None
    return int(found)


async def text_phone(
    session: AsyncSession, *, phone: str, text: str, key: str, source: str
) -> Message | None:
    """Queue `text` to `phone` in a staff conversation (the send job in the caller's
    transaction), without making or changing a citizen contact; None when no SMS channel
    is enabled or the number is in an open citizen conversation. A repeated `key` queues
    nothing new (the outbox's idempotency)."""
    channel = await sms_channel(session)
    if channel is None:
        return None
    e164 = normalise_phone(phone, field="phone")
    conversation = await open_conversation(
        session, channel, e164, await staff_contact(session), audience=Audience.STAFF
    )
    assert conversation is not None
    if conversation.audience != Audience.STAFF:
        return None
    return await queue_message(
        session, conversation=conversation, text=text, author_id=None, source=source, key=key
    )
