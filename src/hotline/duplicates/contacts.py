"""Merging two contact cards of one person: phones, identities, conversations, cases, calls,
followed-patient records and the log of staff reads all move to the card kept. Above
contacts, channels, cases, calls and home care, which know nothing of each other's rows."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.calls.models import Call
from hotline.care.models import CarePatient, CareState, ConsultRequest, PatientChange
from hotline.cases.models import Case
from hotline.channels.models import Conversation
from hotline.contacts.models import (
    Contact,
    ContactIdentity,
    ContactPhone,
    ContactSharedPhone,
    PersonalDataRead,
)
from hotline.contacts.service import get_contact
from hotline.db import utcnow
from hotline.errors import Conflict, InvalidInput, NotAllowed, NotFound
from hotline.messages import msg

# Said to whoever may not merge a followed patient's card: nothing in it tells that the card
# is one (operators see nothing of home care, docs/care.md).
NOT_YOURS = msg("Bạn không gộp được hồ sơ này: hãy nhờ trưởng ca gộp")


async def merge_contacts(
    session: AsyncSession, *, keep_id: int, merge_id: int, actor: Actor
) -> Contact:
    """Fold one contact into another: phones, identities, cases and calls all move over.

    The merged contact stays as a pointer so old links still resolve. Hotline staff only.
    """
    require(actor, Permission.READ_CONTACTS)
    if keep_id == merge_id:
        raise InvalidInput("Không thể gộp một người với chính họ", field="merge_id")
    keep = await get_contact(session, keep_id)
    gone = await session.get(Contact, merge_id)
    if gone is None or gone.merged_into_id is not None:
        raise NotFound("Không tìm thấy người dân cần gộp", field="merge_id")
    if gone.id == keep.id:
        # keep_id was itself merged into merge_id: a self-pointer would make it unresolvable.
        raise InvalidInput("Không thể gộp một người với chính họ", field="merge_id")
    patients = list(
        (
            await session.scalars(
                select(CarePatient)
                .where(CarePatient.contact_id.in_((keep.id, gone.id)))
                .order_by(CarePatient.id)
                .with_for_update()
            )
        ).all()
    )
    if patients and not allows(actor, Permission.SEE_ALL_PATIENTS):
        # A patient's card (followed now or before) is part of their care record: only the
        # care coordinators, who read that record, merge it.
        raise NotAllowed(NOT_YOURS, field="merge_id")
    # One followed patient per person: two cards each followed by a doctor are two records
    # of care (readings, urgent cases) that cannot silently become one; staff end one first.
    followed = {p.contact_id for p in patients if p.state != CareState.ENDED}
    if keep.id in followed and gone.id in followed:
        raise Conflict(
            "Cả hai người đều đang được mạng lưới bác sĩ theo dõi: hãy kết thúc theo dõi "
            "một hồ sơ trước khi gộp",
            field="merge_id",
        )
    # Before the rows move (the bulk update below also moves these loaded patients).
    cards = [(patient, patient.contact_id) for patient in patients]
    names = {keep.id: keep.name, gone.id: gone.name}
    # A number both shared (one household's phone) keeps one row, the kept contact's.
    await session.execute(
        delete(ContactSharedPhone).where(
            ContactSharedPhone.contact_id == gone.id,
            ContactSharedPhone.e164.in_(
                select(ContactSharedPhone.e164).where(ContactSharedPhone.contact_id == keep.id)
            ),
        )
    )
    # Conversations with the identities: a citizen's conversation names the card their
    # identity is on, which lists it and logs reads of it (channels/citizens.py).
    for model in (
        ContactPhone, ContactSharedPhone, ContactIdentity, Conversation, Case, Call,
        PersonalDataRead, CarePatient, ConsultRequest,
    ):  # fmt: skip
        await session.execute(
            update(model).where(model.contact_id == gone.id).values(contact_id=keep.id)
        )
    keep.name = keep.name or gone.name
    keep.address = keep.address or gone.address
    keep.ward_code = keep.ward_code or gone.ward_code
    if gone.note:
        keep.note = (keep.note + "\n" + gone.note).strip()
    gone.merged_into_id = keep.id
    _on_trails(session, actor, cards, names, keep)
    await session.flush()
    return keep


def _on_trails(
    session: AsyncSession,
    actor: Actor,
    cards: list[tuple[CarePatient, int]],
    names: dict[int, str],
    keep: Contact,
) -> None:
    """The merge on the trail of each patient whose card moved or was renamed by it: the
    card and name the record shows change with no edit of the patient."""
    for patient, card in cards:
        before = {"contact_id": card, "name": names[card]}
        after = {"contact_id": keep.id, "name": keep.name}
        if before == after:
            continue
        session.add(
            PatientChange(
                patient_id=patient.id,
                at=utcnow(),
                user_id=actor.user_id,
                action="merge",
                before=before,
                after=after,
            )
        )
