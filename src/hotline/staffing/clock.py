"""Clocking in and out, and a supervisor's leave to work off the roster (the off-shift
override): clocking in follows the roster, with a tolerance for coming in early."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents.models import AgentStatus
from hotline.agents.service import set_status
from hotline.auth.models import User
from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.db import utcnow
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.messages import msg
from hotline.site import site_of
from hotline.staffing.checks import LIVE_PLACE, free_text, queue_taker, shift_span
from hotline.staffing.models import (
    RingOverride,
    RosterEntry,
    ShiftClock,
    ShiftTemplate,
    Volunteer,
)

# How early before a rostered shift its people may clock in (the setting
# HOTLINE_STAFFING_CLOCK_IN_EARLY_MINUTES).
CLOCK_IN_EARLY = timedelta(minutes=30)
# A supervisor clocking themselves in off the roster on their own stated reason gives
# themselves leave (a ring override) this long: their clock-in holds for the queue while
# it lasts, like anyone's off-shift leave (service.ringable).
SELF_LEAVE = timedelta(hours=8)


async def roster_spans(
    session: AsyncSession, *, user_id: int, at: datetime, early: timedelta
) -> list[tuple[datetime, datetime]]:
    """When `user_id` (directly or as a volunteer's account) may be in on their places
    around `at`: each place's start (less `early`) and end. A place on a shift retired
    while it ran still counts: retiring a shift removes only its places not yet begun
    (service.save_shift_counting), never the one being worked."""
    tz = site_of(session).timezone
    today = at.astimezone(tz).date()
    rows = await session.execute(
        select(RosterEntry.day, ShiftTemplate)
        .join(ShiftTemplate, ShiftTemplate.id == RosterEntry.shift_id)
        .outerjoin(Volunteer, Volunteer.id == RosterEntry.volunteer_id)
        .where(
            func.coalesce(RosterEntry.user_id, Volunteer.user_id) == user_id,
            LIVE_PLACE,
            RosterEntry.day >= today - timedelta(days=2),
            RosterEntry.day <= today + timedelta(days=1),
        )
    )
    spans = []
    for day, shift in rows.all():
        start, end = shift_span(shift, day, tz)
        spans.append((start - early, end))
    return spans


async def _roster_since(
    session: AsyncSession, *, user_id: int, now: datetime, early: timedelta
) -> datetime | None:
    """Since when `user_id` has been rostered without a break up to `now`: the start (less
    `early`) of the run of their places, back to back, that holds `now`; None when no place
    runs now or starts within `early` of it."""
    spans = await roster_spans(session, user_id=user_id, at=now, early=early)
    since = min((start for start, end in spans if start <= now < end), default=None)
    if since is None:
        return None
    # Back-to-back places (a morning then an afternoon) are one stretch at work.
    moved = True
    while moved:
        moved = False
        for start, end in spans:
            if start < since <= end:
                since, moved = start, True
    return since


async def _on_roster(
    session: AsyncSession, *, user_id: int, now: datetime, early: timedelta
) -> bool:
    """Whether `user_id` holds a place on a shift running at `now` or starting within
    `early` of it."""
    return await _roster_since(session, user_id=user_id, now=now, early=early) is not None


async def clock(
    session: AsyncSession,
    *,
    actor: Actor,
    clock_in: bool,
    reason: str = "",
    early: timedelta = CLOCK_IN_EARLY,
) -> ShiftClock:
    """Clock in (available on the line) or out (away), in one step with the availability.
    Clocking in needs a place on a shift running now or starting within `early`, or a
    supervisor's leave: a ring override set for this person (its author and reason are
    recorded on the clock row), or, for a supervisor clocking themselves in, a `reason`."""
    require(actor, Permission.SEE_ROSTER, msg("Chỉ nhân viên tổng đài được vào ca và ra ca"))
    if actor.user_id is None:
        raise InvalidInput("Cần đăng nhập bằng tài khoản người dùng", field="user_id")
    now = utcnow()
    if clock_in:
        row = await clock_in_row(session, actor=actor, now=now, early=early, reason=reason)
        await set_status(session, user_id=actor.user_id, status=AgentStatus.AVAILABLE.value)
        await session.flush()
        return row
    open_row = await _open_row(session, actor.user_id)
    if open_row is None:
        raise InvalidTransition("Bạn chưa vào ca", field="clock")
    # Conditional: of two clock-outs at once, the second is told as a repeat is.
    closed = await session.execute(
        update(ShiftClock)
        .where(ShiftClock.id == open_row.id, ShiftClock.out_at.is_(None))
        .values(out_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if getattr(closed, "rowcount", 0) != 1:
        raise InvalidTransition("Bạn chưa vào ca", field="clock")
    await set_status(session, user_id=actor.user_id, status=AgentStatus.AWAY.value)
    await session.flush()
    return open_row


async def clock_out_for(session: AsyncSession, *, actor: Actor, user_id: int) -> ShiftClock:
    """A supervisor clocks someone out (who left without doing it): their clock row is
    closed and they are away on the line; 409 naming `user_id` when they are not in."""
    require(
        actor,
        Permission.MANAGE_STAFFING,
        msg("Chỉ trưởng ca và quản trị viên được cho người khác ra ca"),
    )
    open_row = await _open_row(session, user_id)
    if open_row is None:
        raise InvalidTransition("Người này chưa vào ca", field="user_id")
    closed = await session.execute(
        update(ShiftClock)
        .where(ShiftClock.id == open_row.id, ShiftClock.out_at.is_(None))
        .values(out_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    if getattr(closed, "rowcount", 0) != 1:
        raise InvalidTransition("Người này chưa vào ca", field="user_id")
    await set_status(session, user_id=user_id, status=AgentStatus.AWAY.value)
    await session.flush()
    return open_row


async def clock_in_row(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    early: timedelta,
    reason: str = "",
    field: str = "clock",
) -> ShiftClock:
    """The actor's open clock row: the one they are in on, or a new one when none holds.
    Each clock-in is its own row: a row left open whose ground ended — the shift it was
    opened on is over, the leave it was opened on expired — is closed first, so a later
    shift or a new leave starts a row of its own. Refused as `_clock_in_leave` says
    (`field` names the request's field: `clock`, or `status` when it is the availability
    that asked)."""
    assert actor.user_id is not None
    open_row = await _open_row(session, actor.user_id)
    if open_row is not None and not await still_holds(session, open_row, now=now, early=early):
        # A row left open after its shift or leave ended lets nobody back in: clocking
        # in again asks what a first clock-in asks (and refuses as it does).
        await close_row(session, open_row, now)
        open_row = None
    if open_row is None:
        by, why = await _clock_in_leave(
            session, actor=actor, now=now, early=early, reason=reason, field=field
        )
        open_row = await _open(session, actor.user_id, now, by, why)
    return open_row


async def live_leave(session: AsyncSession, user_id: int, now: datetime) -> RingOverride | None:
    return await session.scalar(
        select(RingOverride).where(RingOverride.user_id == user_id, RingOverride.until > now)
    )


async def still_holds(
    session: AsyncSession, row: ShiftClock, *, now: datetime, early: timedelta
) -> bool:
    """Whether an open clock row still holds now: its person has a supervisor's live
    leave (granting a leave anew after one expired closes the row: allow_off_shift), or
    has been rostered without a break since the row was opened (service.ringable's rule,
    and one row per stretch at work)."""
    if await live_leave(session, row.user_id, now) is not None:
        return True
    since = await _roster_since(session, user_id=row.user_id, now=now, early=early)
    return since is not None and row.in_at >= since


async def close_row(session: AsyncSession, row: ShiftClock, now: datetime) -> None:
    await session.execute(
        update(ShiftClock)
        .where(ShiftClock.id == row.id, ShiftClock.out_at.is_(None))
        .values(out_at=now)
        .execution_options(synchronize_session="fetch")
    )


async def _open_row(session: AsyncSession, user_id: int) -> ShiftClock | None:
    return await session.scalar(
        select(ShiftClock)
        .where(ShiftClock.user_id == user_id, ShiftClock.out_at.is_(None))
        .execution_options(populate_existing=True)
    )


async def _open(
    session: AsyncSession, user_id: int, now: datetime, by: int | None, why: str
) -> ShiftClock:
    """A new open clock row; when a clock-in sent at the same time opened one first
    (uq_shift_clock_open), that row, as a repeated clock-in answers."""
    row = ShiftClock(user_id=user_id, in_at=now, override_by=by, override_reason=why)
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        first = await _open_row(session, user_id)
        if first is None:  # opened and closed again meanwhile
            raise Conflict(
                "Một yêu cầu vào ca khác vừa được xử lý; hãy thử lại", field="clock"
            ) from None
        return first
    return row


async def _clock_in_leave(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    early: timedelta,
    reason: str,
    field: str = "clock",
) -> tuple[int | None, str]:
    """Who let `actor` clock in off the roster, and why: (None, "") when they are on it;
    a refusal naming what is missing when nobody did. Asked by the availability (`field`
    `status`: no reason can come with it), the refusal says how to get in instead."""
    assert actor.user_id is not None
    if await _on_roster(session, user_id=actor.user_id, now=now, early=early):
        return None, ""
    override = await live_leave(session, actor.user_id, now)
    if override is not None:
        return override.set_by, override.reason
    minutes = int(early.total_seconds() // 60)
    supervisor = allows(actor, Permission.MANAGE_STAFFING)
    if field == "status":
        raise InvalidTransition(
            msg(
                "Bạn không có tên trong ca trực đang diễn ra hoặc bắt đầu trong {minutes} phút "
                "tới; bấm Vào ca và ghi lý do để làm ngoài lịch trực",
                minutes=minutes,
            )
            if supervisor
            else msg(
                "Bạn không có tên trong ca trực đang diễn ra hoặc bắt đầu trong {minutes} phút "
                "tới; cần trưởng ca cho phép làm ngoài ca trước khi sẵn sàng nhận cuộc gọi",
                minutes=minutes,
            ),
            field="status",
        )
    if supervisor:
        why = free_text(reason, "reason", 200)
        if why:
            await session.execute(delete(RingOverride).where(RingOverride.user_id == actor.user_id))
            session.add(
                RingOverride(
                    user_id=actor.user_id, until=now + SELF_LEAVE, set_by=actor.user_id, reason=why
                )
            )
            return actor.user_id, why
        raise InvalidInput(
            msg(
                "Bạn không có tên trong ca trực đang diễn ra hoặc bắt đầu trong {minutes} phút "
                "tới; ghi lý do để vào ca ngoài lịch trực",
                minutes=minutes,
            ),
            field="reason",
        )
    raise InvalidTransition(
        msg(
            "Bạn không có tên trong ca trực đang diễn ra hoặc bắt đầu trong {minutes} phút "
            "tới; cần trưởng ca cho phép vào ca ngoài lịch trực",
            minutes=minutes,
        ),
        field="clock",
    )


async def allow_off_shift(
    session: AsyncSession, *, actor: Actor, user_id: int, minutes: int, reason: str = ""
) -> RingOverride | None:
    """A supervisor lets the queue ring an operator off their shift for `minutes` (0 ends
    it), and lets them clock in off the roster meanwhile; who and why are recorded."""
    require(
        actor,
        Permission.MANAGE_STAFFING,
        msg("Chỉ trưởng ca và quản trị viên được cho gọi người ngoài ca"),
    )
    if not 0 <= minutes <= 24 * 60:
        raise InvalidInput("Từ 0 đến 1440 phút", field="minutes")
    if await session.get(User, user_id) is None:
        raise NotFound("Không tìm thấy người dùng", field="user_id")
    if minutes:
        # Only the operator queue's call takers: leave for anyone else would let them
        # clock in and be counted on the line without ever being rung.
        await queue_taker(session, user_id, "user_id")
    why = free_text(reason, "reason", 200)
    if minutes and not why:
        raise InvalidInput("Cần lý do cho phép làm ngoài ca", field="reason")
    if minutes:
        await _end_lapsed_row(session, user_id)
    await session.execute(delete(RingOverride).where(RingOverride.user_id == user_id))
    if minutes == 0:
        # The leave was what let them in: off the roster now, they are clocked out and
        # away, as a supervisor clocking them out would leave them.
        now = utcnow()
        open_row = await _open_row(session, user_id)
        if open_row is not None and not await _on_roster(
            session, user_id=user_id, now=now, early=CLOCK_IN_EARLY
        ):
            await close_row(session, open_row, now)
            await set_status(session, user_id=user_id, status=AgentStatus.AWAY.value)
        await session.flush()
        return None
    override = RingOverride(
        user_id=user_id,
        until=utcnow() + timedelta(minutes=minutes),
        set_by=actor.user_id,
        reason=why,
    )
    session.add(override)
    await session.flush()
    return override


async def _end_lapsed_row(session: AsyncSession, user_id: int) -> None:
    """Before a new leave: a clock row left open after the person's last leave expired is
    closed — when that leave expired, if it did after the clock-in, else now — and its
    person set away, so that the new leave's clock-in is a row of its own rather than the
    old one carried on. A leave still live is being extended, and a row still held by a
    place goes on; so does one with no leave before (someone taken off their shift and let
    stay by the leave given now: the same stretch at work)."""
    now = utcnow()
    old = await session.scalar(select(RingOverride).where(RingOverride.user_id == user_id))
    if old is None or old.until > now:
        return
    open_row = await _open_row(session, user_id)
    if open_row is None or await still_holds(session, open_row, now=now, early=CLOCK_IN_EARLY):
        return
    ended = old.until if open_row.in_at < old.until else now
    await close_row(session, open_row, ended)
    await set_status(session, user_id=user_id, status=AgentStatus.AWAY.value)
