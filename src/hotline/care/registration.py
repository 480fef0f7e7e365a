"""Registering an F0/F1 person for care at home, directly or from a case: the input checked,
the contact found or created by phone, eligibility for home care assessed with its reasons, a
doctor assigned and the check-ins scheduled."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.care.access import may_follow, sees_all
from hotline.care.case_refs import case_to_register
from hotline.care.checkins import CheckInData, record_at_registration, vitals_of
from hotline.care.eligibility import Facts, assess
from hotline.care.facts import (
    check_dates,
    check_facts,
    check_pregnancy,
    patient_address,
    patient_name,
)
from hotline.care.models import CarePatient, CareState, CheckIn, PatientStatus
from hotline.care.risk import Vitals, warning_signs
from hotline.care.rulesets import COMORBIDITIES, SYMPTOMS
from hotline.care.schedule import extend_slots
from hotline.care.service import _assign
from hotline.contacts.models import Contact
from hotline.contacts.phones import normalise_phone
from hotline.contacts.service import (
    ReadSubject,
    add_household_member,
    find_or_create_by_phone,
    get_contact,
    household_on_phone,
    log_personal_reads,
)
from hotline.db import utcnow
from hotline.directory.service import check_ward
from hotline.errors import Conflict, InvalidInput, NotAllowed
from hotline.messages import msg
from hotline.site import site_of
from hotline.text import fold


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
    check_facts(status=data.status, test_type=data.test_type)
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
    check_facts(age=data.age, vaccine_doses=data.vaccine_doses)


def _measured(data: PatientIn) -> CheckInData | None:
    """What the registration measured, as a check-in's data; None when nothing was."""
    if data.spo2 is None and data.respiratory_rate is None and not data.symptoms:
        return None
    return CheckInData(
        spo2=data.spo2,
        respiratory_rate=data.respiratory_rate,
        symptoms=tuple(data.symptoms) or None,
    )


def _signs(session: AsyncSession, vitals: Vitals, age: int | None) -> tuple[str, ...]:
    return warning_signs(vitals, age=age, rule_set=site_of(session).care.warning_signs)


async def _already_followed(
    session: AsyncSession, actor: Actor, contact_id: int
) -> Conflict | None:
    """The 409 for a person already followed (active or admitted), or None. Only those who
    may see that patient (their doctor, care coordinators) are told that the person is
    followed, and which patient: being followed at home is health data. Another doctor gets
    a neutral refusal naming no patient, and only once the name typed picked the person
    (`register_patient`), never from the number alone."""
    found = (
        await session.execute(
            select(CarePatient.id, CarePatient.doctor_id).where(
                CarePatient.contact_id == contact_id, CarePatient.state != CareState.ENDED
            )
        )
    ).first()
    if found is None:
        return None
    patient_id, doctor_id = found
    # A retried or repeated registration would make a second patient with its own
    # check-ins, reminders and alerts for one person.
    shown = sees_all(actor) or (actor.user_id is not None and doctor_id == actor.user_id)
    if not shown:
        return Conflict(NOT_REGISTERED, field="phone")
    return Conflict(
        msg("Người này đang được theo dõi"), field="phone", extra={"patient_id": patient_id}
    )


# What a doctor who may not read the followed patient is told: that this registration is
# not made, and whom to ask; not that the person is followed.
NOT_REGISTERED = msg("Không đăng ký được người này: hãy báo điều phối viên (trưởng ca) kiểm tra")


def _same_person(stored: str, typed: str) -> bool:
    """Whether a typed name is the stored one (case, diacritics and spacing aside)."""
    return fold(stored) == fold(typed)


async def _person_on_phone(session: AsyncSession, *, phone: str, name: str) -> tuple[Contact, bool]:
    """The contact of the person registered on a number, and whether they were on record.
    A household shares one phone: the person is whoever on the number (its owner, or a
    member sharing it) bears the typed name; the owner when no name is typed, or when the
    owner has none yet (the typed one fills it). Anyone else is another member of the
    household: a contact of their own that shares the number, so their urgent case carries
    it to call back. Readings are never put on someone else's record by the number alone."""
    e164 = normalise_phone(phone, field="phone")
    owner_id, people = await household_on_phone(session, e164, lock=True)
    if owner_id is None:
        return await find_or_create_by_phone(session, phone=e164, name=name, field="phone"), False
    owner = people[0]
    if not name:
        return owner, True
    for person in people:
        if person.name and _same_person(person.name, name):
            return person, True
    if not owner.name:
        owner.name = name
        return owner, True
    return await add_household_member(session, e164=e164, name=name), False


