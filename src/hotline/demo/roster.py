"""The demo's roster: this week (Monday to Sunday, site time) staffed from the demo's call
takers, so the staffing page has people on day one. The call takers are taken in turn,
each shift of each day getting its share (about five days in seven each, days off
rotating, one shift a day); the login `dtv01` is on the shift running when the demo is
loaded, so they can clock in at once. The week starts at Monday 00:00, inside the night
shift begun on the Sunday before: that shift is staffed too (unless it already has people,
from the week before's roster), so every hour of the week has someone on it. Places are
written as a record (the roster service refuses ended shifts, and the days before today
are the week's history)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import Role, User
from hotline.site import site_of
from hotline.staffing.models import RosterEntry, ShiftTemplate
from hotline.staffing.service import ensure_default_shifts, shift_span

DAYS_ON = 5
LOGIN = "dtv01"


async def seed_roster(session: AsyncSession, *, now: datetime) -> int:
    """Fill this week's shifts with the demo's operators (nothing when the week already
    has places); returns the places added."""
    await ensure_default_shifts(session)
    tz = site_of(session).timezone
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    week = [monday + timedelta(days=i) for i in range(7)]
    if await session.scalar(
        select(RosterEntry.id).where(RosterEntry.day >= week[0], RosterEntry.day <= week[-1])
    ):
        return 0
    shifts = list(
        (
            await session.scalars(
                select(ShiftTemplate)
                .where(ShiftTemplate.active.is_(True))
                .order_by(ShiftTemplate.starts_at, ShiftTemplate.id)
            )
        ).all()
    )
    people = list(
        (
            await session.scalars(
                select(User)
                .where(User.role == Role.OPERATOR, User.active.is_(True))
                .order_by(User.id)
            )
        ).all()
    )
    if not shifts or not people:
        return 0
    login = next((p for p in people if p.username == LOGIN), None)
    others = [p for p in people if p is not login]
    week_start = datetime.combine(monday, time(0), tzinfo=tz)
    eve = monday - timedelta(days=1)
    eve_taken = set(
        (await session.scalars(select(RosterEntry.shift_id).where(RosterEntry.day == eve))).all()
    )
    # The shifts of the Sunday before that run into Monday and have nobody yet.
    eve_shifts = [
        s for s in shifts if shift_span(s, eve, tz)[1] > week_start and s.id not in eve_taken
    ]
    added = 0
    # People a shift gets so that each works about DAYS_ON days in 7 (at least one, at
    # most what the shift asks); taken in turn through the list, so days off rotate and
    # nobody works two shifts of one day.
    per_shift = len(others) * DAYS_ON // (7 * len(shifts))
    for j, day in enumerate([eve, *week]):
        for k, shift in enumerate(shifts):
            if day == eve and shift not in eve_shifts:
                continue
            n = max(1, min(shift.operators, per_shift))
            for m in range(n if others else 0):
                person = others[(j * len(shifts) * n + k * n + m) % len(others)]
                session.add(RosterEntry(day=day, shift_id=shift.id, user_id=person.id))
                added += 1
    if login is not None:
        running = _running(shifts, today, now, tz)
        shift = running[1] if running else shifts[0]
        days = list(week)
        if running and running[0] == eve and shift in eve_shifts:
            days.insert(0, eve)
        for day in days:
            session.add(RosterEntry(day=day, shift_id=shift.id, user_id=login.id))
            added += 1
    await session.flush()
    return added


def _running(
    shifts: list[ShiftTemplate], today: date, now: datetime, tz: ZoneInfo
) -> tuple[date, ShiftTemplate] | None:
    """The shift running now and the day it began."""
    for day in (today - timedelta(days=1), today):
        for shift in shifts:
            start, end = shift_span(shift, day, tz)
            if start <= now < end:
                return day, shift
    return None
