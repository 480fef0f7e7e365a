"""The citizen behind a provider's event: their identity on the channel kind and the contact
card it belongs to, the phone numbers that link them to a card, and their open
conversation on the channel."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels.adapter import Inbound
from hotline.channels.models import Audience, Channel, Conversation, ConversationStatus
from hotline.channels.registry import CASE_CHANNEL
from hotline.contacts.models import Contact, ContactIdentity, ContactPhone
from hotline.contacts.phones import normalise_phone
from hotline.db import dialect_name, insert_for, utcnow
from hotline.directory.models import Unit
from hotline.errors import InvalidInput
from hotline.events import DomainEvent, record_event
from hotline.text import tidy, without_hidden

# A Vietnamese number as people type it: 0912 345 678, 0912.345.678, +84 912345678,
# 84912345678, and 0084 912 345 678 as it is dialled from abroad.
_PHONE = re.compile(r"(?<![\d+])(?:(?:\+|00)?84|0)(?:[ .\-]?\d){9,10}(?!\d)")


def clean_text(text: str) -> str:
    # PostgreSQL text cannot hold NUL; no message needs one.
    return text.replace("\x00", "")


def clean_name(name: str | None) -> str:
    """A citizen's name as the provider gives it, for their contact and identity: control
    and format characters (a bidi override, a zero-width space) taken out, not refused, so
    that their message is never lost for it; spacing tidied."""
    return tidy(without_hidden(name or ""))[:200]


def _phones_in(text: str) -> list[str]:
    found = []
    for raw in _PHONE.findall(text):
        try:
            found.append(normalise_phone(re.sub(r"[ .\-]", "", raw)))
        except InvalidInput:
            continue
    return list(dict.fromkeys(found))


def phones_of(event: Inbound, units: Iterable[str | None] = ()) -> list[str]:
    """The numbers a message links its citizen to: proven ones, then those in its text
    that are not one of `units`' (the units' numbers as staff typed them: a citizen
    writing the ward office's or the hotline's number gives no number of their own, and
    everyone who writes it is not one person)."""
    written = _phones_in(clean_text(event.text))
    if written:
        theirs = {number for raw in units if raw and (number := _e164(raw)) is not None}
        written = [number for number in written if number not in theirs]
    return list(dict.fromkeys([*event.phones, *written]))


@lru_cache(maxsize=4096)
def _e164(raw: str) -> str | None:
    try:
        return normalise_phone(raw)
    except InvalidInput:
        return None


def written_numbers(event: Inbound) -> bool:
    """Whether the message's text holds a number (then the units' numbers are read)."""
    return bool(_phones_in(clean_text(event.text)))


async def unit_numbers(session: AsyncSession) -> list[str | None]:
    """The units' numbers as staff typed them (`phones_of`)."""
    return list(await session.scalars(select(Unit.phone).where(Unit.phone.is_not(None))))


async def identity_for(
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
    contact owning that number; an unknown number is added to the identity's contact.
    A contact with a number, or with another identity (staff linked it, or merged another
    card into it), is more than this identity: it stays as it is, or its other identity
    would be left behind while its conversations moved."""
    if owner is not None and owner != identity.contact_id:
        has_phone = await session.scalar(
            select(ContactPhone.e164).where(ContactPhone.contact_id == identity.contact_id)
        )
        other = await session.scalar(
            select(ContactIdentity.id)
            .where(
                ContactIdentity.contact_id == identity.contact_id,
                ContactIdentity.id != identity.id,
            )
            .limit(1)
        )
        if has_phone is None and other is None:
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


async def leave_staff(
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
