"""Treatment facilities and their free beds, kept by their units; admission requests a
doctor sends and follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.care.access import get_patient_for
from hotline.care.models import Admission, AdmissionStatus, CareDoctor, CareState, Facility
from hotline.care.schedule import close_open_slots
from hotline.db import utcnow
from hotline.directory.service import check_ward, get_unit
from hotline.errors import InvalidInput, InvalidTransition, NotAllowed, NotFound
from hotline.messages import msg

BED_KINDS = ("general", "oxygen", "icu")
_COUNTS = {"general": "beds", "oxygen": "oxygen_beds", "icu": "icu_beds"}
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


@dataclass
class BedsIn:
    beds_total: int | None = None
    beds_free: int | None = None
    oxygen_beds_total: int | None = None
    oxygen_beds_free: int | None = None
    icu_beds_total: int | None = None
    icu_beds_free: int | None = None


def facility_json(f: Facility) -> dict[str, Any]:
    return {
        "id": f.id,
        "unit_id": f.unit_id,
        "name": f.name,
        "address": f.address,
        "ward_code": f.ward_code,
        "beds": {
            kind: {"total": getattr(f, f"{c}_total"), "free": getattr(f, f"{c}_free")}
            for kind, c in _COUNTS.items()
        },
        "updated_at": f.updated_at.isoformat(),
    }


def _apply(f: Facility, beds: BedsIn) -> None:
    for name in ("beds", "oxygen_beds", "icu_beds"):
        total = getattr(beds, f"{name}_total")
        free = getattr(beds, f"{name}_free")
        if total is not None:
            setattr(f, f"{name}_total", total)
        if free is not None:
            setattr(f, f"{name}_free", free)
        if not 0 <= getattr(f, f"{name}_free") <= getattr(f, f"{name}_total"):
            raise InvalidInput("Số giường trống phải từ 0 đến tổng số giường", field=f"{name}_free")


async def create_facility(
    session: AsyncSession,
    *,
    actor: Actor,
    unit_id: int,
    name: str,
    address: str = "",
    ward_code: str | None = None,
    beds: BedsIn | None = None,
) -> Facility:
    """Add a facility kept by a unit (administrators)."""
    require(actor, Permission.MANAGE_FACILITIES)
    await get_unit(session, unit_id)
    if not name.strip():
        raise InvalidInput("Cần tên cơ sở", field="name")
    if ward_code:
        await check_ward(session, ward_code)
    f = Facility(
        unit_id=unit_id,
        name=name.strip(),
        address=address.strip(),
        ward_code=ward_code or None,
        beds_total=0,
        beds_free=0,
        oxygen_beds_total=0,
        oxygen_beds_free=0,
        icu_beds_total=0,
        icu_beds_free=0,
        updated_at=utcnow(),
        updated_by_id=actor.user_id,
    )
    _apply(f, beds or BedsIn())
    session.add(f)
    await session.flush()
    return f


def _keeps(actor: Actor, f: Facility) -> bool:
    return allows(actor, Permission.MANAGE_FACILITIES) or (
        actor.unit_scoped and actor.unit_id == f.unit_id
    )


async def update_beds(
    session: AsyncSession, *, actor: Actor, facility_id: int, beds: BedsIn
) -> Facility:
    """A facility's unit (its officers) or an administrator sets its bed counts."""
    f = await session.get(Facility, facility_id)
    if f is None:
        raise NotFound("Không tìm thấy cơ sở điều trị", field="facility_id")
    if not _keeps(actor, f):
        raise NotAllowed(msg("Chỉ đơn vị quản lý cơ sở được cập nhật số giường"))
    _apply(f, beds)
    f.updated_at, f.updated_by_id = utcnow(), actor.user_id
    await session.flush()
    return f


