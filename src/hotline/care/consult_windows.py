"""The consult doctors' windows, for routing consults: who is in a window now, the next
window, and the whole week's schedule held in memory by the phone line. Asked without an
actor (the phone line and the channels ask them); profiles are edited in care/doctors.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import User
from hotline.care.models import CareDoctor, DoctorGroup, DoctorWindow
from hotline.site import site_of


async def available_consult_doctors(session: AsyncSession, at: datetime) -> list[CareDoctor]:
    """Active consult doctors (active accounts) in one of their consult windows at `at`,
    by user id."""
    local = site_of(session).local(at)
    minute = local.hour * 60 + local.minute
    rows = await session.scalars(
        select(CareDoctor)
        .join(DoctorWindow, DoctorWindow.user_id == CareDoctor.user_id)
        .join(User, User.id == CareDoctor.user_id)
        .where(
            CareDoctor.consult.is_(True),
            CareDoctor.active.is_(True),
            User.active.is_(True),
            DoctorWindow.group == DoctorGroup.CONSULT,
            DoctorWindow.weekday == local.weekday(),
            DoctorWindow.start_minute <= minute,
            DoctorWindow.end_minute > minute,
        )
        .order_by(CareDoctor.user_id)
        .distinct()
    )
    return list(rows.all())


@dataclass(frozen=True)
class ConsultWindow:
    starts_at: datetime
    ends_at: datetime
    doctor_ids: tuple[int, ...]


@dataclass(frozen=True)
class ConsultSlot:
    user_id: int
    weekday: int  # 0 Monday .. 6 Sunday
    start: int  # minutes after local midnight
    end: int


@dataclass(frozen=True)
class ConsultSchedule:
    """The consult windows of every active consult doctor, answered in memory: the phone
    line holds one (reloaded at each poll) and asks it at every call without the database."""

    slots: tuple[ConsultSlot, ...]
    timezone: ZoneInfo

    def doctors_at(self, at: datetime) -> frozenset[int]:
        """The consult doctors in one of their windows at `at`."""
        local = at.astimezone(self.timezone)
        minute = local.hour * 60 + local.minute
        return frozenset(
            s.user_id
            for s in self.slots
            if s.weekday == local.weekday() and s.start <= minute < s.end
        )

    def window_at(self, at: datetime) -> ConsultWindow | None:
        """The window open at `at` (spanning every doctor's window open then), if any."""
        local = at.astimezone(self.timezone)
        minute = local.hour * 60 + local.minute
        open_now = [
            s for s in self.slots if s.weekday == local.weekday() and s.start <= minute < s.end
        ]
        if not open_now:
            return None
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)

        def stamp(minutes: int) -> datetime:
            return (midnight + timedelta(minutes=minutes)).replace(tzinfo=self.timezone)

        return ConsultWindow(
            stamp(min(s.start for s in open_now)),
            stamp(max(s.end for s in open_now)),
            tuple(sorted({s.user_id for s in open_now})),
        )

    def next_window(self, at: datetime) -> ConsultWindow | None:
        """The first window starting after `at` (within a week), with its doctors."""
        if not self.slots:
            return None
        local = at.astimezone(self.timezone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        best: tuple[datetime, datetime] | None = None
        doctors: set[int] = set()
        for slot in self.slots:
            days = (slot.weekday - local.weekday()) % 7
            for extra in (days, days + 7):
                day = midnight + timedelta(days=extra)
                begins = (day + timedelta(minutes=slot.start)).replace(tzinfo=self.timezone)
                if begins <= local:
                    continue
                ends = (day + timedelta(minutes=slot.end)).replace(tzinfo=self.timezone)
                if best is None or begins < best[0]:
                    best, doctors = (begins, ends), {slot.user_id}
                elif begins == best[0]:
                    doctors.add(slot.user_id)
                    best = (best[0], max(best[1], ends))
                break
        assert best is not None
        return ConsultWindow(best[0], best[1], tuple(sorted(doctors)))


async def consult_schedule(session: AsyncSession) -> ConsultSchedule:
    """Every consult window of the active consult doctors (active accounts), in one query."""
    rows = (
        await session.execute(
            select(
                DoctorWindow.user_id,
                DoctorWindow.weekday,
                DoctorWindow.start_minute,
                DoctorWindow.end_minute,
            )
            .join(CareDoctor, CareDoctor.user_id == DoctorWindow.user_id)
            .join(User, User.id == CareDoctor.user_id)
            .where(
                DoctorWindow.group == DoctorGroup.CONSULT,
                CareDoctor.consult.is_(True),
                CareDoctor.active.is_(True),
                User.active.is_(True),
            )
            .order_by(DoctorWindow.user_id, DoctorWindow.weekday, DoctorWindow.start_minute)
        )
    ).all()
    return ConsultSchedule(tuple(ConsultSlot(*row) for row in rows), site_of(session).timezone)


async def next_consult_window(session: AsyncSession, at: datetime) -> ConsultWindow | None:
    """The first consult window starting after `at` (within a week) in which some active
    consult doctor works, with its doctors; None when no doctor has a consult window."""
    return (await consult_schedule(session)).next_window(at)
