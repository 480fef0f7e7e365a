"""A followed patient's place with their doctor, and the lock that orders a patient's changes.

A patient at home (state active) holds one place in their doctor's `patient_count`. The change
that moves them out of home care (admitted to a facility, or their follow-up ended) frees it,
and only that change: it is a conditional UPDATE from `active`, so a second admission, or an
end after an admission, finds nothing to move and frees nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.care.models import CareDoctor, CarePatient, CareState
from hotline.care.schedule import close_open_slots


async def lock_patient(session: AsyncSession, patient: CarePatient) -> None:
    """Wait for the patient's other changes in flight (an admission answered, a follow-up
    ended, a reassignment) and read the patient afresh: PostgreSQL locks the row until the
    transaction ends; SQLite's writers are one at a time already (BEGIN IMMEDIATE)."""
    await session.execute(
        select(CarePatient.id).where(CarePatient.id == patient.id).with_for_update()
    )
    await session.refresh(patient)


async def free_place(session: AsyncSession, doctor_id: int | None) -> None:
    """One place of the doctor's is free again (never below none)."""
    if doctor_id is not None:
        await session.execute(
            update(CareDoctor)
            .where(CareDoctor.user_id == doctor_id, CareDoctor.patient_count > 0)
            .values(patient_count=CareDoctor.patient_count - 1)
            .execution_options(synchronize_session=False)
        )


async def leave_home(
    session: AsyncSession, patient: CarePatient, *, to: CareState, **values: Any
) -> bool:
    """Move a patient followed at home to `to` (with `values`): no check-in is due any more
    and their doctor's place is freed. False, and nothing changed, when the patient was not
    at home any more."""
    done = await session.execute(
        update(CarePatient)
        .where(CarePatient.id == patient.id, CarePatient.state == CareState.ACTIVE)
        .values(state=to, **values)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(patient)
    if getattr(done, "rowcount", 0) != 1:
        return False
    await close_open_slots(session, patient)
    await free_place(session, patient.doctor_id)
    return True
