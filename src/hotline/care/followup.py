"""A followed patient after registration: their record edited (contact, address, ward,
comorbidities, care at home), reassigned to another doctor, their follow-up ended with a
reason; and patients waiting without a doctor assigned as soon as one has room (a doctor
who stops following patients at home hands theirs over: handover.py).

Every change goes on the patient's trail (`care_patient_change`) in the same transaction:
who, when, the fields before and after. The trail holds health data: it is read like the
patient (access.py), each read logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.care.access import get_patient_for
from hotline.care.admissions import withdraw_admissions
from hotline.care.facts import (
    check_dates,
    check_facts,
    check_pregnancy,
    patient_address,
    patient_name,
)
from hotline.care.models import (
    CarePatient,
    CareState,
    EndReason,
    PatientChange,
    PatientStatus,
)
from hotline.care.places import free_place, lock_patient
from hotline.care.registration import ELIGIBILITY_FIELDS, assess_again
from hotline.care.rulesets import COMORBIDITIES
from hotline.care.schedule import close_open_slots
from hotline.care.service import _assign, take_place
from hotline.contacts.models import Contact, ContactPhone
from hotline.contacts.phones import normalise_phone
from hotline.contacts.service import ReadSubject, log_personal_reads
from hotline.db import utcnow
from hotline.directory.service import check_ward
from hotline.errors import Conflict, InvalidInput, InvalidTransition
from hotline.events import DomainEvent, record_event
from hotline.messages import msg
from hotline.site import site_of

FOLLOWED = (CareState.ACTIVE, CareState.ADMITTED)


def _change(
    session: AsyncSession,
    patient: CarePatient,
    actor: Actor | None,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    session.add(
        PatientChange(
            patient_id=patient.id,
            at=utcnow(),
            user_id=actor.user_id if actor else None,
            action=action,
            before=before,
            after=after,
        )
    )


@dataclass
class PatientEdit:
    """Fields to change; None: unchanged. `phone` adds a number to the patient's contact."""

    name: str | None = None
    phone: str | None = None
    address: str | None = None
    ward_code: str | None = None
    status: str | None = None
    age: int | None = None
    test_date: date | None = None
    test_type: str | None = None
    vaccine_doses: int | None = None
    last_dose_date: date | None = None
    comorbidities: tuple[str, ...] | None = None
    comorbidities_stable: bool | None = None
    pregnant: bool | None = None
    can_self_care: bool | None = None
    has_carer: bool | None = None


PATIENT_FIELDS = (
    "address",
    "ward_code",
    "status",
    "age",
    "test_date",
    "test_type",
    "vaccine_doses",
    "last_dose_date",
    "comorbidities",
    "comorbidities_stable",
    "pregnant",
    "can_self_care",
    "has_carer",
)


def _stored(value: Any) -> Any:
    """A field's value as the trail (JSON) keeps it."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, PatientStatus):
        return value.value
    return value


async def edit_patient(
    session: AsyncSession, *, actor: Actor, patient_id: int, data: PatientEdit
) -> CarePatient:
    """Change a followed patient's contact, address or health facts (their doctor, or a
    supervisor); the change, field by field, goes on the trail. A change to what eligibility
    reads assesses it again (care/registration.py), its decision's change on the trail. It
    waits for the patient's other changes in flight (an end, a reassignment): an edit never
    touches a patient ended meanwhile."""
    patient = await get_patient_for(session, actor, patient_id)
    await lock_patient(session, patient)
    if patient.state == CareState.ENDED:
        raise InvalidTransition(msg("Đã kết thúc theo dõi người bệnh này"), field="state")
    if data.comorbidities is not None:
        unknown = [c for c in data.comorbidities if c not in COMORBIDITIES]
        if unknown:
            raise InvalidInput(
                msg("Bệnh nền không có trong danh mục: {codes}", codes=tuple(unknown)),
                field="comorbidities",
            )
    check_facts(
        status=data.status,
        test_type=data.test_type,
        age=data.age,
        vaccine_doses=data.vaccine_doses,
    )
    today = site_of(session).local(utcnow()).date()
    check_dates(today, test_date=data.test_date, last_dose_date=data.last_dose_date)
    check_pregnancy(
        pregnant=patient.pregnant if data.pregnant is None else data.pregnant,
        age=patient.age if data.age is None else data.age,
    )
    # A name sent empty would be ignored while the answer says 200: refused instead.
    new_name = patient_name(data.name) if data.name is not None else None
    if new_name == "":
        raise InvalidInput(msg("Họ tên không được để trống"), field="name")
    if data.ward_code:
        await check_ward(session, data.ward_code)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name in PATIENT_FIELDS:
        value = getattr(data, name)
        if value is None:
            continue
        if name == "comorbidities":
            value = list(dict.fromkeys(value))
        elif name == "address":
            value = patient_address(value)
        elif name == "ward_code":
            value = value or None
        elif name == "status":
            value = PatientStatus(value)
        if getattr(patient, name) != value:
            before[name], after[name] = _stored(getattr(patient, name)), _stored(value)
            setattr(patient, name, value)
    contact = await session.get(Contact, patient.contact_id)
    assert contact is not None
    if new_name is not None and new_name != contact.name:
        before["name"], after["name"] = contact.name, new_name
        contact.name = new_name
    if data.phone:
        e164 = normalise_phone(data.phone, field="phone")
        owner = await session.scalar(
            select(ContactPhone.contact_id).where(ContactPhone.e164 == e164)
        )
        if owner is not None and owner != contact.id:
            raise Conflict(msg("Số điện thoại này thuộc về người khác"), field="phone")
        if owner is None:
            session.add(ContactPhone(contact_id=contact.id, e164=e164))
            after["phone_added"] = e164
    if ELIGIBILITY_FIELDS & after.keys():
        was, now = await assess_again(session, patient)
        if was != now:
            before["eligibility"], after["eligibility"] = was, now
    if after:
        _change(session, patient, actor, "edit", before, after)
    await session.flush()
    return patient


async def reassign(
    session: AsyncSession, *, actor: Actor, patient_id: int, doctor_id: int
) -> CarePatient:
    """A supervisor (care coordinator) moves a patient to another active proactive-care
    doctor with room (a full one is refused: their capacity is raised first); the old
    doctor's place is freed and given to a waiting patient."""
    require(actor, Permission.SEE_ALL_PATIENTS)
    patient = await get_patient_for(session, actor, patient_id)
    await lock_patient(session, patient)  # not admitted or ended meanwhile
    if patient.state != CareState.ACTIVE:
        raise InvalidTransition(
            msg("Chỉ chuyển được người bệnh đang theo dõi tại nhà"), field="state"
        )
    old = patient.doctor_id
    if old == doctor_id:
        return patient
    await take_place(session, doctor_id)
    patient.doctor_id = doctor_id
    await free_place(session, old)
    _change(session, patient, actor, "reassign", {"doctor_id": old}, {"doctor_id": doctor_id})
    record_event(
        session,
        DomainEvent(
            kind="care.assigned",
            data={"patient_id": patient.id, "doctor_id": doctor_id, "from_doctor_id": old},
        ),
    )
    await session.flush()
    await assign_waiting(session)
    return patient


