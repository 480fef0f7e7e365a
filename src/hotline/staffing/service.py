"""Shift templates, the roster, swaps, clocking in and out, and who the queue may ring."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents.models import Agent, AgentStatus
from hotline.auth.models import User
from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.db import utcnow
from hotline.errors import InvalidInput
from hotline.messages import msg
from hotline.site import site_of
from hotline.staffing.checks import LIVE_PLACE as LIVE_PLACE
from hotline.staffing.checks import (
    OPERATOR_ROLES,
    check_day,
    retime,
    shift_code,
    shift_name,
    shift_span,
    shift_start,
)

# Clocking in and the off-shift override are in clock.py, placing people on shifts in
# placing.py, swaps in swaps.py, who is on each shift and how many people that is in
# roster.py; also named here for the callers that look for them here.
from hotline.staffing.clock import CLOCK_IN_EARLY as CLOCK_IN_EARLY
from hotline.staffing.clock import allow_off_shift as allow_off_shift
from hotline.staffing.clock import clock as clock
from hotline.staffing.clock import clock_out_for as clock_out_for
from hotline.staffing.models import (
    RingOverride,
    RosterEntry,
    ShiftClock,
    ShiftTemplate,
    Volunteer,
)
from hotline.staffing.placing import assign as assign
from hotline.staffing.placing import copy_week as copy_week
from hotline.staffing.placing import unassign as unassign
from hotline.staffing.roster import Person as Person
from hotline.staffing.roster import ShiftDay as ShiftDay
from hotline.staffing.roster import roster as roster
from hotline.staffing.swap_answers import answer_swap as answer_swap
from hotline.staffing.swaps import decide_swap as decide_swap
from hotline.staffing.swaps import list_swaps as list_swaps
from hotline.staffing.swaps import request_swap as request_swap

# The Hà Nội line's 24/7 pattern: 18 staff, 6 per shift, 3 shifts of 8 hours.
DEFAULT_SHIFTS = (
    ("sang", "Ca sáng", time(6), 8, 6),
    ("chieu", "Ca chiều", time(14), 8, 6),
    ("dem", "Ca đêm", time(22), 8, 6),
)
MAX_ROSTER_DAYS = 62


async def ensure_default_shifts(session: AsyncSession) -> int:
    """Create the default shift templates when the site has none (never overwrites)."""
    if await session.scalar(select(func.count()).select_from(ShiftTemplate)):
        return 0
    for code, name, starts_at, hours, operators in DEFAULT_SHIFTS:
        session.add(
            ShiftTemplate(
                code=code, name=name, starts_at=starts_at, hours=hours, operators=operators
            )
        )
    await session.flush()
    return len(DEFAULT_SHIFTS)


def wall_clock(at: time, tz: ZoneInfo) -> time:
    """A shift's start as the site's wall-clock time (how it is stored): a time given with
    an offset (23:00Z) is the same instant in the site's zone (06:00 at +07:00)."""
    if at.tzinfo is None or at.utcoffset() is None:
        return at.replace(tzinfo=None)
    day = utcnow().astimezone(tz).date()
    return datetime.combine(day, at).astimezone(tz).time()


def with_site_offset(at: time, tz: ZoneInfo) -> time:
    """A stored wall-clock time with the site's offset, as the API answers it."""
    offset = datetime.combine(utcnow().astimezone(tz).date(), at, tzinfo=tz).utcoffset()
    return at.replace(tzinfo=dt_timezone(offset or timedelta(0)))


async def list_shifts(session: AsyncSession, *, actor: Actor) -> list[ShiftTemplate]:
    require(actor, Permission.SEE_ROSTER)
    stmt = select(ShiftTemplate).order_by(ShiftTemplate.starts_at, ShiftTemplate.id)
    return list((await session.scalars(stmt)).all())


def _check_shift(hours: int, operators: int) -> None:
    if not 1 <= hours <= 24:
        raise InvalidInput("Một ca dài từ 1 đến 24 giờ", field="hours")
    if not 0 <= operators <= 1000:
        raise InvalidInput("Số người của ca từ 0 đến 1000", field="operators")


async def save_shift(
    session: AsyncSession,
    *,
    actor: Actor,
    code: Any,
    name: str,
    starts_at: Any,
    hours: int,
    operators: int,
    active: bool = True,
) -> ShiftTemplate:
    """save_shift_counting without the count of places a retirement removed."""
    shift, _ = await save_shift_counting(
        session,
        actor=actor,
        code=code,
        name=name,
        starts_at=starts_at,
        hours=hours,
        operators=operators,
        active=active,
    )
    return shift


async def save_shift_counting(
    session: AsyncSession,
    *,
    actor: Actor,
    code: Any,
    name: str,
    starts_at: Any,
    hours: int,
    operators: int,
    active: bool = True,
) -> tuple[ShiftTemplate, int]:
    """Create a shift template, or change the one with this code (supervisors). The code,
    the name and the start (a time, or its text: checks.shift_start) are checked here, so
    their refusals are the staffing domain's own messages. New times apply from the first
    day whose shift has not begun (checks.retime): places already worked keep theirs.
    A shift retired (`active` false) loses its places on shifts not yet begun, whatever
    day: it takes nobody from now on, and a place left on it would show people on a shift
    the queue no longer rings by. Places on shifts begun (the one running now) or ended
    stay, the record of who worked. Returns the shift and the places removed."""
    require(
        actor,
        Permission.MANAGE_STAFFING,
        msg("Chỉ trưởng ca và quản trị viên được tạo và sửa ca trực"),
    )
    code = shift_code(code)
    name = shift_name(name)
    _check_shift(hours, operators)
    tz = site_of(session).timezone
    starts_at = wall_clock(shift_start(starts_at), tz)
    shift = await session.scalar(
        select(ShiftTemplate).where(ShiftTemplate.code == code).with_for_update()
    )
    if shift is None:
        shift = ShiftTemplate(code=code, starts_at=starts_at, hours=hours, earlier=[])
        session.add(shift)
    else:
        retime(shift, starts_at, hours, tz, utcnow())
    shift.name, shift.operators, shift.active = name, operators, active
    await session.flush()
    removed = 0 if active or shift.id is None else await _drop_places_to_come(session, shift)
    return shift, removed


