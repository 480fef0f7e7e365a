"""Citizens: find by phone or channel identity, create, update, merge; log staff reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.contacts.models import (
    Channel,
    Contact,
    ContactIdentity,
    ContactPhone,
    ContactSharedPhone,
    PersonalDataRead,
)
from hotline.contacts.names import display_name as checked_display_name
from hotline.contacts.names import person_name
from hotline.contacts.phones import normalise_phone
from hotline.db import dialect_name, insert_for, is_read_only, write_after
from hotline.directory.service import get_ward
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.messages import msg


async def find_by_phone(session: AsyncSession, phone: str) -> Contact | None:
    e164 = normalise_phone(phone)
    contact_id = await session.scalar(
        select(ContactPhone.contact_id).where(ContactPhone.e164 == e164)
    )
    return await session.get(Contact, contact_id) if contact_id else None


async def find_or_create_by_phone(
    session: AsyncSession, *, phone: str, name: str = "", field: str = "contact.phone"
) -> Contact:
    """The contact owning this number, created if new; a name fills an empty one."""
    e164 = normalise_phone(phone, field=field)
    contact_id = await session.scalar(
        select(ContactPhone.contact_id).where(ContactPhone.e164 == e164)
    )
    if contact_id is not None:
        contact = await session.get(Contact, contact_id)
        assert contact is not None
        if name and not contact.name:
            contact.name = name
        return contact
    contact = Contact(name=name)
    session.add(contact)
    await session.flush()
    # ON CONFLICT keeps the transaction usable if another request registered this number
    # between our SELECT and INSERT, without a savepoint round trip on every new caller.
    claimed = await session.scalar(
        insert_for(dialect_name(session))(ContactPhone)
        .values(e164=e164, contact_id=contact.id)
        .on_conflict_do_nothing(index_elements=["e164"])
        .returning(ContactPhone.contact_id)
    )
    if claimed is None:
        await session.delete(contact)
        owner = await session.scalar(
            select(ContactPhone.contact_id).where(ContactPhone.e164 == e164)
        )
        winner = await session.get(Contact, owner)
        assert winner is not None
        return winner
    return contact


async def create_contact(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str,
    phones: list[str],
    address: str = "",
    ward_code: str | None = None,
) -> Contact:
    """Create a contact with one or more phone numbers that nobody else has (hotline staff)."""
    require(actor, Permission.READ_CONTACTS)
    name = person_name(name, field="name")
    e164s = [normalise_phone(p, field=f"phones[{i}]") for i, p in enumerate(phones)]
    for i, e164 in enumerate(e164s):
        if await session.get(ContactPhone, e164) is not None:
            raise InvalidInput(
                msg("Số {e164} đã thuộc người khác", e164=e164), field=f"phones[{i}]"
            )
    if ward_code:
        await get_ward(session, ward_code)
    contact = Contact(name=name, address=address, ward_code=ward_code)
    session.add(contact)
    await session.flush()
    session.add_all(ContactPhone(e164=e, contact_id=contact.id) for e in dict.fromkeys(e164s))
    await session.flush()
    return contact


async def add_identity(
    session: AsyncSession,
    *,
    actor: Actor,
    contact_id: int,
    channel: str,
    external_id: str,
    display_name: str = "",
) -> ContactIdentity:
    """Link an id on another channel (Zalo user id, Facebook PSID, e-mail...) to a contact.

    An id belongs to one person: linking one already held by someone else is a conflict.
    Hotline staff only.
    """
    require(actor, Permission.READ_CONTACTS)

    if channel not in {c.value for c in Channel} or channel in (Channel.PHONE, Channel.CARE):
        raise InvalidInput(msg("Kênh không hợp lệ: {channel}", channel=channel), field="channel")
    display_name = checked_display_name(display_name)
    contact = await get_contact(session, contact_id)
    held_by = await session.scalar(
        select(ContactIdentity.contact_id).where(
            ContactIdentity.channel == channel, ContactIdentity.external_id == external_id
        )
    )
    if held_by is not None:
        raise Conflict("Định danh này đã gắn với một người dân", field="external_id")
    identity = ContactIdentity(
        contact_id=contact.id, channel=channel, external_id=external_id, display_name=display_name
    )
    session.add(identity)
    await session.flush()
    return identity


async def get_contact(session: AsyncSession, contact_id: int) -> Contact:
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("Không tìm thấy người dân", field="contact_id")
    # A merged contact answers as the one it was merged into.
    while contact.merged_into_id is not None:
        merged = await session.get(Contact, contact.merged_into_id)
        assert merged is not None
        contact = merged
    return contact


async def phones_of(session: AsyncSession, contact_id: int) -> list[str]:
    """The contact's numbers: those it owns and those it shares with their owner (a
    household's phone), each once, sorted."""
    owned = select(ContactPhone.e164).where(ContactPhone.contact_id == contact_id)
    shared = select(ContactSharedPhone.e164).where(ContactSharedPhone.contact_id == contact_id)
    return sorted(set((await session.scalars(owned.union(shared))).all()))


