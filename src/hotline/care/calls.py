"""A followed patient's calls with the line, for their page: the calls whose caller is the
patient's contact (matched by number when the call was recorded) or came from one of their
numbers. A household's shared phone is recorded on its owner's card, so its calls show on
every member's page: the number says which phone rang, not which member spoke."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.calls.models import Call
from hotline.care.access import get_patient_for
from hotline.contacts.service import phones_of


async def calls_of_patient(
    session: AsyncSession, *, actor: Actor, patient_id: int, limit: int = 20
) -> list[Call]:
    """The patient's calls, newest first, for whoever may see the patient (else NotFound).
    Their number is the patient's own, whose read the patient page logs (read_patient)."""
    patient = await get_patient_for(session, actor, patient_id)
    numbers = await phones_of(session, patient.contact_id)
    rows = await session.scalars(
        select(Call)
        .where(or_(Call.contact_id == patient.contact_id, Call.caller.in_(numbers)))
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(limit)
    )
    return list(rows.all())
