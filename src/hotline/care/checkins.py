"""Check-ins: recorded by the doctor during a call or by the patient or carer through their
signed link; risk evaluated on each; a warning sign or a red tier escalates (a live alert to
the doctor and the supervisors, an urgent `cap_cuu` case forwarded to the 115 unit), all in
the check-in's transaction."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.care.access import get_patient_for
from hotline.care.escalation import escalate, open_urgent_case
from hotline.care.models import CarePatient, CareState, CheckIn, CheckInSlot, SlotState
from hotline.care.risk import TIER_RANK, Risk, Vitals, evaluate
from hotline.care.rulesets import CONSCIOUSNESS, SYMPTOMS
from hotline.care.service import RANK_TIER
from hotline.contacts.service import ReadSubject, log_personal_reads
from hotline.db import utcnow
from hotline.errors import InvalidInput, InvalidTransition, NotFound
from hotline.events import DomainEvent, record_event
from hotline.messages import msg
from hotline.site import site_of

# A check-in this long before a slot's due time counts for it (a morning call at 07:30).
EARLY = timedelta(hours=3)
# A check-in measuring all of these is complete: it may show that a patient with an open
# urgent case improved. A partial one (any missing) cannot lower their risk meanwhile.
COMPLETE = ("spo2", "respiratory_rate", "pulse")

# field: (lowest, highest) a measurement may take; outside it is a typing error.
RANGES: dict[str, tuple[float, float]] = {
    "spo2": (50, 100),
    "respiratory_rate": (1, 80),
    "pulse": (20, 250),
    "temperature": (30.0, 44.0),
    "systolic_bp": (40, 300),
    "diastolic_bp": (20, 200),
}
MEASURES = (*RANGES, "consciousness", "symptoms")


@dataclass
class CheckInData:
    # The API hands any JSON number here; `checked` answers with the measure's range and
    # makes the whole-number measures ints.
    spo2: float | None = None
    respiratory_rate: float | None = None
    pulse: float | None = None
    temperature: float | None = None
    systolic_bp: float | None = None
    diastolic_bp: float | None = None
    consciousness: str | None = None
    symptoms: tuple[str, ...] | None = None
    on_oxygen: bool = False
    note: str = ""


def _tenth(value: float) -> float:
    """A temperature at the NEWS2 chart's resolution (0.1 °C, halves up): 38.04 is 38.0 and
    scores as it, not between the chart's bands."""
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def vitals_of(data: CheckInData) -> Vitals:
    """The check-in's vitals, checked: at least one measure, each a finite number in its
    range, whole where a whole number is due (`data`'s measures made so: ints, the
    temperature to 0.1 °C)."""
    # An empty list of symptoms measures nothing (and would mark the due check-in done).
    given = [f for f in MEASURES if getattr(data, f) not in (None, (), [])]
    if not given:
        raise InvalidInput(msg("Cần ít nhất một chỉ số: {fields}", fields=MEASURES), field="vitals")
    for name, (low, high) in RANGES.items():
        value = getattr(data, name)
        if value is None:
            continue
        if isinstance(value, float) and math.isnan(value):
            raise InvalidInput(msg("Phải là số hữu hạn"), field=name)
        if not low <= value <= high:
            raise InvalidInput(
                msg("Giá trị ngoài khoảng {low}–{high}", low=low, high=high), field=name
            )
        if name == "temperature":
            setattr(data, name, _tenth(float(value)))
        elif isinstance(value, float):
            if not value.is_integer():
                raise InvalidInput(msg("Phải là số nguyên"), field=name)
            setattr(data, name, int(value))
    if (
        data.systolic_bp is not None
        and data.diastolic_bp is not None
        and data.diastolic_bp >= data.systolic_bp
    ):  # the two swapped, or a typing error: neither is a pressure to score
        raise InvalidInput(msg("Huyết áp tâm trương phải thấp hơn tâm thu"), field="diastolic_bp")
    if data.consciousness is not None and data.consciousness not in CONSCIOUSNESS:
        raise InvalidInput(
            msg("Tri giác phải là một trong: {values}", values=CONSCIOUSNESS),
            field="consciousness",
        )
    symptoms = tuple(data.symptoms or ())
    bad = [s for s in symptoms if s not in SYMPTOMS]
    if bad:
        raise InvalidInput(
            msg("Triệu chứng không có trong danh mục: {codes}", codes=tuple(bad)),
            field="symptoms",
        )
    return Vitals(
        spo2=_whole(data.spo2),
        respiratory_rate=_whole(data.respiratory_rate),
        pulse=_whole(data.pulse),
        temperature=data.temperature,
        systolic_bp=_whole(data.systolic_bp),
        diastolic_bp=_whole(data.diastolic_bp),
        consciousness=data.consciousness,
        on_oxygen=data.on_oxygen,
        symptoms=frozenset(symptoms),
    )


