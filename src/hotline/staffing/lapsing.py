"""The worker's sweep over clock-ins nobody closed: a clock row whose shift or leave is over
is ended when that ended, and its person set away.

service.ringable already never counts such a row, but the person's availability stays
"available" until something changes it: rostered again (the next day), they would be
counted on the line — rung, and the ring-everyone fallback kept off — without having said
they are there. Ending the row and the availability together keeps the two tied, as
clocking out does (clock.clock)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents.models import Agent, AgentStatus
from hotline.agents.service import set_status
from hotline.auth.models import User
from hotline.db import utcnow
from hotline.staffing.checks import OPERATOR_ROLES
from hotline.staffing.clock import CLOCK_IN_EARLY, close_row, roster_spans, still_holds
from hotline.staffing.models import RingOverride, ShiftClock


async def _roster_until(
    session: AsyncSession, *, user_id: int, at: datetime, early: timedelta
) -> datetime | None:
    """The end of the run of `user_id`'s places, back to back, that held `at`; None when
    none did (the place was taken off since)."""
    spans = await roster_spans(session, user_id=user_id, at=at, early=early)
    until = max((end for start, end in spans if start <= at < end), default=None)
    if until is None:
        return None
    moved = True
    while moved:
        moved = False
        for start, end in spans:
            if start <= until < end:
                until, moved = end, True
    return until


async def _lapsed_at(
    session: AsyncSession, row: ShiftClock, *, now: datetime, early: timedelta
) -> datetime:
    """When what held an open row ended: the later of its stretch of places and its
    person's leave, as far as either began before the row was opened and ended by `now`;
    `now` when neither is known (the place was taken off the roster)."""
    ends = []
    leave = await session.scalar(select(RingOverride).where(RingOverride.user_id == row.user_id))
    if leave is not None and row.in_at < leave.until <= now:
        ends.append(leave.until)
    until = await _roster_until(session, user_id=row.user_id, at=row.in_at, early=early)
    if until is not None and until <= now:
        ends.append(until)
    return max(ends, default=now)


async def end_lapsed_clocks(
    session: AsyncSession, *, now: datetime | None = None, early: timedelta = CLOCK_IN_EARLY
) -> int:
    """Each open clock row no longer held (clock.still_holds: no place on a shift running
    now or starting within `early`, no supervisor's live leave) is closed when what held it
    ended, and its person, if available, is set away. Someone busy is left alone: their
    call ends first (the phone line then makes them available) and a later round ends
    the row. Returns the rows closed."""
    now = now or utcnow()
    open_rows = (
        await session.scalars(
            select(ShiftClock).where(ShiftClock.out_at.is_(None)).order_by(ShiftClock.id)
        )
    ).all()
    closed = 0
    for row in open_rows:
        if await still_holds(session, row, now=now, early=early):
            continue
        # Locked in the order a clock-in takes them (the clock row, then the agent's), so a
        # clock-in or a call answered meanwhile waits for this round rather than deadlock.
        locked = await session.scalar(
            select(ShiftClock)
            .where(ShiftClock.id == row.id, ShiftClock.out_at.is_(None))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if locked is None:
            continue
        status = await session.scalar(
            select(Agent.status).where(Agent.user_id == row.user_id).with_for_update()
        )
        if status is AgentStatus.BUSY:
            continue
        await close_row(session, locked, await _lapsed_at(session, locked, now=now, early=early))
        closed += 1
        # The operator queue's call takers only: a doctor's availability is as they say.
        user = await session.get(User, row.user_id)
        if status is AgentStatus.AVAILABLE and user is not None and user.role in OPERATOR_ROLES:
            await set_status(session, user_id=row.user_id, status=AgentStatus.AWAY.value)
    await session.flush()
    return closed
