"""Registering an F0/F1 person for care at home, directly or from a case: the input checked,
the contact found or created by phone, eligibility for home care assessed with its reasons, a
doctor assigned and the check-ins scheduled."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.care.access import may_follow, sees_all
from hotline.care.eligibility import Facts, assess
from hotline.care.models import CarePatient, CareState, PatientStatus
from hotline.care.rulesets import COMORBIDITIES, SYMPTOMS
from hotline.care.schedule import extend_slots
from hotline.care.service import _assign
from hotline.cases.access import get_case_for
from hotline.contacts.models import Contact, ContactPhone
from hotline.contacts.phones import normalise_phone
from hotline.contacts.service import (
    ReadSubject,
    find_or_create_by_phone,
    get_contact,
    log_personal_reads,
)
from hotline.db import utcnow
from hotline.directory.service import check_ward
from hotline.errors import Conflict, InvalidInput
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