def _whole(value: float | None) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class Recorded:
    checkin: CheckIn
    risk: Risk  # as computed from this check-in's measures alone
    case_code: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.checkin.id,
            "patient_id": self.checkin.patient_id,
            "at": self.checkin.at.isoformat(),
            **self.checkin.result,
            "case_code": self.case_code,
        }


# How many of the latest check-ins are searched for the last symptoms recorded.
LOOK_BACK = 20


def standing_in(latest_first: Iterable[Any]) -> frozenset[str]:
    """The symptoms of the latest of these check-ins (newest first, each with `symptoms`
    and `result`) that recorded them: each check-in not asking stores those it carried
    forward, so the latest with any, or recorded as none."""
    for r in latest_first:
        if r.symptoms or (r.result or {}).get("symptoms_recorded"):
            return frozenset(r.symptoms or ())
    return frozenset()


async def standing_symptoms(session: AsyncSession, patient: CarePatient) -> frozenset[str]:
    """The symptoms standing for the patient (`standing_in` their latest check-ins)."""
    rows = (
        await session.execute(
            select(CheckIn.symptoms, CheckIn.result)
            .where(CheckIn.patient_id == patient.id)
            .order_by(CheckIn.at.desc(), CheckIn.id.desc())
            .limit(LOOK_BACK)
        )
    ).all()
    return standing_in(rows)


async def _held(
    session: AsyncSession, patient: CarePatient, data: CheckInData, risk: Risk
) -> dict[str, Any] | None:
    """The patient's standing result, kept, when this check-in is partial and would lower
    it while their urgent case is open (a missing SpO2 is not a better SpO2)."""
    before = patient.last_result
    if before is None or all(getattr(data, f) is not None for f in COMPLETE):
        return None
    if TIER_RANK[risk.tier] >= TIER_RANK.get(before.get("tier", "green"), 0):
        return None
    case = await open_urgent_case(session, patient)
    if case is None:
        return None
    return {
        "case_code": case.code,
        "reason": "partial_checkin_open_urgent_case",
        "missing": [f for f in COMPLETE if getattr(data, f) is None],
        "computed": {"tier": risk.tier, "risk": risk.risk, "severity": risk.severity},
        "tier": before["tier"],
        "risk": before["risk"],
        "severity": before["severity"],
    }


async def record_by_doctor(
    session: AsyncSession, *, actor: Actor, patient_id: int, data: CheckInData
) -> Recorded:
    """A check-in by the patient's doctor (or a supervisor) during a call; only while the
    patient is followed at home (an ended or admitted one's signs must not open a 115 case)."""
    patient = await get_patient_for(session, actor, patient_id)
    if patient.state != CareState.ACTIVE:
        raise InvalidTransition(
            msg("Người bệnh không còn theo dõi tại nhà: không ghi nhận lần theo dõi"),
            field="state",
        )
    return await _record(session, patient, data, by=actor, source="doctor")


async def record_by_link(
    session: AsyncSession, *, patient: CarePatient, data: CheckInData
) -> Recorded:
    """A check-in sent by the patient or their carer through the signed link (links.py)."""
    if patient.state != CareState.ACTIVE:
        raise NotFound("Không tìm thấy người bệnh", field="patient_id")
    return await _record(session, patient, data, by=None, source="link")


async def record_at_registration(
    session: AsyncSession, *, actor: Actor, patient: CarePatient, data: CheckInData
) -> Recorded:
    """What was measured at registration (care/registration.py), recorded as the patient's
    first check-in: risk evaluated and a warning sign escalated as on any check-in. Recorded
    before the schedule is made, so no due check-in counts as done by it. Not a logged read:
    the registration logs its own."""
    return await _record(session, patient, data, by=actor, source="registration", logged=False)


