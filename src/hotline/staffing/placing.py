"""Putting people on shifts and taking them off: a supervisor places anyone the operator
queue rings, an operator fills a place on a shift not yet begun; a week copied from the
last one."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.db import utcnow
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.messages import msg
from hotline.site import site_of
from hotline.staffing import roster_edit
from hotline.staffing.checks import (
    check_day,
    check_not_begun,
    check_not_over,
    holds_place,
    queue_taker,
    shift_span,
    too_close,
)
from hotline.staffing.models import RosterEntry, ShiftTemplate, Volunteer, VolunteerStatus
from hotline.staffing.roster import roster

# How far ahead an operator may put themselves on the roster: the weeks a lead plans and
# publishes (HOTLINE_STAFFING_SELF_ROSTER_WEEKS). Further out the roster is still the
# lead's to shape; an operator booking months ahead would hold places nobody planned.
SELF_ROSTER_WEEKS = 4


async def _shift(session: AsyncSession, shift_id: int, *, lock: bool = False) -> ShiftTemplate:
    """An active shift; `lock` holds its row (FOR NO KEY UPDATE on PostgreSQL, SQLite has
    one writer anyway) until the end of the transaction: changes to its roster that
    count its places wait for each other."""
    stmt = select(ShiftTemplate).where(ShiftTemplate.id == shift_id)
    if lock:
        stmt = stmt.with_for_update(key_share=True)
    shift = await session.scalar(stmt.execution_options(populate_existing=True))
    if shift is None:
        raise NotFound("Không tìm thấy ca trực", field="shift_id")
    if not shift.active:
        raise InvalidTransition("Ca trực này đã ngừng sử dụng", field="shift_id")
    return shift


async def assign(
    session: AsyncSession,
    *,
    actor: Actor,
    day: date,
    shift_id: int,
    user_id: int | None = None,
    volunteer_id: int | None = None,
    horizon_weeks: int = SELF_ROSTER_WEEKS,
) -> RosterEntry:
    """Put an operator, a supervisor or an approved volunteer on a shift (supervisors): the
    people the operator queue rings. An operator may put themselves on a shift that still
    lacks people and has not begun (volunteers filling the roster), on a day within the
    next `horizon_weeks` weeks (422 naming `day`), and not within SELF_ROSTER_REST of
    another place of theirs (422 naming `shift_id`); a running shift takes them only
    through a supervisor."""
    require(actor, Permission.SEE_ROSTER)
    check_day(day, "day")
    shift = await _shift(session, shift_id, lock=True)
    check_not_over(session, shift, day, "day")
    if (user_id is None) == (volunteer_id is None):
        raise InvalidInput("Chọn một người: tài khoản hoặc tình nguyện viên", field="user_id")
    if not allows(actor, Permission.MANAGE_STAFFING):
        if user_id is None or user_id != actor.user_id:
            require(
                actor,
                Permission.MANAGE_STAFFING,
                msg("Chỉ trưởng ca và quản trị viên được xếp người khác vào ca"),
            )
        check_not_begun(session, shift, day, "day")
        assert user_id is not None  # anyone else's place was refused above
        await _check_own_place(
            session, shift=shift, day=day, user_id=user_id, horizon_weeks=horizon_weeks
        )
        # Counted under the shift's lock (taken above): operators filling its last places
        # at once are served one after the other, each seeing the places taken before.
        # Full means as many people as the shift needs that the operator queue can ring
        # (ShiftDay.agents: staff and volunteers linked to a call taker's account), as the
        # unfilled-shift alert and the forecast count: a volunteer without an account holds
        # a place but fills none. A staff member and their linked offer are one person.
        today = await roster(session, start=day, end=day)
        taken = next(s.agents for s in today if s.shift.id == shift_id)
        if taken >= shift.operators:
            raise Conflict("Ca này đã đủ người", field="shift_id")
    # One person, one place: a staff member and the volunteer offer linked to their
    # account are the same person on a shift.
    if user_id is not None:
        await queue_taker(session, user_id, "user_id")
        if await holds_place(session, day=day, shift_id=shift_id, user_id=user_id):
            raise Conflict("Người này đã có trong ca", field="user_id")
    if volunteer_id is not None:
        volunteer = await session.get(Volunteer, volunteer_id)
        if volunteer is None or volunteer.status is not VolunteerStatus.APPROVED:
            raise InvalidInput(
                "Tình nguyện viên chưa được duyệt hoặc không tồn tại", field="volunteer_id"
            )
        if volunteer.user_id is not None and await holds_place(
            session, day=day, shift_id=shift_id, user_id=volunteer.user_id
        ):
            raise Conflict("Người này đã có trong ca", field="volunteer_id")
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


async def _check_own_place(
    session: AsyncSession, *, shift: ShiftTemplate, day: date, user_id: int, horizon_weeks: int
) -> None:
    """An operator's own place: within the planning horizon, and with the rest kept."""
    today = utcnow().astimezone(site_of(session).timezone).date()
    last = today + timedelta(weeks=horizon_weeks)
    if day > last:
        raise InvalidInput(
            msg(
                "Tự đăng ký chỉ vào ca trong {weeks} tuần tới (đến ngày {last}); xa hơn do "
                "trưởng ca xếp lịch",
                weeks=horizon_weeks,
                last=last.strftime("%d/%m/%Y"),
            ),
            field="day",
        )
    close = await too_close(session, shift=shift, day=day, user_id=user_id)
    if close is not None:
        other, other_day = close
        raise InvalidInput(
            msg(
                "Bạn đã có {shift} ngày {day}; tự đăng ký cần nghỉ ít nhất 12 giờ giữa hai "
                "ca (trưởng ca có thể xếp ca liền nhau khi cần)",
                shift=other.name,
                day=other_day.strftime("%d/%m/%Y"),
            ),
            field="shift_id",
        )