async def phones_of_many(session: AsyncSession, contact_ids: Iterable[int]) -> dict[int, list[str]]:
    """phones_of for many contacts in one query (lists)."""
    ids = set(contact_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(ContactPhone.contact_id, ContactPhone.e164)
        .where(ContactPhone.contact_id.in_(ids))
        .union(
            select(ContactSharedPhone.contact_id, ContactSharedPhone.e164).where(
                ContactSharedPhone.contact_id.in_(ids)
            )
        )
    )
    found: dict[int, set[str]] = {}
    for contact_id, e164 in rows.all():
        found.setdefault(contact_id, set()).add(e164)
    return {c: sorted(p) for c, p in found.items()}


async def shared_numbers(session: AsyncSession, contact_id: int, phones: list[str]) -> list[str]:
    """Which of a contact's numbers (`phones`, as phones_of gives them) another contact is
    on too: a household's phone."""
    if not phones:
        return []
    others = (
        select(ContactPhone.e164)
        .where(ContactPhone.e164.in_(phones), ContactPhone.contact_id != contact_id)
        .union(
            select(ContactSharedPhone.e164).where(
                ContactSharedPhone.e164.in_(phones), ContactSharedPhone.contact_id != contact_id
            )
        )
    )
    return sorted(set((await session.scalars(others)).all()))


async def shared_numbers_of_many(
    session: AsyncSession, phones: dict[int, list[str]]
) -> dict[int, list[str]]:
    """shared_numbers for many contacts (`phones`: each contact's numbers, as phones_of_many
    gives them) in one query, however many contacts (lists and the worklist)."""
    numbers = {e164 for numbers in phones.values() for e164 in numbers}
    if not numbers:
        return {}
    rows = await session.execute(
        select(ContactPhone.e164, ContactPhone.contact_id)
        .where(ContactPhone.e164.in_(numbers))
        .union(
            select(ContactSharedPhone.e164, ContactSharedPhone.contact_id).where(
                ContactSharedPhone.e164.in_(numbers)
            )
        )
    )
    on: dict[str, set[int]] = {}
    for e164, contact_id in rows.tuples().all():
        on.setdefault(e164, set()).add(contact_id)
    found = {c: [n for n in nums if on.get(n, set()) - {c}] for c, nums in phones.items()}
    return {c: nums for c, nums in found.items() if nums}


async def household_on_phone(
    session: AsyncSession, e164: str, *, lock: bool = False
) -> tuple[int | None, list[Contact]]:
    """Who is on a number: its owner's contact id (None: nobody owns it) and the contacts
    on it, the owner first, then those sharing it in the order they were added. `lock`
    holds the number's row (PostgreSQL) so that two callers adding a household member to
    it wait for each other instead of adding the same person twice."""
    query = select(ContactPhone.contact_id).where(ContactPhone.e164 == e164)
    owner_id = await session.scalar(query.with_for_update() if lock else query)
    if owner_id is None:
        return None, []
    owner = await get_contact(session, owner_id)
    sharing = (
        await session.scalars(
            select(Contact)
            .join(ContactSharedPhone, ContactSharedPhone.contact_id == Contact.id)
            .where(ContactSharedPhone.e164 == e164, Contact.merged_into_id.is_(None))
            .order_by(Contact.id)
        )
    ).all()
    return owner_id, [owner, *(c for c in sharing if c.id != owner.id)]


async def add_household_member(session: AsyncSession, *, e164: str, name: str) -> Contact:
    """A new contact for another person on a number someone else owns (a household's
    phone): they share it, so their card and cases show it; the owner keeps it for look-ups
    by number. The caller checked that this person is not on the number already."""
    contact = Contact(name=name)
    session.add(contact)
    await session.flush()
    session.add(ContactSharedPhone(e164=e164, contact_id=contact.id))
    await session.flush()
    return contact


