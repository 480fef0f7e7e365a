"""Shift templates, the roster, swaps, clocking in and out, and who the queue may ring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents.models import AgentStatus
from hotline.agents.service import QUEUE_ROLES, set_status
from hotline.auth.models import User
from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.db import utcnow
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.messages import msg
from hotline.site import site_of
from hotline.staffing.models import (
    RingOverride,
    RosterEntry,
    ShiftClock,
    ShiftSwap,
    ShiftTemplate,
    SwapStatus,
    Volunteer,
    VolunteerStatus,
)

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


def shift_span(shift: ShiftTemplate, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """When a shift of a day starts and ends (a night shift ends the next day)."""
    start = datetime.combine(day, shift.starts_at, tzinfo=tz)
    return start, start + timedelta(hours=shift.hours)


async def list_shifts(session: AsyncSession, *, actor: Actor) -> list[ShiftTemplate]:
    require(actor, Permission.SEE_ROSTER)
    stmt = select(ShiftTemplate).order_by(ShiftTemplate.starts_at, ShiftTemplate.id)
    return list((await session.scalars(stmt)).all())


def _check_shift(name: str, hours: int, operators: int) -> None:
    if not name.strip():
        raise InvalidInput("Cần tên ca trực", field="name")
    if not 1 <= hours <= 24:
        raise InvalidInput("Một ca dài từ 1 đến 24 giờ", field="hours")
    if not 0 <= operators <= 1000:
        raise InvalidInput("Số người của ca từ 0 đến 1000", field="operators")


async def save_shift(
    session: AsyncSession,
    *,
    actor: Actor,
    code: str,
    name: str,
    starts_at: time,
    hours: int,
    operators: int,
    active: bool = True,
) -> ShiftTemplate:
    """Create a shift template, or change the one with this code (supervisors)."""
    require(actor, Permission.MANAGE_STAFFING)
    _check_shift(name, hours, operators)
    shift = await session.scalar(select(ShiftTemplate).where(ShiftTemplate.code == code))
    if shift is None:
        shift = ShiftTemplate(code=code)
        session.add(shift)
    shift.name, shift.starts_at, shift.hours = name.strip(), starts_at, hours
    shift.operators, shift.active = operators, active
    await session.flush()
    return shift


# -- the roster -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    entry_id: int
    user_id: int | None
    volunteer_id: int | None
    name: str


@dataclass(frozen=True)
class ShiftDay:
    day: date
    shift: ShiftTemplate
    start: datetime
    end: datetime
    people: list[Person]

    @property
    def rostered(self) -> int:
        return len(self.people)


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise InvalidInput("Ngày kết thúc phải sau ngày bắt đầu", field="to")
    if (end - start).days >= MAX_ROSTER_DAYS:
        raise InvalidInput(msg("Xem tối đa {days} ngày một lần", days=MAX_ROSTER_DAYS), field="to")


async def roster(
    session: AsyncSession, *, start: date, end: date, user_id: int | None = None
) -> list[ShiftDay]:
    """Every active shift of every day in [start, end] with who is on it (everyone, or
    only `user_id`'s places); no permission check: callers check."""
    tz = site_of(session).timezone
    shifts = (
        await session.scalars(
            select(ShiftTemplate)
            .where(ShiftTemplate.active.is_(True))
            .order_by(ShiftTemplate.starts_at, ShiftTemplate.id)
        )
    ).all()
    stmt = (
        select(RosterEntry, User.full_name, Volunteer.full_name)
        .outerjoin(User, User.id == RosterEntry.user_id)
        .outerjoin(Volunteer, Volunteer.id == RosterEntry.volunteer_id)
        .where(RosterEntry.day >= start, RosterEntry.day <= end)
        .order_by(RosterEntry.id)
    )
    people: dict[tuple[date, int], list[Person]] = {}
    for entry, user_name, volunteer_name in (await session.execute(stmt)).all():
        if user_id is not None and entry.user_id != user_id:
            continue
        people.setdefault((entry.day, entry.shift_id), []).append(
            Person(entry.id, entry.user_id, entry.volunteer_id, user_name or volunteer_name or "")
        )
    out = []
    for i in range((end - start).days + 1):
        day = start + timedelta(days=i)
        for shift in shifts:
            begin, finish = shift_span(shift, day, tz)
            out.append(ShiftDay(day, shift, begin, finish, people.get((day, shift.id), [])))
    return out


async def read_roster(
    session: AsyncSession, *, actor: Actor, start: date, end: date
) -> list[ShiftDay]:
    """The roster between two days: supervisors see everyone, operators their own places."""
    require(actor, Permission.SEE_ROSTER)
    _check_range(start, end)
    mine = None if allows(actor, Permission.MANAGE_STAFFING) else actor.user_id
    return await roster(session, start=start, end=end, user_id=mine)


async def _shift(session: AsyncSession, shift_id: int) -> ShiftTemplate:
    shift = await session.get(ShiftTemplate, shift_id)
    if shift is None or not shift.active:
        raise NotFound("Không tìm thấy ca trực", field="shift_id")
    return shift


async def assign(
    session: AsyncSession,
    *,
    actor: Actor,
    day: date,
    shift_id: int,
    user_id: int | None = None,
    volunteer_id: int | None = None,
) -> RosterEntry:
    """Put a call taker or an approved volunteer on a shift (supervisors). A call taker
    may put themselves on a shift that still lacks people (volunteers filling the roster)."""
    require(actor, Permission.SEE_ROSTER)
    shift = await _shift(session, shift_id)
    if (user_id is None) == (volunteer_id is None):
        raise InvalidInput("Chọn một người: tài khoản hoặc tình nguyện viên", field="user_id")
    if not allows(actor, Permission.MANAGE_STAFFING):
        if user_id != actor.user_id:
            require(actor, Permission.MANAGE_STAFFING)
        taken = await session.scalar(
            select(func.count())
            .select_from(RosterEntry)
            .where(RosterEntry.day == day, RosterEntry.shift_id == shift_id)
        )
        if int(taken or 0) >= shift.operators:
            raise Conflict("Ca này đã đủ người", field="shift_id")
    if user_id is not None:
        user = await session.get(User, user_id)
        takers = {r for roles in QUEUE_ROLES.values() for r in roles}
        if user is None or not user.active or user.role not in takers:
            raise InvalidInput(
                msg("Không có tổng đài viên mã {user_id}", user_id=user_id), field="user_id"
            )
    if volunteer_id is not None:
        volunteer = await session.get(Volunteer, volunteer_id)
        if volunteer is None or volunteer.status is not VolunteerStatus.APPROVED:
            raise InvalidInput(
                "Tình nguyện viên chưa được duyệt hoặc không tồn tại", field="volunteer_id"
            )
    entry = RosterEntry(
        day=day,
        shift_id=shift_id,
        user_id=user_id,
        volunteer_id=volunteer_id,
        created_by=actor.user_id,
    )
    try:
        async with session.begin_nested():
            session.add(entry)
            await session.flush()
    except IntegrityError:
        raise Conflict("Người này đã có trong ca", field="user_id") from None
    return entry


async def unassign(session: AsyncSession, *, actor: Actor, entry_id: int) -> None:
    """Take someone off a shift (supervisors)."""
    require(actor, Permission.MANAGE_STAFFING)
    entry = await session.get(RosterEntry, entry_id)
    if entry is None:
        raise NotFound("Không tìm thấy lượt trực", field="entry_id")
    await session.delete(entry)
    await session.flush()


async def copy_week(session: AsyncSession, *, actor: Actor, source: date, target: date) -> int:
    """Copy the 7 days from `source` onto the 7 days from `target`, adding the places not
    there yet (supervisors): a week's roster from the last one. Returns places added."""
    require(actor, Permission.MANAGE_STAFFING)
    if abs((target - source).days) < 7:
        raise InvalidInput("Hai tuần không được chồng lên nhau", field="target")
    week = (
        await session.scalars(
            select(RosterEntry).where(
                RosterEntry.day >= source, RosterEntry.day < source + timedelta(days=7)
            )
        )
    ).all()
    existing = {
        (e.day, e.shift_id, e.user_id, e.volunteer_id)
        for e in (
            await session.scalars(
                select(RosterEntry).where(
                    RosterEntry.day >= target, RosterEntry.day < target + timedelta(days=7)
                )
            )
        ).all()
    }
    added = 0
    for e in week:
        day = target + (e.day - source)
        if (day, e.shift_id, e.user_id, e.volunteer_id) in existing:
            continue
        session.add(
            RosterEntry(
                day=day,
                shift_id=e.shift_id,
                user_id=e.user_id,
                volunteer_id=e.volunteer_id,
                created_by=actor.user_id,
            )
        )
        added += 1
    await session.flush()
    return added


# -- swaps ------------------------------------------------------------------------------------


async def request_swap(
    session: AsyncSession, *, actor: Actor, entry_id: int, to_user_id: int, reason: str = ""
) -> ShiftSwap:
    """An operator asks to hand their place on a shift to a colleague."""
    require(actor, Permission.SEE_ROSTER)
    entry = await session.get(RosterEntry, entry_id)
    if entry is None or (
        entry.user_id != actor.user_id and not allows(actor, Permission.MANAGE_STAFFING)
    ):
        raise NotFound("Không tìm thấy lượt trực", field="entry_id")
    if entry.user_id is None or to_user_id == entry.user_id:
        raise InvalidInput("Chọn một đồng nghiệp khác để đổi ca", field="to_user_id")
    colleague = await session.get(User, to_user_id)
    if colleague is None or not colleague.active:
        raise InvalidInput(
            msg("Không có tổng đài viên mã {user_id}", user_id=to_user_id), field="to_user_id"
        )
    swap = ShiftSwap(
        entry_id=entry.id,
        requested_by=entry.user_id,
        to_user_id=to_user_id,
        reason=reason.strip()[:500],
        status=SwapStatus.REQUESTED,
    )
    session.add(swap)
    await session.flush()
    return swap


async def list_swaps(
    session: AsyncSession, *, actor: Actor, status: str | None = None
) -> list[ShiftSwap]:
    """Swap requests, newest first: supervisors see all, operators theirs (either side)."""
    require(actor, Permission.SEE_ROSTER)
    stmt = select(ShiftSwap).order_by(ShiftSwap.id.desc()).limit(500)
    if status:
        try:
            stmt = stmt.where(ShiftSwap.status == SwapStatus(status))
        except ValueError:
            raise InvalidInput(
                msg("Trạng thái không hợp lệ: {status}", status=status), field="status"
            ) from None
    if not allows(actor, Permission.MANAGE_STAFFING):
        stmt = stmt.where(
            or_(ShiftSwap.requested_by == actor.user_id, ShiftSwap.to_user_id == actor.user_id)
        )
    return list((await session.scalars(stmt)).all())


async def decide_swap(
    session: AsyncSession, *, actor: Actor, swap_id: int, approve: bool
) -> ShiftSwap:
    """A supervisor approves (the place passes to the colleague) or rejects a swap."""
    require(actor, Permission.MANAGE_STAFFING)
    swap = await session.get(ShiftSwap, swap_id)
    if swap is None:
        raise NotFound("Không tìm thấy yêu cầu đổi ca", field="swap_id")
    if swap.status is not SwapStatus.REQUESTED:
        raise InvalidTransition("Yêu cầu đổi ca này đã được xử lý", field="swap_id")
    if approve:
        entry = await session.get(RosterEntry, swap.entry_id)
        if entry is None or entry.user_id != swap.requested_by:
            raise Conflict("Lượt trực đã thay đổi từ khi yêu cầu", field="swap_id")
        clash = await session.scalar(
            select(RosterEntry.id).where(
                RosterEntry.day == entry.day,
                RosterEntry.shift_id == entry.shift_id,
                RosterEntry.user_id == swap.to_user_id,
            )
        )
        if clash is not None:
            raise Conflict("Đồng nghiệp đã có trong ca này", field="swap_id")
        entry.user_id = swap.to_user_id
    swap.status = SwapStatus.APPROVED if approve else SwapStatus.REJECTED
    swap.decided_by, swap.decided_at = actor.user_id, utcnow()
    await session.flush()
    return swap


# -- clock and who the queue rings ------------------------------------------------------------


async def clock(session: AsyncSession, *, actor: Actor, clock_in: bool) -> ShiftClock:
    """Clock in (available on the line) or out (away), in one step with the availability."""
    require(actor, Permission.SEE_ROSTER)
    if actor.user_id is None:
        raise InvalidInput("Cần đăng nhập bằng tài khoản người dùng", field="user_id")
    now = utcnow()
    open_row = await session.scalar(
        select(ShiftClock).where(ShiftClock.user_id == actor.user_id, ShiftClock.out_at.is_(None))
    )
    if clock_in:
        if open_row is None:
            open_row = ShiftClock(user_id=actor.user_id, in_at=now)
            session.add(open_row)
        await set_status(session, user_id=actor.user_id, status=AgentStatus.AVAILABLE.value)
    else:
        if open_row is None:
            raise InvalidTransition("Bạn chưa vào ca", field="clock")
        open_row.out_at = now
        await set_status(session, user_id=actor.user_id, status=AgentStatus.AWAY.value)
    await session.flush()
    return open_row


async def allow_off_shift(
    session: AsyncSession, *, actor: Actor, user_id: int, minutes: int
) -> RingOverride | None:
    """A supervisor lets the queue ring an operator off their shift for `minutes` (0 ends
    it)."""
    require(actor, Permission.MANAGE_STAFFING)
    if not 0 <= minutes <= 24 * 60:
        raise InvalidInput("Từ 0 đến 1440 phút", field="minutes")
    if await session.get(User, user_id) is None:
        raise NotFound("Không tìm thấy người dùng", field="user_id")
    await session.execute(delete(RingOverride).where(RingOverride.user_id == user_id))
    if minutes == 0:
        await session.flush()
        return None
    override = RingOverride(
        user_id=user_id, until=utcnow() + timedelta(minutes=minutes), set_by=actor.user_id
    )
    session.add(override)
    await session.flush()
    return override


async def ringable(session: AsyncSession, *, now: datetime) -> frozenset[int] | None:
    """The operators the queue may ring now: on a shift of the roster, clocked in, or let
    off-shift by a supervisor. None when nobody is rostered now (a site that keeps no
    roster, or a hole in it): then everyone available is rung, so the line never goes
    silent for want of a roster. Read by the phone line at each poll."""
    tz = site_of(session).timezone
    today = now.astimezone(tz).date()
    shifts = {
        s.id: s
        for s in (
            await session.scalars(select(ShiftTemplate).where(ShiftTemplate.active.is_(True)))
        ).all()
    }
    rows = (
        await session.execute(
            select(RosterEntry.day, RosterEntry.shift_id, RosterEntry.user_id, Volunteer.user_id)
            .outerjoin(Volunteer, Volunteer.id == RosterEntry.volunteer_id)
            .where(RosterEntry.day >= today - timedelta(days=1), RosterEntry.day <= today)
        )
    ).all()
    on_shift: set[int] = set()
    for day, shift_id, user_id, volunteer_user in rows:
        shift = shifts.get(shift_id)
        if shift is None:
            continue
        start, end = shift_span(shift, day, tz)
        person = user_id or volunteer_user
        if start <= now < end and person is not None:
            on_shift.add(person)
    if not on_shift:
        return None
    clocked = (
        await session.scalars(select(ShiftClock.user_id).where(ShiftClock.out_at.is_(None)))
    ).all()
    allowed = (
        await session.scalars(select(RingOverride.user_id).where(RingOverride.until > now))
    ).all()
    return frozenset(on_shift | set(clocked) | set(allowed))