async def unassign(session: AsyncSession, *, actor: Actor, entry_id: int) -> None:
    """Take someone off a shift not yet over (supervisors). An operator may take back a
    place of their own (or of the volunteer offer linked to their account) on a shift
    that has not begun (422 naming `entry_id` once it has): a running shift is the
    supervisor's to change."""
    require(actor, Permission.SEE_ROSTER)
    entry = await session.get(RosterEntry, entry_id)
    lead = allows(actor, Permission.MANAGE_STAFFING)
    if not lead and (entry is None or not await _own(session, entry, actor)):
        require(
            actor,
            Permission.MANAGE_STAFFING,
            msg("Chỉ trưởng ca và quản trị viên được rút người khỏi ca"),
        )
    if entry is None:
        raise NotFound("Không tìm thấy lượt trực", field="entry_id")
    shift = await session.get(ShiftTemplate, entry.shift_id)
    if shift is not None:
        check_not_over(session, shift, entry.day, "entry_id")
        start = shift_span(shift, entry.day, site_of(session).timezone)[0]
        if not lead and start <= utcnow():
            raise InvalidInput(
                msg(
                    "{shift} ngày {day} đã bắt đầu; rút khỏi ca đang diễn ra cần trưởng ca",
                    shift=shift.name,
                    day=entry.day.strftime("%d/%m/%Y"),
                ),
                field="entry_id",
            )
    await session.delete(entry)
    await session.flush()


async def _own(session: AsyncSession, entry: RosterEntry, actor: Actor) -> bool:
    """Whether the place is the actor's: theirs, or their live volunteer offer's."""
    if entry.user_id is not None:
        return entry.user_id == actor.user_id
    volunteer = await session.get(Volunteer, entry.volunteer_id)
    return (
        volunteer is not None
        and volunteer.user_id == actor.user_id
        and volunteer.status is VolunteerStatus.APPROVED
    )


async def copy_week(session: AsyncSession, *, actor: Actor, source: date, target: date) -> int:
    """Copy the 7 days from `source` onto the 7 days from `target`, adding the places not
    there yet (supervisors). Returns places added; roster_edit.copy_week says what was
    skipped and why."""
    report = await roster_edit.copy_week(session, actor=actor, source=source, target=target)
    return report.copied