async def list_facilities(
    session: AsyncSession, *, actor: Actor, free: str | None = None
) -> list[Facility]:
    """Facilities and their beds (care roles, and units' officers for their own); with
    `free`, only those with a free bed of that kind, the most free first."""
    stmt = select(Facility).order_by(Facility.name, Facility.id)
    if not allows(actor, Permission.FOLLOW_PATIENTS):
        if not actor.unit_scoped:
            require(actor, Permission.FOLLOW_PATIENTS)
        stmt = stmt.where(Facility.unit_id == actor.unit_id)
    if free is not None:
        if free not in BED_KINDS:
            raise InvalidInput(msg("Loại giường không hợp lệ: {kind}", kind=free), field="free")
        column = getattr(Facility, f"{_COUNTS[free]}_free")
        stmt = stmt.where(column > 0).order_by(None).order_by(column.desc(), Facility.id)
    return list((await session.scalars(stmt)).all())


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


async def request_admission(
    session: AsyncSession,
    *,
    actor: Actor,
    patient_id: int,
    facility_id: int,
    bed_kind: str,
    note: str = "",
) -> Admission:
    """The patient's doctor asks a facility with a free bed of the kind to admit them."""
    patient = await get_patient_for(session, actor, patient_id)
    if bed_kind not in BED_KINDS:
        raise InvalidInput(msg("Loại giường không hợp lệ: {kind}", kind=bed_kind), field="bed_kind")
    f = await session.get(Facility, facility_id)
    if f is None:
        raise NotFound("Không tìm thấy cơ sở điều trị", field="facility_id")
    if getattr(f, f"{_COUNTS[bed_kind]}_free") < 1:
        raise InvalidInput("Cơ sở này không còn giường trống loại này", field="bed_kind")
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


async def admissions_of(session: AsyncSession, *, actor: Actor, patient_id: int) -> list[Admission]:
    patient = await get_patient_for(session, actor, patient_id)
    rows = await session.scalars(
        select(Admission).where(Admission.patient_id == patient.id).order_by(Admission.id.desc())
    )
    return list(rows.all())


async def facility_admissions(
    session: AsyncSession, *, actor: Actor, facility_id: int
) -> list[Admission]:
    """The requests sent to a facility, newest first, for its unit (and administrators)."""
    f = await session.get(Facility, facility_id)
    if f is None or not _keeps(actor, f):
        raise NotFound("Không tìm thấy cơ sở điều trị", field="facility_id")
    rows = await session.scalars(
        select(Admission).where(Admission.facility_id == f.id).order_by(Admission.id.desc())
    )
    return list(rows.all())


async def answer_admission(
    session: AsyncSession, *, actor: Actor, admission_id: int, status: str
) -> Admission:
    """The facility's unit accepts, refuses or admits; the requesting side may cancel. An
    admitted patient's follow-up at home ends (no more check-ins due)."""
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
        await get_patient_for(session, actor, a.patient_id)
    elif not _keeps(actor, f):
        raise NotFound("Không tìm thấy yêu cầu nhập viện", field="admission_id")
    if to not in TRANSITIONS[a.status]:
        raise InvalidTransition(
            msg("Không thể chuyển từ {current} sang {to}", current=a.status.value, to=to.value),
            field="status",
        )
    a.status, a.answered_by_id, a.updated_at = to, actor.user_id, utcnow()
    if to == AdmissionStatus.ADMITTED:
        from hotline.care.models import CarePatient

        patient = await session.get(CarePatient, a.patient_id)
        assert patient is not None
        patient.state = CareState.ADMITTED
        column = f"{_COUNTS[a.bed_kind]}_free"
        setattr(f, column, max(0, getattr(f, column) - 1))
        await close_open_slots(session, patient)
        if patient.doctor_id is not None:
            # The doctor's place is free again for a patient at home.
            await session.execute(
                update(CareDoctor)
                .where(CareDoctor.user_id == patient.doctor_id, CareDoctor.patient_count > 0)
                .values(patient_count=CareDoctor.patient_count - 1)
            )
    await session.flush()
    return a
