"""Patients followed at home: register (directly or from a case), assess eligibility,
assign to a proactive-care doctor, read (logged), list, and the doctor's worklist."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import User
from hotline.auth.service import Actor
from hotline.care.access import get_patient_for, may_follow, sees_all
from hotline.care.eligibility import Facts, assess
from hotline.care.models import (
    CareDoctor,
    CarePatient,
    CareState,
    CheckInSlot,
    PatientStatus,
    SlotState,
)
from hotline.care.rulesets import COMORBIDITIES, SYMPTOMS
from hotline.care.schedule import extend_slots
from hotline.cases.access import get_case_for
from hotline.contacts.models import Contact, ContactPhone
from hotline.contacts.phones import normalise_phone
from hotline.contacts.service import (
    ReadSubject,
    find_or_create_by_phone,
    get_contact,
    log_personal_reads,
    phones_of,
)
from hotline.db import utcnow
from hotline.directory.service import check_ward
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.messages import msg
from hotline.site import site_of

TEST_TYPES = ("rt_pcr", "rapid_antigen")


@dataclass
class PatientIn:
    status: str
    name: str = ""
    phone: str | None = None
    case_code: str | None = None
    national_id: str | None = None
    age: int | None = None
    test_date: date | None = None
    test_type: str | None = None
    vaccine_doses: int = 0
    last_dose_date: date | None = None
    comorbidities: tuple[str, ...] = ()
    comorbidities_stable: bool = False
    pregnant: bool = False
    ward_code: str | None = None
    address: str = ""
    can_self_care: bool = True
    has_carer: bool = False
    # What is known of their condition at registration (for eligibility).
    spo2: int | None = None
    respiratory_rate: int | None = None
    symptoms: tuple[str, ...] = field(default_factory=tuple)
    # A supervisor may name the doctor; otherwise the least loaded proactive doctor.
    doctor_id: int | None = None


def _checked(data: PatientIn) -> None:
    try:
        PatientStatus(data.status)
    except ValueError:
        raise InvalidInput(msg("Phân loại phải là F0 hoặc F1"), field="status") from None
    if data.test_type is not None and data.test_type not in TEST_TYPES:
        raise InvalidInput(
            msg("Loại xét nghiệm không hợp lệ: {value}", value=data.test_type), field="test_type"
        )
    unknown = [c for c in data.comorbidities if c not in COMORBIDITIES]
    if unknown:
        raise InvalidInput(
            msg("Bệnh nền không có trong danh mục: {codes}", codes=tuple(unknown)),
            field="comorbidities",
        )
    bad = [s for s in data.symptoms if s not in SYMPTOMS]
    if bad:
        raise InvalidInput(
            msg("Triệu chứng không có trong danh mục: {codes}", codes=tuple(bad)),
            field="symptoms",
        )
    if data.age is not None and not 0 <= data.age <= 130:
        raise InvalidInput("Tuổi không hợp lệ", field="age")
    if not 0 <= data.vaccine_doses <= 10:
        raise InvalidInput("Số mũi vắc xin không hợp lệ", field="vaccine_doses")


async def _assign(session: AsyncSession, patient: CarePatient, doctor_id: int | None) -> None:
    """The named doctor, else the proactive-care doctor (an active account) with the fewest
    patients (then the lowest user id) who has room; none with room: left unassigned for a
    supervisor."""
    base = update(CareDoctor).values(patient_count=CareDoctor.patient_count + 1)
    if doctor_id is not None:
        done = await session.execute(
            base.where(CareDoctor.user_id == doctor_id, CareDoctor.active.is_(True))
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise InvalidInput("Không có bác sĩ này trong mạng lưới", field="doctor_id")
        patient.doctor_id = doctor_id
        return
    for _ in range(5):
        candidate = await session.scalar(
            select(CareDoctor.user_id)
            .where(
                CareDoctor.proactive.is_(True),
                CareDoctor.active.is_(True),
                CareDoctor.patient_count < CareDoctor.capacity,
                CareDoctor.user_id.in_(select(User.id).where(User.active.is_(True))),
            )
            .order_by(CareDoctor.patient_count, CareDoctor.user_id)
            .limit(1)
        )
        if candidate is None:
            return
        # Another registration may have taken the last place meanwhile: then the next one.
        done = await session.execute(
            base.where(
                CareDoctor.user_id == candidate,
                CareDoctor.patient_count < CareDoctor.capacity,
            ).execution_options(synchronize_session=False)
        )
        if done.rowcount == 1:  # type: ignore[attr-defined]
            patient.doctor_id = candidate
            return


async def register_patient(session: AsyncSession, *, actor: Actor, data: PatientIn) -> CarePatient:
    """Register an F0/F1 person (care roles): the contact found or created by phone, or the
    case's reporter; eligibility for home care assessed with its reasons; assigned to a
    doctor; check-ins scheduled."""
    may_follow(actor)
    if data.doctor_id is not None and not sees_all(actor):
        raise InvalidInput("Chỉ trưởng ca chọn bác sĩ phụ trách", field="doctor_id")
    _checked(data)
    case_id = None
    contact: Contact | None = None
    if data.case_code:
        case = await get_case_for(session, actor, data.case_code)
        case_id = case.id
        if case.contact_id is not None and not data.phone:
            contact = await get_contact(session, case.contact_id)
    known = contact is not None  # a citizen on record: the answer shows their record
    if contact is None:
        if not data.phone:
            raise InvalidInput("Cần số điện thoại của người bệnh", field="phone")
        phone_owner = await session.scalar(
            select(ContactPhone.contact_id).where(
                ContactPhone.e164 == normalise_phone(data.phone, field="phone")
            )
        )
        known = phone_owner is not None
        contact = await find_or_create_by_phone(
            session, phone=data.phone, name=data.name.strip(), field="phone"
        )
    followed = await session.scalar(
        select(CarePatient.id).where(
            CarePatient.contact_id == contact.id, CarePatient.state != CareState.ENDED
        )
    )
    if followed is not None:
        # A retried or repeated registration would make a second patient with its own
        # check-ins, reminders and alerts for one person.
        raise Conflict(msg("Người này đang được theo dõi"), field="phone")
    if data.ward_code:
        await check_ward(session, data.ward_code)
    site = site_of(session)
    now = utcnow()
    today = site.local(now).date()
    for name in ("test_date", "last_dose_date"):
        when = getattr(data, name)
        if when is not None and when > today:
            raise InvalidInput(
                msg("Ngày không được sau hôm nay ({today})", today=today.isoformat()), field=name
            )
    found = assess(
        Facts(
            status=data.status,
            age=data.age,
            comorbidities=frozenset(data.comorbidities),
            comorbidities_stable=data.comorbidities_stable,
            pregnant=data.pregnant,
            vaccine_doses=data.vaccine_doses,
            last_dose_date=data.last_dose_date,
            test_date=data.test_date,
            spo2=data.spo2,
            respiratory_rate=data.respiratory_rate,
            symptoms=frozenset(data.symptoms),
            can_self_care=data.can_self_care,
            has_carer=data.has_carer,
        ),
        rule_set=site.care.eligibility,
        on=data.test_date or today,
    )
    patient = CarePatient(
        contact_id=contact.id,
        case_id=case_id,
        status=PatientStatus(data.status),
        national_id=(data.national_id or "").strip() or None,
        age=data.age,
        test_date=data.test_date,
        test_type=data.test_type,
        vaccine_doses=data.vaccine_doses,
        last_dose_date=data.last_dose_date,
        comorbidities=list(dict.fromkeys(data.comorbidities)),
        comorbidities_stable=data.comorbidities_stable,
        pregnant=data.pregnant,
        can_self_care=data.can_self_care,
        has_carer=data.has_carer,
        ward_code=data.ward_code or None,
        address=data.address.strip(),
        eligible=found.eligible,
        eligibility=found.as_json(),
        state=CareState.ACTIVE,
        risk_rank=0,
        slots_until=now,
        link_nonce=secrets.token_hex(8),
        registered_by_id=actor.user_id,
        created_at=now,
    )
    session.add(patient)
    await session.flush()
    await _assign(session, patient, data.doctor_id)
    await extend_slots(session, patient, now=now)
    await session.flush()
    if known:
        # The registration's answer carries the record's name and every phone on it.
        await log_personal_reads(
            session,
            user_id=actor.user_id,
            purpose="care_register",
            subjects=[ReadSubject(contact_id=contact.id)],
        )
    return patient


@dataclass(frozen=True)
class PatientView:
    patient: CarePatient
    name: str
    phones: list[str]
    case_code: str | None
    slots: list[CheckInSlot]

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
    from hotline.cases.models import Case

    return await session.scalar(select(Case.code).where(Case.id == case_id))


async def view_of(
    session: AsyncSession, patient: CarePatient, *, slots: list[CheckInSlot] | None = None
) -> PatientView:
    contact = await get_contact(session, patient.contact_id)
    return PatientView(
        patient=patient,
        name=contact.name,
        phones=await phones_of(session, contact.id),
        case_code=await _case_code(session, patient.case_id),
        slots=slots or [],
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
    """Views of many patients in a few queries (lists and the worklist)."""
    from hotline.cases.models import Case
    from hotline.contacts.models import ContactPhone

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
    phones: dict[int, list[str]] = {}
    rows = await session.execute(
        select(ContactPhone.contact_id, ContactPhone.e164)
        .where(ContactPhone.contact_id.in_(contact_ids))
        .order_by(ContactPhone.e164)
    )
    for contact_id, e164 in rows.all():
        phones.setdefault(contact_id, []).append(e164)
    case_ids = {p.case_id for p in patients if p.case_id is not None}
    codes = (
        dict((await session.execute(select(Case.id, Case.code).where(Case.id.in_(case_ids)))).all())
        if case_ids
        else {}
    )
    return [
        PatientView(
            patient=p,
            name=names.get(p.contact_id, ""),
            phones=phones.get(p.contact_id, []),
            case_code=codes.get(p.case_id) if p.case_id is not None else None,
            slots=(slots or {}).get(p.id, []),
        )
        for p in patients
    ]


async def read_patient(
    session: AsyncSession, *, actor: Actor, patient_id: int, purpose: str = "care_patient"
) -> PatientView:
    """One patient for a care role allowed to see them (else NotFound, nothing logged);
    the read is logged as a personal-data read."""
    patient = await get_patient_for(session, actor, patient_id)
    day_start, day_end = _today(session)
    slots = list(
        (
            await session.scalars(
                select(CheckInSlot)
                .where(
                    CheckInSlot.patient_id == patient.id,
                    CheckInSlot.due_at >= day_start,
                    CheckInSlot.due_at < day_end,
                )
                .order_by(CheckInSlot.due_at)
            )
        ).all()
    )
    await log_personal_reads(
        session,
        user_id=actor.user_id,
        purpose=purpose,
        subjects=[ReadSubject(contact_id=patient.contact_id)],
    )
    return await view_of(session, patient, slots=slots)


def _today(session: AsyncSession) -> tuple[datetime, datetime]:
    site = site_of(session)
    local = site.local(utcnow())
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = (start.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=site.timezone)
    return start, end


@dataclass
class PatientFilter:
    status: str | None = None
    state: str | None = None
    tier: str | None = None
    doctor_id: int | None = None
    ward_code: str | None = None
    eligible: bool | None = None
    unassigned: bool = False


async def list_patients(
    session: AsyncSession, *, actor: Actor, filters: PatientFilter, limit: int = 100
) -> list[PatientView]:
    """Patients this actor follows (a doctor: theirs; supervisors: all), riskiest first,
    filtered; each one shown is a logged read."""
    may_follow(actor)
    stmt = select(CarePatient).order_by(CarePatient.risk_rank.desc(), CarePatient.id.desc())
    if not sees_all(actor):
        stmt = stmt.where(CarePatient.doctor_id == actor.user_id)
    if filters.doctor_id is not None:
        stmt = stmt.where(CarePatient.doctor_id == filters.doctor_id)
    if filters.unassigned:
        stmt = stmt.where(CarePatient.doctor_id.is_(None))
    if filters.status is not None:
        stmt = stmt.where(CarePatient.status == filters.status)
    if filters.state is not None:
        stmt = stmt.where(CarePatient.state == filters.state)
    if filters.ward_code is not None:
        stmt = stmt.where(CarePatient.ward_code == filters.ward_code)
    if filters.eligible is not None:
        stmt = stmt.where(CarePatient.eligible.is_(filters.eligible))
    if filters.tier is not None:
        from hotline.care.risk import TIER_RANK

        if filters.tier not in TIER_RANK:
            raise InvalidInput(
                msg("Phân tầng không hợp lệ: {tier}", tier=filters.tier), field="tier"
            )
        rank = TIER_RANK[filters.tier] * RANK_TIER
        stmt = stmt.where(CarePatient.risk_rank >= rank, CarePatient.risk_rank < rank + RANK_TIER)
    patients = list((await session.scalars(stmt.limit(limit))).all())
    await log_personal_reads(
        session,
        user_id=actor.user_id,
        purpose="care_patients",
        subjects=[ReadSubject(contact_id=p.contact_id) for p in patients],
    )
    return await views_of(session, patients)


# risk_rank = tier * RANK_TIER + NEWS2 (at most 20): a tier outranks any score below it.
RANK_TIER = 100


@dataclass(frozen=True)
class WorkItem:
    view: PatientView
    due: list[CheckInSlot]
    missed: int

    def as_json(self) -> dict[str, Any]:
        out = self.view.as_json()
        out["missed_checkins"] = self.missed
        return out


async def worklist(session: AsyncSession, *, actor: Actor, limit: int = 500) -> list[WorkItem]:
    """The signed-in doctor's followed patients for today: riskiest first (tier, NEWS2),
    then those with missed check-ins, with today's check-ins due and missed. Reads logged."""
    may_follow(actor)
    patients = list(
        (
            await session.scalars(
                select(CarePatient)
                .where(
                    CarePatient.doctor_id == actor.user_id, CarePatient.state == CareState.ACTIVE
                )
                .order_by(CarePatient.risk_rank.desc(), CarePatient.id)
                .limit(limit)
            )
        ).all()
    )
    start, end = _today(session)
    slots: dict[int, list[CheckInSlot]] = {}
    if patients:
        rows = await session.scalars(
            select(CheckInSlot)
            .where(
                CheckInSlot.patient_id.in_([p.id for p in patients]),
                CheckInSlot.due_at >= start,
                CheckInSlot.due_at < end,
            )
            .order_by(CheckInSlot.due_at)
        )
        for s in rows.all():
            slots.setdefault(s.patient_id, []).append(s)
    await log_personal_reads(
        session,
        user_id=actor.user_id,
        purpose="care_worklist",
        subjects=[ReadSubject(contact_id=p.contact_id) for p in patients],
    )
    items = []
    for view in await views_of(session, patients, slots):
        mine = view.slots
        missed = sum(1 for s in mine if s.state == SlotState.MISSED)
        items.append(WorkItem(view, mine, missed))
    items.sort(key=lambda i: (-i.view.patient.risk_rank, -i.missed))
    return items


async def patient_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(CarePatient)) or 0)


async def require_patient(session: AsyncSession, patient_id: int) -> CarePatient:
    patient = await session.get(CarePatient, patient_id)
    if patient is None:
        raise NotFound("Không tìm thấy người bệnh", field="patient_id")
    return patient