async def _record(
    session: AsyncSession,
    patient: CarePatient,
    data: CheckInData,
    *,
    by: Actor | None,
    source: str,
    logged: bool = True,
) -> Recorded:
    # One check-in of a patient at a time: two sent at once with the same warning signs
    # would each find no urgent case open and send the 115 unit two (PostgreSQL locks the
    # row here; SQLite's writes are one at a time already).
    await session.execute(
        select(CarePatient.id).where(CarePatient.id == patient.id).with_for_update()
    )
    await session.refresh(patient)
    vitals = vitals_of(data)
    carried: frozenset[str] = frozenset()
    if data.symptoms is None:
        # Symptoms not asked this time are not gone: a standing cyanosis keeps its warning
        # sign until a check-in records the symptoms again (`symptoms: []` for none).
        carried = await standing_symptoms(session, patient)
        vitals = replace(vitals, symptoms=carried)
    risk = evaluate(vitals, age=patient.age, warning_rule_set=site_of(session).care.warning_signs)
    result = risk.as_json()
    # Whether symptoms were asked: none recorded ([]) is not the same as not asked (None).
    result["symptoms_recorded"] = data.symptoms is not None
    if carried:
        result["symptoms_carried"] = sorted(carried)
    held = await _held(session, patient, data, risk)
    if held is not None:
        result.update(tier=held["tier"], risk=held["risk"], severity=held["severity"], held=held)
    now = utcnow()
    checkin = CheckIn(
        patient_id=patient.id,
        at=now,
        by_user_id=by.user_id if by else None,
        source=source,
        **{
            f.name: getattr(data, f.name)
            for f in fields(data)
            if f.name not in ("symptoms", "note")
        },
        symptoms=sorted(vitals.symptoms),
        note=data.note.strip()[:2000],
        news2=risk.news2,
        warning_signs=list(risk.warning_signs),
        severity=result["severity"],
        tier=result["tier"],
        risk=result["risk"],
        result=result,
        rule_set_version=risk.rule_set_version,
    )
    session.add(checkin)
    await session.flush()
    # A check-in made after a slot's alert time is not that slot's: it was missed, whether
    # the worker's sweep marked it so in time or comes to it later (it was down).
    too_late = now - timedelta(minutes=site_of(session).care.checkin_alert_minutes)
    for slot in (
        await session.scalars(
            select(CheckInSlot).where(
                CheckInSlot.patient_id == patient.id,
                CheckInSlot.state.in_((SlotState.DUE, SlotState.REMINDED)),
                CheckInSlot.due_at <= now + EARLY,
                CheckInSlot.due_at > too_late,
            )
        )
    ).all():
        slot.state, slot.checkin_id = SlotState.DONE, checkin.id
    patient.last_checkin_at = now
    if held is None:
        patient.last_result = result
        patient.risk_rank = TIER_RANK[risk.tier] * RANK_TIER + min(risk.news2, RANK_TIER - 1)
    else:  # the standing result and rank stay; the answer says why
        patient.last_result = {**(patient.last_result or {}), "held": held}
    code = None
    if risk.escalates:  # a warning sign, or a red tier without one (docs/care.md)
        code = await escalate(session, patient, checkin, risk)
        checkin.case_code = code
    if source != "registration":  # the registration assessed the patient itself
        # Every check-in assesses eligibility again: a warning sign makes the patient
        # not eligible at once (care/registration.py, imported here: it imports this).
        from hotline.care.registration import assess_again

        await assess_again(session, patient)
    # Every check-in reorders the doctor's worklist and may clear a standing alert: the
    # live care pages refresh on it (sse.py shows care.* to the doctor and the supervisors
    # only). No tier or measure on it: the refresh reads them, logged (escalation.py).
    record_event(
        session,
        DomainEvent(
            kind="care.checkin",
            data={
                "patient_id": patient.id,
                "doctor_id": patient.doctor_id,
                "checkin_id": checkin.id,
            },
        ),
    )
    if by is not None and logged:
        # The answer names the patient's risk: it is a read of their health data.
        await log_personal_reads(
            session,
            user_id=by.user_id,
            purpose="care_checkin",
            subjects=[ReadSubject(contact_id=patient.contact_id)],
        )
    await session.flush()
    return Recorded(checkin, risk, code)


async def list_checkins(
    session: AsyncSession, *, actor: Actor, patient_id: int, limit: int = 200
) -> list[CheckIn]:
    """A patient's check-ins, newest first (the patient's doctor, supervisors); logged."""
    patient = await get_patient_for(session, actor, patient_id)
    rows = await session.scalars(
        select(CheckIn)
        .where(CheckIn.patient_id == patient.id)
        .order_by(CheckIn.at.desc(), CheckIn.id.desc())
        .limit(limit)
    )
    await log_personal_reads(
        session,
        user_id=actor.user_id,
        purpose="care_checkins",
        subjects=[ReadSubject(contact_id=patient.contact_id)],
    )
    return list(rows.all())


def checkin_json(c: CheckIn) -> dict[str, Any]:
    return {
        "id": c.id,
        "at": c.at.isoformat(),
        "source": c.source,
        "by_user_id": c.by_user_id,
        "spo2": c.spo2,
        "respiratory_rate": c.respiratory_rate,
        "pulse": c.pulse,
        "temperature": c.temperature,
        "systolic_bp": c.systolic_bp,
        "diastolic_bp": c.diastolic_bp,
        "consciousness": c.consciousness,
        "on_oxygen": c.on_oxygen,
        "symptoms": c.symptoms,
        "note": c.note,
        **c.result,
        "case_code": c.case_code,
    }
