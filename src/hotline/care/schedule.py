"""Check-ins due twice a day, and the worker's sweep over them: a check-in not made some
time after it was due raises a reminder to the patient's doctor, later an alert to the
doctor and the supervisors. Slots are rows, so a restart loses nothing: the next sweep
finds what is overdue."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.care.models import CarePatient, CareState, CheckInSlot, SlotState
from hotline.db import utcnow
from hotline.events import DomainEvent, record_event
from hotline.site import site_of

# Slots exist this far ahead; the sweep extends those that fall short of it by a day.
HORIZON = timedelta(days=2)


def _times(session: AsyncSession) -> list[tuple[int, int]]:
    out = []
    for text in site_of(session).care.checkin_times:
        hour, _, minute = text.partition(":")
        out.append((int(hour), int(minute)))
    return sorted(out)


async def extend_slots(session: AsyncSession, patient: CarePatient, *, now: datetime) -> int:
    """Create the patient's check-in slots after `slots_until` (and after now) up to the
    horizon; returns how many."""
    site = site_of(session)
    until = now + HORIZON
    start = max(patient.slots_until, now)
    day = site.local(start).date()
    made = 0
    existing = set(
        (
            await session.scalars(
                select(CheckInSlot.due_at).where(
                    CheckInSlot.patient_id == patient.id, CheckInSlot.due_at > start
                )
            )
        ).all()
    )
    while True:
        for hour, minute in _times(session):
            due = datetime(day.year, day.month, day.day, hour, minute, tzinfo=site.timezone)
            if due <= start or due > until or due in existing:
                continue
            session.add(CheckInSlot(patient_id=patient.id, due_at=due, state=SlotState.DUE))
            made += 1
        if datetime(day.year, day.month, day.day, tzinfo=site.timezone) > until:
            break
        day = day + timedelta(days=1)
    patient.slots_until = until
    await session.flush()
    return made


def _event(kind: str, patient: CarePatient, **data: object) -> DomainEvent:
    return DomainEvent(
        kind=kind, data={"patient_id": patient.id, "doctor_id": patient.doctor_id, **data}
    )


async def _move(
    session: AsyncSession,
    slot: CheckInSlot,
    expected: tuple[SlotState, ...],
    to: SlotState,
    **stamp: datetime,
) -> bool:
    """Move the slot on only if it is still in an expected state: two sweeps at once (a
    worker started while the last one still sweeps) read the same slot, and only the one
    whose update finds it unchanged reminds or alerts. A check-in recorded meanwhile wins
    the same way."""
    result = await session.execute(
        update(CheckInSlot)
        .where(CheckInSlot.id == slot.id, CheckInSlot.state.in_(expected))
        .values(state=to, **stamp)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def sweep_checkins(
    session: AsyncSession, *, now: datetime | None = None, limit: int = 500
) -> int:
    """One pass of the worker: remind, then alert, on check-ins not made in time; extend
    the schedule of followed patients. Returns the slots acted on."""
    now = now or utcnow()
    care = site_of(session).care
    acted = 0
    alert_before = now - timedelta(minutes=care.checkin_alert_minutes)
    late = (
        await session.scalars(
            select(CheckInSlot)
            .where(
                CheckInSlot.state.in_((SlotState.DUE, SlotState.REMINDED)),
                CheckInSlot.due_at <= alert_before,
            )
            .order_by(CheckInSlot.due_at)
            .limit(limit)
        )
    ).all()
    for slot in late:
        if not await _move(
            session, slot, (SlotState.DUE, SlotState.REMINDED), SlotState.MISSED, alerted_at=now
        ):
            continue
        patient = await session.get(CarePatient, slot.patient_id)
        assert patient is not None
        acted += 1
        # A check-in made since the due time (the sweep came late: the worker was down)
        # ended the silence the alert would tell of; the slot is missed all the same.
        made_up = patient.last_checkin_at is not None and patient.last_checkin_at > slot.due_at
        if patient.state == CareState.ACTIVE and not made_up:
            record_event(
                session,
                _event(
                    "care.alert", patient, reason="missed_checkin", due_at=slot.due_at.isoformat()
                ),
            )
    remind_before = now - timedelta(minutes=care.checkin_remind_minutes)
    due = (
        await session.scalars(
            select(CheckInSlot)
            .where(CheckInSlot.state == SlotState.DUE, CheckInSlot.due_at <= remind_before)
            .order_by(CheckInSlot.due_at)
            .limit(limit)
        )
    ).all()
    for slot in due:
        if not await _move(session, slot, (SlotState.DUE,), SlotState.REMINDED, reminded_at=now):
            continue
        patient = await session.get(CarePatient, slot.patient_id)
        assert patient is not None
        acted += 1
        if patient.state == CareState.ACTIVE:
            record_event(session, _event("care.reminder", patient, due_at=slot.due_at.isoformat()))
    short = (
        await session.scalars(
            select(CarePatient)
            .where(
                CarePatient.state == CareState.ACTIVE,
                CarePatient.slots_until < now + HORIZON - timedelta(days=1),
            )
            .limit(limit)
        )
    ).all()
    for patient in short:
        await extend_slots(session, patient, now=now)
    # Doctors whose account was disabled hand their patients over; places freed by
    # admissions: patients waiting for a doctor get one.
    from hotline.care.followup import assign_waiting
    from hotline.care.handover import release_disabled_accounts

    acted += await release_disabled_accounts(session, limit=limit)
    acted += await assign_waiting(session, limit=limit)
    await session.flush()
    return acted


async def close_open_slots(session: AsyncSession, patient: CarePatient) -> None:
    """Follow-up at home ended (admitted, ended): nothing more is due."""
    for slot in (
        await session.scalars(
            select(CheckInSlot).where(
                CheckInSlot.patient_id == patient.id,
                CheckInSlot.state.in_((SlotState.DUE, SlotState.REMINDED)),
                CheckInSlot.due_at > utcnow(),
            )
        )
    ).all():
        await session.delete(slot)