async def end_follow_up(
    session: AsyncSession, *, actor: Actor, patient_id: int, reason: str, note: str = ""
) -> CarePatient:
    """End a patient's follow-up (their doctor, or a supervisor) with a reason: recovered,
    hospitalised, died, moved or other. No check-in is due any more, their link stops
    working, their open admission requests are cancelled, and their doctor's place goes to
    a waiting patient."""
    patient = await get_patient_for(session, actor, patient_id)
    try:
        why = EndReason(reason)
    except ValueError:
        raise InvalidInput(
            msg("Lý do phải là một trong: {values}", values=tuple(r.value for r in EndReason)),
            field="reason",
        ) from None
    # Under the lock, `was` is the state this end moves from (an admission answered at
    # the same moment has either freed the place already, or waits and is refused).
    await lock_patient(session, patient)
    was = patient.state
    now = utcnow()
    done = await session.execute(
        update(CarePatient)
        .where(CarePatient.id == patient.id, CarePatient.state.in_(FOLLOWED))
        .values(
            state=CareState.ENDED,
            end_reason=why,
            end_note=note.strip()[:2000],
            ended_at=now,
            ended_by_id=actor.user_id,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        raise InvalidTransition(msg("Đã kết thúc theo dõi người bệnh này"), field="state")
    await session.refresh(patient)
    await close_open_slots(session, patient)
    await withdraw_admissions(session, actor=actor, patient=patient)
    if was == CareState.ACTIVE:  # an admitted patient's place was freed on admission
        await free_place(session, patient.doctor_id)
    _change(
        session,
        patient,
        actor,
        "end",
        {"state": was.value},
        {"state": CareState.ENDED.value, "reason": why.value, "note": patient.end_note},
    )
    await session.flush()
    await assign_waiting(session)
    return patient


async def assign_waiting(session: AsyncSession, *, limit: int = 200) -> int:
    """Give the patients followed at home without a doctor (none had room when they were
    registered) to the doctors with room now, riskiest and longest-waiting first; called
    when a place frees or a doctor is added or given more room, and by the worker's sweep.
    Returns how many were assigned."""
    waiting = (
        await session.scalars(
            select(CarePatient)
            .where(CarePatient.state == CareState.ACTIVE, CarePatient.doctor_id.is_(None))
            .order_by(CarePatient.risk_rank.desc(), CarePatient.id)
            .limit(limit)
        )
    ).all()
    assigned = 0
    for patient in waiting:
        await _assign(session, patient, None)
        if patient.doctor_id is None:
            break  # nobody has room
        assigned += 1
        _change(
            session, patient, None, "assign", {"doctor_id": None}, {"doctor_id": patient.doctor_id}
        )
        record_event(
            session,
            DomainEvent(
                kind="care.assigned",
                data={"patient_id": patient.id, "doctor_id": patient.doctor_id},
            ),
        )
    await session.flush()
    return assigned


async def count_waiting(session: AsyncSession, *, actor: Actor) -> int:
    """How many patients followed at home wait for a doctor (care coordinators: the
    patient list's tab). A count, no personal data: not a logged read."""
    require(actor, Permission.SEE_ALL_PATIENTS)
    found = await session.scalar(
        select(func.count())
        .select_from(CarePatient)
        .where(CarePatient.state == CareState.ACTIVE, CarePatient.doctor_id.is_(None))
    )
    return int(found or 0)


async def changes_of(
    session: AsyncSession, *, actor: Actor, patient_id: int, limit: int = 200
) -> list[PatientChange]:
    """A patient's trail, newest first, for those who may see the patient; logged."""
    patient = await get_patient_for(session, actor, patient_id)
    rows = await session.scalars(
        select(PatientChange)
        .where(PatientChange.patient_id == patient.id)
        .order_by(PatientChange.id.desc())
        .limit(limit)
    )
    await log_personal_reads(
        session,
        user_id=actor.user_id,
        purpose="care_changes",
        subjects=[ReadSubject(contact_id=patient.contact_id)],
    )
    return list(rows.all())


def change_json(c: PatientChange) -> dict[str, Any]:
    return {
        "id": c.id,
        "at": c.at.isoformat(),
        "user_id": c.user_id,
        "action": c.action,
        "before": c.before,
        "after": c.after,
    }
