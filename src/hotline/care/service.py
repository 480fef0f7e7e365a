"""Patients followed at home after registration (care/registration.py): their doctor
assigned, read (logged), listed, and the doctor's worklist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import User
from hotline.auth.service import Actor
from hotline.care.access import get_patient_for, may_follow, sees_all
from hotline.care.models import CareDoctor, CarePatient, CareState, CheckInSlot, SlotState
from hotline.care.views import PatientView, view_of, views_of
from hotline.contacts.service import ReadSubject, log_personal_reads
from hotline.db import utcnow
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.messages import msg
from hotline.site import site_of


def _may_take(doctor_id: Any) -> tuple[Any, ...]:
    """The conditions a doctor's place is taken on, checked in the UPDATE itself (a doctor
    deactivated, moved out of proactive care or full meanwhile is passed over): an active
    proactive-care doctor, an active account, below their capacity."""
    return (
        CareDoctor.user_id == doctor_id,
        CareDoctor.active.is_(True),
        CareDoctor.proactive.is_(True),
        CareDoctor.patient_count < CareDoctor.capacity,
        CareDoctor.user_id.in_(select(User.id).where(User.active.is_(True))),
    )


_TAKE = update(CareDoctor).values(patient_count=CareDoctor.patient_count + 1)


async def take_place(session: AsyncSession, doctor_id: int) -> None:
    """A place with this doctor for a patient a coordinator names (at registration, or on a
    reassignment): an active proactive-care doctor (an active account) below their
    capacity, else refused (422 for a doctor who does not follow patients at home, 409 for
    one who has no room)."""
    done = await session.execute(
        _TAKE.where(*_may_take(doctor_id)).execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) == 1:
        return
    doctor = await session.get(CareDoctor, doctor_id, populate_existing=True)
    if doctor is None:
        raise InvalidInput(msg("Không có bác sĩ này trong mạng lưới"), field="doctor_id")
    user = await session.get(User, doctor_id)
    if not (doctor.active and doctor.proactive and user is not None and user.active):
        raise InvalidInput(
            msg("Bác sĩ này không thuộc nhóm chăm sóc chủ động đang hoạt động: chọn bác sĩ khác"),
            field="doctor_id",
            code="not_proactive",
        )
    raise Conflict(
        msg(
            "Bác sĩ này đã đủ người bệnh ({count}/{capacity}): chọn bác sĩ khác, "
            "hoặc tăng số người bệnh tối đa của bác sĩ trước",
            count=doctor.patient_count,
            capacity=doctor.capacity,
        ),
        field="doctor_id",
        code="doctor_full",
    )


async def _assign(session: AsyncSession, patient: CarePatient, doctor_id: int | None) -> None:
    """The named doctor (the rules of take_place), else the proactive-care doctor (an
    active account) with the fewest patients (then the lowest user id) who has room; none
    with room: left unassigned for a supervisor."""
    if doctor_id is not None:
        await take_place(session, doctor_id)
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
        # Another registration may have taken the last place meanwhile, or the doctor was
        # deactivated: the UPDATE checks every rule again; when it fails, the next one.
        done = await session.execute(
            _TAKE.where(*_may_take(candidate)).execution_options(synchronize_session=False)
        )
        if getattr(done, "rowcount", 0) == 1:
            patient.doctor_id = candidate
            return


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
