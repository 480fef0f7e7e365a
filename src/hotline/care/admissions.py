"""Admission requests a doctor sends to a treatment facility and follows, and the facility's
answers. A patient followed at home has at most one request open (requested or accepted) at
a time; accepting takes a free bed of the kind, held for the patient until they are admitted
(or given back if the request is cancelled); admitting ends the follow-up at home."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.care.access import get_patient_for
from hotline.care.facilities import BED_KINDS, COUNTS, keeps
from hotline.care.models import Admission, AdmissionStatus, CarePatient, CareState, Facility
from hotline.care.places import leave_home, lock_patient
from hotline.contacts.service import ReadSubject, log_personal_reads
from hotline.db import utcnow
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.messages import Message, msg

# Who answers an admission request (the facility's unit), and from which status.
TRANSITIONS: dict[AdmissionStatus, frozenset[AdmissionStatus]] = {
    AdmissionStatus.REQUESTED: frozenset(
        {AdmissionStatus.ACCEPTED, AdmissionStatus.REFUSED, AdmissionStatus.CANCELLED}
    ),
    AdmissionStatus.ACCEPTED: frozenset({AdmissionStatus.ADMITTED, AdmissionStatus.CANCELLED}),
    AdmissionStatus.REFUSED: frozenset(),
    AdmissionStatus.ADMITTED: frozenset(),
    AdmissionStatus.CANCELLED: frozenset(),
}
# Open requests: a patient has at most one.
ACTIVE = (AdmissionStatus.REQUESTED, AdmissionStatus.ACCEPTED)
# A patient's state and a bed kind as an error names them (the pages' labels).
STATE_LABELS = {
    CareState.ACTIVE: msg("Đang theo dõi tại nhà"),
    CareState.ADMITTED: msg("Đã nhập viện"),
    CareState.ENDED: msg("Kết thúc theo dõi"),
}
BED_LABELS = {
    "general": msg("thường"),
    "oxygen": msg("thở oxy"),
    "icu": msg("hồi sức tích cực (ICU)"),
}


def admission_json(a: Admission) -> dict[str, Any]:
    return {
        "id": a.id,
        "patient_id": a.patient_id,
        "facility_id": a.facility_id,
        "bed_kind": a.bed_kind,
        "status": a.status.value,
        "note": a.note,
        "created_at": a.created_at.isoformat(),
        "updated_at": a.updated_at.isoformat(),
    }


def _no_bed(kind: str) -> Message:
    return msg("Cơ sở này không còn giường {kind} trống", kind=BED_LABELS[kind])


async def request_admission(
    session: AsyncSession,
    *,
    actor: Actor,
    patient_id: int,
    facility_id: int,
    bed_kind: str,
    note: str = "",
) -> Admission:
    """The patient's doctor asks a facility with a free bed of the kind to admit them: only
    for a patient followed at home, and one request at a time (requested or accepted)."""
    patient = await get_patient_for(session, actor, patient_id)
    if bed_kind not in BED_KINDS:
        raise InvalidInput(msg("Loại giường không hợp lệ: {kind}", kind=bed_kind), field="bed_kind")
    f = await session.get(Facility, facility_id)
    if f is None:
        raise NotFound("Không tìm thấy cơ sở điều trị", field="facility_id")
    # Two requests at once for one patient: the second waits here and sees the first.
    await lock_patient(session, patient)
    if patient.state != CareState.ACTIVE:
        raise InvalidTransition(
            msg(
                "Chỉ yêu cầu nhập viện được cho người bệnh đang theo dõi tại nhà (hiện: {state})",
                state=STATE_LABELS[patient.state],
            ),
            field="state",
        )
    pending = await session.scalar(
        select(Admission.id)
        .where(Admission.patient_id == patient.id, Admission.status.in_(ACTIVE))
        .limit(1)
    )
    if pending is not None:
        raise Conflict(
            msg("Người bệnh đã có yêu cầu nhập viện đang chờ (số {id})", id=pending),
            field="patient_id",
        )
    if getattr(f, f"{COUNTS[bed_kind]}_free") < 1:
        # Checked again, and the bed taken, when the facility accepts.
        raise InvalidInput(_no_bed(bed_kind), field="bed_kind")
    now = utcnow()
    a = Admission(
        patient_id=patient.id,
        facility_id=f.id,
        bed_kind=bed_kind,
        status=AdmissionStatus.REQUESTED,
        note=note.strip()[:2000],
        requested_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(a)
    await session.flush()
    return a


async def _log_reads(
    session: AsyncSession, actor: Actor, purpose: str, admissions: list[Admission]
) -> None:
    patient_ids = {a.patient_id for a in admissions}
    if not patient_ids:
        return
    contacts = (
        await session.scalars(select(CarePatient.contact_id).where(CarePatient.id.in_(patient_ids)))
    ).all()
    await log_personal_reads(
        session,
        user_id=actor.user_id,
        purpose=purpose,
        subjects=[ReadSubject(contact_id=c) for c in sorted(set(contacts))],
    )


async def admissions_of(session: AsyncSession, *, actor: Actor, patient_id: int) -> list[Admission]:
    """A patient's admission requests, newest first, for those who may see the patient; a
    logged read of the patient (`care_admissions`)."""
    patient = await get_patient_for(session, actor, patient_id)
    rows = await session.scalars(
        select(Admission).where(Admission.patient_id == patient.id).order_by(Admission.id.desc())
    )
    await log_personal_reads(
        session,
        user_id=actor.user_id,
        purpose="care_admissions",
        subjects=[ReadSubject(contact_id=patient.contact_id)],
    )
    return list(rows.all())


async def facility_admissions(
    session: AsyncSession, *, actor: Actor, facility_id: int
) -> list[Admission]:
    """The requests sent to a facility, newest first, for its unit (and administrators); a
    logged read of each patient listed (`care_facility_admissions`)."""
    f = await session.get(Facility, facility_id)
    if f is None or not keeps(actor, f):
        raise NotFound("Không tìm thấy cơ sở điều trị", field="facility_id")
    found = list(
        (
            await session.scalars(
                select(Admission).where(Admission.facility_id == f.id).order_by(Admission.id.desc())
            )
        ).all()
    )
    await _log_reads(session, actor, "care_facility_admissions", found)
    return found


async def _take_bed(session: AsyncSession, f: Facility, kind: str) -> None:
    # Conditional: two accepts at once cannot both take the last bed.
    column = getattr(Facility, f"{COUNTS[kind]}_free")
    done = await session.execute(
        update(Facility)
        .where(Facility.id == f.id, column > 0)
        .values({column: column - 1})
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        raise Conflict(_no_bed(kind), field="bed_kind")
    await session.refresh(f)


async def _give_bed_back(session: AsyncSession, facility_id: int, kind: str) -> None:
    free = getattr(Facility, f"{COUNTS[kind]}_free")
    total = getattr(Facility, f"{COUNTS[kind]}_total")
    await session.execute(
        update(Facility)
        .where(Facility.id == facility_id, free < total)
        .values({free: free + 1})
        .execution_options(synchronize_session=False)
    )


async def _patient(session: AsyncSession, patient_id: int) -> CarePatient:
    patient = await session.get(CarePatient, patient_id)
    assert patient is not None  # an admission's patient (a foreign key)
    return patient


async def answer_admission(
    session: AsyncSession, *, actor: Actor, admission_id: int, status: str
) -> Admission:
    """The facility's unit accepts (taking a free bed of the kind, held for the patient),
    refuses or admits; the requesting side may cancel (an accepted request's bed is given
    back). Only a patient followed at home is accepted or admitted; admitting ends their
    follow-up at home (no more check-ins due) and frees their doctor's place, once."""
    a = await session.get(Admission, admission_id)
    f = await session.get(Facility, a.facility_id) if a is not None else None
    if a is None or f is None:
        raise NotFound("Không tìm thấy yêu cầu nhập viện", field="admission_id")
    try:
        to = AdmissionStatus(status)
    except ValueError:
        raise InvalidInput(
            msg("Trạng thái không hợp lệ: {status}", status=status), field="status"
        ) from None
    if to == AdmissionStatus.CANCELLED:
        patient = await get_patient_for(session, actor, a.patient_id)
    elif not keeps(actor, f):
        raise NotFound("Không tìm thấy yêu cầu nhập viện", field="admission_id")
    else:
        patient = await _patient(session, a.patient_id)
    # One change of the patient's at a time: answers, requests and the end of the follow-up.
    await lock_patient(session, patient)
    await session.refresh(a)
    if to not in TRANSITIONS[a.status]:
        raise InvalidTransition(
            msg("Không thể chuyển từ {current} sang {to}", current=a.status.value, to=to.value),
            field="status",
        )
    if to in (AdmissionStatus.ACCEPTED, AdmissionStatus.ADMITTED) and (
        patient.state != CareState.ACTIVE
    ):
        raise InvalidTransition(
            msg(
                "Người bệnh không còn theo dõi tại nhà (hiện: {state})",
                state=STATE_LABELS[patient.state],
            ),
            field="state",
        )
    was = a.status
    a.status, a.answered_by_id, a.updated_at = to, actor.user_id, utcnow()
    if to == AdmissionStatus.ACCEPTED:
        await _take_bed(session, f, a.bed_kind)
    elif to == AdmissionStatus.CANCELLED and was == AdmissionStatus.ACCEPTED:
        await _give_bed_back(session, f.id, a.bed_kind)
    elif to == AdmissionStatus.ADMITTED and not await leave_home(
        session, patient, to=CareState.ADMITTED
    ):
        raise InvalidTransition(msg("Đã kết thúc theo dõi người bệnh này"), field="state")
    await session.flush()
    # The answer shows the request (the doctor's note on the patient): a logged read.
    await _log_reads(session, actor, "care_admission_answer", [a])
    return a


async def withdraw_admissions(session: AsyncSession, *, actor: Actor, patient: CarePatient) -> None:
    """The patient's follow-up ended: their requests still open are cancelled, and the bed
    an accepted one held is given back."""
    for a in (
        await session.scalars(
            select(Admission).where(
                Admission.patient_id == patient.id, Admission.status.in_(ACTIVE)
            )
        )
    ).all():
        if a.status == AdmissionStatus.ACCEPTED:
            await _give_bed_back(session, a.facility_id, a.bed_kind)
        a.status, a.answered_by_id, a.updated_at = (
            AdmissionStatus.CANCELLED,
            actor.user_id,
            utcnow(),
        )
    await session.flush()