async def register_patient(session: AsyncSession, *, actor: Actor, data: PatientIn) -> CarePatient:
    """Register an F0/F1 person (care roles): the contact found or created by phone, or the
    case's reporter; eligibility for home care assessed with its reasons; assigned to a
    doctor; what was measured recorded as the first check-in, a warning sign in it
    escalated (alert, urgent case to 115) as on any check-in; check-ins scheduled."""
    may_follow(actor)
    if data.name.strip() == "" and data.name != "":
        raise InvalidInput(msg("Họ tên không được chỉ có khoảng trắng"), field="name")
    data = replace(data, name=patient_name(data.name), address=patient_address(data.address))
    if data.doctor_id is not None and not sees_all(actor):
        # Who may choose, not what was typed: a doctor asking is refused (403).
        raise NotAllowed(msg("Chỉ trưởng ca chọn bác sĩ phụ trách"), field="doctor_id")
    _checked(data)
    check_pregnancy(pregnant=data.pregnant, age=data.age)
    measured = _measured(data)
    vitals = vitals_of(measured) if measured is not None else None
    case_id = None
    contact: Contact | None = None
    if data.case_code:
        case = await case_to_register(session, actor=actor, code=data.case_code)
        case_id = case.id
        if case.contact_id is not None and not data.phone:
            contact = await get_contact(session, case.contact_id)
    known = contact is not None  # a citizen on record: the answer shows their record
    if contact is None:
        if not data.phone:
            raise InvalidInput("Cần số điện thoại của người bệnh", field="phone")
        contact, known = await _person_on_phone(session, phone=data.phone, name=data.name)
    conflict = await _already_followed(session, actor, contact.id)
    if conflict is not None and conflict.extra:
        # Their doctor or a coordinator: told at once which patient it is.
        raise conflict
    if not data.case_code and not data.name and contact.name:
        # Without a name the number alone would pick the person, and the answer would tell
        # whoever typed it the name on record: a look-up by phone. The name is asked for,
        # before anyone else is refused: a refusal for the number alone would tell them
        # that someone on it is followed at home.
        raise InvalidInput("Cần họ tên người bệnh", field="name")
    if conflict is not None:
        raise conflict
    if data.ward_code:
        await check_ward(session, data.ward_code)
    site = site_of(session)
    now = utcnow()
    today = site.local(now).date()
    check_dates(today, test_date=data.test_date, last_dose_date=data.last_dose_date)
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
            warning_signs=_signs(session, vitals, data.age) if vitals is not None else (),
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
    try:
        # The unique index on a contact's followed patient (one not ended) refuses the
        # second of two registrations at once; the savepoint keeps the transaction usable
        # to answer it as the check above does.
        async with session.begin_nested():
            session.add(patient)
            await session.flush()
    except IntegrityError:
        conflict = await _already_followed(session, actor, contact.id)
        if conflict is None:
            raise
        raise conflict from None
    await _assign(session, patient, data.doctor_id)
    if measured is not None:
        await record_at_registration(session, actor=actor, patient=patient, data=measured)
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


# The record's fields an edit may change that eligibility reads (care/followup.py).
ELIGIBILITY_FIELDS = frozenset(
    {
        "status",
        "age",
        "vaccine_doses",
        "last_dose_date",
        "test_date",
        "comorbidities",
        "comorbidities_stable",
        "pregnant",
        "can_self_care",
        "has_carer",
    }
)
# Check-ins looked back over for the latest SpO2 and respiratory rate measured.
LOOK_BACK = 20


async def assess_again(session: AsyncSession, patient: CarePatient) -> tuple[str, str]:
    """Eligibility assessed again from the record as it is now and the latest measures
    (SpO2 and respiratory rate each from the latest check-in measuring it, the symptoms of
    the latest check-in recording symptoms; the registration's measures are its first
    check-in), stored with
    its reasons. Returns the decision before and after."""
    rows = (
        await session.execute(
            select(CheckIn.spo2, CheckIn.respiratory_rate, CheckIn.symptoms, CheckIn.result)
            .where(CheckIn.patient_id == patient.id)
            .order_by(CheckIn.at.desc(), CheckIn.id.desc())
            .limit(LOOK_BACK)
        )
    ).all()
    spo2 = next((r.spo2 for r in rows if r.spo2 is not None), None)
    rr = next((r.respiratory_rate for r in rows if r.respiratory_rate is not None), None)
    # The symptoms of the latest check-in that recorded them: one that did not ask (stored
    # as no symptoms, `symptoms_recorded` false) keeps the earlier ones, warning signs too.
    symptoms = next(
        (
            frozenset(r.symptoms or ())
            for r in rows
            if r.symptoms or (r.result or {}).get("symptoms_recorded")
        ),
        frozenset(),
    )
    site = site_of(session)
    vitals = Vitals(spo2=spo2, respiratory_rate=rr, symptoms=symptoms)
    found = assess(
        Facts(
            status=patient.status.value,
            age=patient.age,
            comorbidities=frozenset(patient.comorbidities),
            comorbidities_stable=patient.comorbidities_stable,
            pregnant=patient.pregnant,
            vaccine_doses=patient.vaccine_doses,
            last_dose_date=patient.last_dose_date,
            test_date=patient.test_date,
            spo2=spo2,
            respiratory_rate=rr,
            symptoms=symptoms,
            can_self_care=patient.can_self_care,
            has_carer=patient.has_carer,
            warning_signs=_signs(session, vitals, patient.age),
        ),
        rule_set=site.care.eligibility,
        on=patient.test_date or site.local(utcnow()).date(),
    )
    was = str((patient.eligibility or {}).get("decision", ""))
    patient.eligible = found.eligible
    patient.eligibility = found.as_json()
    return was, found.decision
