"""A doctor who stops following patients at home hands their patients over: their profile
deactivated or taken out of the proactive-care group (doctors.save_doctor), or their account
disabled (seen by the worker's sweep). Each patient goes to the least-loaded proactive-care
doctor with room, as a registration does (service._assign), or waits for a coordinator."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import User
from hotline.auth.service import Actor
from hotline.care.followup import _change
from hotline.care.models import CareDoctor, CarePatient, CareState
from hotline.care.places import free_place
from hotline.care.service import _assign
from hotline.events import DomainEvent, record_event


async def release_patients(session: AsyncSession, *, actor: Actor | None, doctor_id: int) -> int:
    """A doctor who no longer follows patients at home (deactivated, or out of the
    proactive-care group): each of their patients at home, riskiest first, goes to the
    proactive-care doctor with the fewest patients who has room, or, nobody having room,
    waits without a doctor in the coordinators' list. Each move is on the trail
    (`reassign`) and a live `care.assigned` (`doctor_id` null: waiting). Admitted patients
    keep their doctor (their place was freed on admission). Returns how many moved."""
    patients = (
        await session.scalars(
            select(CarePatient)
            .where(CarePatient.doctor_id == doctor_id, CarePatient.state == CareState.ACTIVE)
            .order_by(CarePatient.risk_rank.desc(), CarePatient.id)
            .with_for_update()
        )
    ).all()
    for patient in patients:
        await free_place(session, doctor_id)
        patient.doctor_id = None
        await _assign(session, patient, None)  # never this doctor: no longer proactive
        after = {"doctor_id": patient.doctor_id}
        _change(session, patient, actor, "reassign", {"doctor_id": doctor_id}, after)
        record_event(
            session,
            DomainEvent(
                kind="care.assigned",
                data={"patient_id": patient.id, **after, "from_doctor_id": doctor_id},
            ),
        )
    await session.flush()
    return len(patients)


async def release_disabled_accounts(session: AsyncSession, *, limit: int = 200) -> int:
    """The worker's sweep: the patients at home of doctors whose account was disabled (an
    administrator's act, which the care profile does not hear of) are handed over as
    `release_patients` does. Returns how many moved."""
    doctors = (
        await session.scalars(
            select(CareDoctor.user_id)
            .join(User, User.id == CareDoctor.user_id)
            .where(
                User.active.is_(False),
                CareDoctor.user_id.in_(
                    select(CarePatient.doctor_id).where(CarePatient.state == CareState.ACTIVE)
                ),
            )
            .order_by(CareDoctor.user_id)
            .limit(limit)
        )
    ).all()
    moved = 0
    for doctor_id in doctors:
        moved += await release_patients(session, actor=None, doctor_id=doctor_id)
    return moved