async def _drop_places_to_come(session: AsyncSession, shift: ShiftTemplate) -> int:
    """Remove a retired shift's places on shifts not begun (their swaps go with them)."""
    tz = site_of(session).timezone
    now = utcnow()
    # A shift lasts at most a day: one begun is at most from yesterday.
    entries = (
        await session.scalars(
            select(RosterEntry)
            .where(
                RosterEntry.shift_id == shift.id,
                RosterEntry.day >= now.astimezone(tz).date() - timedelta(days=1),
            )
            .with_for_update()
        )
    ).all()
    removed = 0
    for entry in entries:
        if shift_span(shift, entry.day, tz)[0] > now:
            await session.delete(entry)
            removed += 1
    await session.flush()
    return removed


# -- the roster -------------------------------------------------------------------------------


def _check_range(start: date, end: date) -> None:
    check_day(start, "from")
    check_day(end, "to")
    if end < start:
        raise InvalidInput("Ngày kết thúc phải sau ngày bắt đầu", field="to")
    if (end - start).days >= MAX_ROSTER_DAYS:
        raise InvalidInput(msg("Xem tối đa {days} ngày một lần", days=MAX_ROSTER_DAYS), field="to")


async def read_roster(
    session: AsyncSession, *, actor: Actor, start: date, end: date
) -> list[ShiftDay]:
    """The roster between two days: supervisors see everyone, operators their own places
    (and how many people each shift has)."""
    require(actor, Permission.SEE_ROSTER)
    _check_range(start, end)
    mine = None if allows(actor, Permission.MANAGE_STAFFING) else actor.user_id
    return await roster(session, start=start, end=end, user_id=mine)


# -- clock and who the queue rings ------------------------------------------------------------


async def ringable(
    session: AsyncSession, *, now: datetime, early: timedelta = CLOCK_IN_EARLY
) -> frozenset[int]:
    """The operators the queue may ring now: those rostered on a shift running now, those
    clocked in while their clock-in still holds, and those a supervisor let in off their
    shift. A clock-in holds while its person has a place on a shift running now (or
    starting within `early`) or a supervisor's live leave: an open clock row alone never
    counts, so a clock-in nobody closed lapses with the shift. A place on a shift retired
    while it runs counts to its end (retiring removes only the places not yet begun).
    Everyone counted is an active operator or supervisor, directly or as a volunteer's
    account. When none of the people rostered now is on the line (available or busy) —
    no roster, a hole in it, or everyone on it away — the queue rings whoever is still at
    work: everyone clocked in (an open clock row, also one left open past its shift: who
    stayed on covers the hole) and everyone on a supervisor's leave; nobody else. With
    none of them, the queue's callers wait as the queue says (its overflow, its callback
    offer). Read by the phone line at each poll."""
    tz = site_of(session).timezone
    today = now.astimezone(tz).date()
    # Retired shifts too: their places left are the ones begun, worked to their end.
    shifts = {s.id: s for s in (await session.scalars(select(ShiftTemplate))).all()}
    person = func.coalesce(RosterEntry.user_id, Volunteer.user_id)
    rows = (
        await session.execute(
            select(RosterEntry.day, RosterEntry.shift_id, User.id, Agent.status)
            .outerjoin(Volunteer, Volunteer.id == RosterEntry.volunteer_id)
            .join(User, User.id == person)
            .outerjoin(Agent, Agent.user_id == User.id)
            .where(
                RosterEntry.day >= today - timedelta(days=1),
                RosterEntry.day <= today + timedelta(days=1),
                User.active.is_(True),
                User.role.in_(OPERATOR_ROLES),
                # A withdrawn offer's place is the record of a shift, not a call taker.
                LIVE_PLACE,
            )
        )
    ).all()
    on_shift: set[int] = set()
    near: set[int] = set()  # on a shift running now or starting within `early`
    on_line = False
    for day, shift_id, user_id, status in rows:
        shift = shifts.get(shift_id)
        if shift is None:
            continue
        start, end = shift_span(shift, day, tz)
        if start - early <= now < end:
            near.add(user_id)
        if start <= now < end:
            on_shift.add(user_id)
            on_line = on_line or status in (AgentStatus.AVAILABLE, AgentStatus.BUSY)
    takers = (User.active.is_(True), User.role.in_(OPERATOR_ROLES))
    allowed = set(
        (
            await session.scalars(
                select(RingOverride.user_id)
                .join(User, User.id == RingOverride.user_id)
                .where(RingOverride.until > now, *takers)
            )
        ).all()
    )
    clocked = (
        await session.scalars(
            select(ShiftClock.user_id)
            .join(User, User.id == ShiftClock.user_id)
            .where(ShiftClock.out_at.is_(None), *takers)
        )
    ).all()
    if not on_line:
        return frozenset(allowed | set(clocked))
    return frozenset(on_shift | allowed | {u for u in clocked if u in near or u in allowed})
