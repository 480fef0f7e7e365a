"""What a followed patient looks like to staff: their contact's name and numbers (and which
of those a household shares), the case they were registered from, the urgent case open for
them, and their check-ins due. One patient (the page, a registration's answer) or a page of
them in a few queries (lists and the worklist)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.care.escalation import OPEN_CASE
from hotline.care.models import CarePatient, CheckInSlot, SlotState
from hotline.cases.models import Case
from hotline.contacts.models import Contact
from hotline.contacts.service import (
    get_contact,
    phones_of,
    phones_of_many,
    shared_numbers,
    shared_numbers_of_many,
)

__all__ = ["PatientView", "registered_view", "view_of", "views_of"]


@dataclass(frozen=True)
class PatientView:
    patient: CarePatient
    name: str
    phones: list[str]
    case_code: str | None
    slots: list[CheckInSlot]
    # Their numbers someone else is on too (a household's phone): a call or message from
    # one may be about another member, so the page asks who before recording anything.
    shared_phones: list[str] = field(default_factory=list)
    # The urgent case their last escalation opened, while it is open (None otherwise).
    urgent_case_code: str | None = None

    @property
    def eligible(self) -> bool | None:
        """Eligible for home care; None: needs assessment (SpO2 or respiratory rate not
        measured at registration)."""
        p = self.patient
        return None if p.eligibility.get("decision") == "needs_assessment" else p.eligible

    def as_json(self) -> dict[str, Any]:
        p = self.patient
        return {
            "id": p.id,
            "contact_id": p.contact_id,
            "name": self.name,
            "phone": self.phones[0] if self.phones else None,
            "phones": self.phones,
            "shared_phones": self.shared_phones,
            "status": p.status.value,
            "national_id": p.national_id,
            "age": p.age,
            "test_date": p.test_date.isoformat() if p.test_date else None,
            "test_type": p.test_type,
            "vaccine_doses": p.vaccine_doses,
            "last_dose_date": p.last_dose_date.isoformat() if p.last_dose_date else None,
            "comorbidities": p.comorbidities,
            "pregnant": p.pregnant,
            "can_self_care": p.can_self_care,
            "has_carer": p.has_carer,
            "ward_code": p.ward_code,
            "address": p.address,
            "case_code": self.case_code,
            "urgent_case_code": self.urgent_case_code,
            "eligible": self.eligible,
            "eligibility": p.eligibility,
            "doctor_id": p.doctor_id,
            "state": p.state.value,
            "end_reason": p.end_reason.value if p.end_reason else None,
            "end_note": p.end_note or "",
            "ended_at": p.ended_at.isoformat() if p.ended_at else None,
            "last_checkin_at": p.last_checkin_at.isoformat() if p.last_checkin_at else None,
            "last_result": p.last_result,
            "checkins_due": [
                {"due_at": s.due_at.isoformat(), "state": s.state.value} for s in self.slots
            ],
            "created_at": p.created_at.isoformat(),
        }


async def _case_code(session: AsyncSession, case_id: int | None) -> str | None:
    if case_id is None:
        return None
    return await session.scalar(select(Case.code).where(Case.id == case_id))


async def _open_urgent_codes(session: AsyncSession, patients: list[CarePatient]) -> dict[int, str]:
    """The codes of the patients' urgent cases still open, by case id (one query)."""
    ids = {p.urgent_case_id for p in patients if p.urgent_case_id is not None}
    if not ids:
        return {}
    rows = await session.execute(
        select(Case.id, Case.code).where(Case.id.in_(ids), Case.status.in_(OPEN_CASE))
    )
    return dict(rows.tuples().all())


async def view_of(
    session: AsyncSession, patient: CarePatient, *, slots: list[CheckInSlot] | None = None
) -> PatientView:
    contact = await get_contact(session, patient.contact_id)
    phones = await phones_of(session, contact.id)
    urgent = await _open_urgent_codes(session, [patient])
    return PatientView(
        patient=patient,
        name=contact.name,
        phones=phones,
        case_code=await _case_code(session, patient.case_id),
        slots=slots or [],
        shared_phones=await shared_numbers(session, contact.id, phones),
        urgent_case_code=urgent.get(patient.urgent_case_id or 0),
    )


async def registered_view(session: AsyncSession, patient: CarePatient) -> PatientView:
    """A registration's answer: the patient with their next check-ins due (the first two of
    the schedule just made: registered in the evening, those are tomorrow's)."""
    slots = list(
        (
            await session.scalars(
                select(CheckInSlot)
                .where(CheckInSlot.patient_id == patient.id, CheckInSlot.state == SlotState.DUE)
                .order_by(CheckInSlot.due_at)
                .limit(2)
            )
        ).all()
    )
    return await view_of(session, patient, slots=slots)


async def views_of(
    session: AsyncSession,
    patients: list[CarePatient],
    slots: dict[int, list[CheckInSlot]] | None = None,
) -> list[PatientView]:
    """Views of many patients in a few queries, however many (lists and the worklist)."""
    if not patients:
        return []
    contact_ids = {p.contact_id for p in patients}
    names = dict(
        (
            await session.execute(
                select(Contact.id, Contact.name).where(Contact.id.in_(contact_ids))
            )
        ).all()
    )
    phones = await phones_of_many(session, contact_ids)
    shared = await shared_numbers_of_many(session, phones)
    case_ids = {p.case_id for p in patients if p.case_id is not None}
    codes = (
        dict((await session.execute(select(Case.id, Case.code).where(Case.id.in_(case_ids)))).all())
        if case_ids
        else {}
    )
    urgent = await _open_urgent_codes(session, patients)
    return [
        PatientView(
            patient=p,
            name=names.get(p.contact_id, ""),
            phones=phones.get(p.contact_id, []),
            case_code=codes.get(p.case_id) if p.case_id is not None else None,
            slots=(slots or {}).get(p.id, []),
            shared_phones=shared.get(p.contact_id, []),
            urgent_case_code=urgent.get(p.urgent_case_id or 0),
        )
        for p in patients
    ]