async def identities_of(session: AsyncSession, contact_id: int) -> list[ContactIdentity]:
    return list(
        (
            await session.scalars(
                select(ContactIdentity).where(ContactIdentity.contact_id == contact_id)
            )
        ).all()
    )


@dataclass(frozen=True)
class ReadSubject:
    """Whose personal data a response holds: a contact, else a caller's number with no
    contact card; `case_id` names the case it was read through."""

    contact_id: int | None = None
    phone: str | None = None
    case_id: int | None = None


async def log_personal_reads(
    session: AsyncSession, *, user_id: int | None, purpose: str, subjects: Iterable[ReadSubject]
) -> None:
    """Record that a staff member saw these citizens' personal data: one row per person (a
    list naming a caller five times is one read of them). Nobody signed in (the system, a
    job) is not a reader. Every service that returns a citizen's name, numbers or address
    to staff calls this; the routes never do."""
    if user_id is None:
        return
    # One row per person per transaction: a contact card that also lists the person's cases
    # is one read, under the card's purpose.
    logged: set[tuple[int, int | None, str | None, int | None]] = session.info.setdefault(
        "personal_reads_logged", set()
    )
    rows = {
        (s.contact_id, None if s.contact_id is not None else s.phone, s.case_id): None
        for s in subjects
        if s.contact_id is not None or s.phone or s.case_id is not None
    }
    rows = {r: None for r in rows if (user_id, *r) not in logged}
    if not rows:
        return
    logged.update((user_id, *r) for r in rows)
    reads = [
        PersonalDataRead(
            user_id=user_id, contact_id=contact_id, phone=phone, case_id=case_id, purpose=purpose
        )
        for contact_id, phone, case_id in rows
    ]
    if is_read_only(session):
        # A list read in a read-only transaction: written right after it, before the answer.
        write_after(session, reads)
        return
    session.add_all(reads)
    await session.flush()


async def log_personal_read(
    session: AsyncSession,
    *,
    actor: Actor,
    purpose: str,
    contact_id: int | None = None,
    phone: str | None = None,
    case_id: int | None = None,
) -> None:
    """Record that a staff member saw one citizen's personal data."""
    await log_personal_reads(
        session,
        user_id=actor.user_id,
        purpose=purpose,
        subjects=[ReadSubject(contact_id=contact_id, phone=phone, case_id=case_id)],
    )


async def read_contact(
    session: AsyncSession,
    *,
    actor: Actor,
    contact_id: int,
    purpose: str,
    case_id: int | None = None,
) -> Contact:
    """A contact (merges followed) for showing to staff, the read logged."""
    contact = await get_contact(session, contact_id)
    await log_personal_read(
        session, actor=actor, contact_id=contact.id, case_id=case_id, purpose=purpose
    )
    return contact


async def lookup_by_phone(
    session: AsyncSession, *, actor: Actor, phone: str, purpose: str = "lookup_by_phone"
) -> Contact:
    """The contact holding a number (any format), for hotline staff; the read is logged."""
    require(actor, Permission.READ_CONTACTS)
    contact = await find_by_phone(session, phone)
    if contact is None:
        raise NotFound("Chưa có người dân với số này", field="phone")
    return await read_contact(session, actor=actor, contact_id=contact.id, purpose=purpose)


async def open_contact_card(
    session: AsyncSession, *, actor: Actor, contact_id: int, purpose: str = "contact_card"
) -> Contact:
    """A contact's card for hotline staff (`read_contact`: merges followed, read logged)."""
    require(actor, Permission.READ_CONTACTS)
    return await read_contact(session, actor=actor, contact_id=contact_id, purpose=purpose)


async def personal_reads(
    session: AsyncSession, *, actor: Actor, contact_id: int
) -> list[PersonalDataRead]:
    """Who read a citizen's personal data, oldest first (administrators, supervisors)."""
    require(actor, Permission.AUDIT_PERSONAL_DATA)
    contact_id = (await get_contact(session, contact_id)).id
    return list(
        (
            await session.scalars(
                select(PersonalDataRead)
                .where(PersonalDataRead.contact_id == contact_id)
                .order_by(PersonalDataRead.at)
            )
        ).all()
    )
