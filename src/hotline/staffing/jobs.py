"""The worker's staffing sweeps: unfilled shifts alert the supervisors ahead of time, surge
mode follows the queue (surge.py), and clock-ins nobody closed end with their shift
(lapsing.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.db import dialect_name, insert_for, utcnow
from hotline.events import DomainEvent, record_event
from hotline.settings import Settings
from hotline.site import site_of
from hotline.staffing.lapsing import end_lapsed_clocks
from hotline.staffing.models import ShiftAlert
from hotline.staffing.service import roster
from hotline.staffing.surge import SurgeRules, check_surge

Sweep = Callable[[AsyncSession], Awaitable[int]]


async def alert_unfilled(
    session: AsyncSession, *, ahead: timedelta, now: datetime | None = None
) -> int:
    """Each shift starting within `ahead`, or running, with fewer reachable people
    rostered than it needs is announced to the supervisors (`staffing.unfilled`, live):
    once per opening of the hole — a hole seen filled and then open again (someone taken
    off, a swap, a withdrawn offer) is announced again. Reachable:
    those the operator queue can ring (staff, and volunteers linked to an active call
    taker's account); a volunteer without an account fills no place. Returns alerts
    made."""
    now = now or utcnow()
    tz = site_of(session).timezone
    today = now.astimezone(tz).date()
    last = (now + ahead).astimezone(tz).date()
    made = 0
    for shift_day in await roster(session, start=today - timedelta(days=1), end=last):
        if not shift_day.start <= now + ahead or shift_day.end <= now:
            continue
        needed = shift_day.shift.operators
        reachable = shift_day.agents
        if reachable >= needed:
            await session.execute(
                update(ShiftAlert)
                .where(
                    ShiftAlert.day == shift_day.day,
                    ShiftAlert.shift_id == shift_day.shift.id,
                    ShiftAlert.filled_at.is_(None),
                )
                .values(filled_at=now)
            )
            continue
        # Open again after being filled: the same row, conditionally (of two sweeps at
        # once one announces it).
        reopened = await session.execute(
            update(ShiftAlert)
            .where(
                ShiftAlert.day == shift_day.day,
                ShiftAlert.shift_id == shift_day.shift.id,
                ShiftAlert.filled_at.is_not(None),
            )
            .values(filled_at=None, at=now, rostered=reachable, needed=needed)
        )
        stmt = (
            insert_for(dialect_name(session))(ShiftAlert)
            .values(
                day=shift_day.day,
                shift_id=shift_day.shift.id,
                at=now,
                rostered=reachable,
                needed=needed,
            )
            .on_conflict_do_nothing(index_elements=["day", "shift_id"])
        )
        if (
            not reopened.rowcount  # type: ignore[attr-defined]
            and not (await session.execute(stmt)).rowcount  # type: ignore[attr-defined]
        ):
            continue
        record_event(
            session,
            DomainEvent(
                kind="staffing.unfilled",
                data={
                    "day": shift_day.day.isoformat(),
                    "shift_id": shift_day.shift.id,
                    "shift": shift_day.shift.name,
                    "start": shift_day.start.isoformat(),
                    "rostered": reachable,
                    # On the roster but out of the queue's reach (no linked account).
                    "unreachable": shift_day.rostered - reachable,
                    "needed": needed,
                },
            ),
        )
        made += 1
    return made


async def alerts_sent(session: AsyncSession) -> list[ShiftAlert]:
    return list((await session.scalars(select(ShiftAlert).order_by(ShiftAlert.id))).all())


def sweeps(settings: Settings) -> list[Sweep]:
    """What the worker runs each round, in its own transaction each."""
    ahead = timedelta(hours=settings.staffing_unfilled_alert_hours)
    rules = SurgeRules.from_settings(settings)
    early = timedelta(minutes=settings.staffing_clock_in_early_minutes)

    async def unfilled(session: AsyncSession) -> int:
        return await alert_unfilled(session, ahead=ahead)

    async def surge(session: AsyncSession) -> int:
        return int(await check_surge(session, rules=rules) is not None)

    async def lapsed_clocks(session: AsyncSession) -> int:
        return await end_lapsed_clocks(session, early=early)

    return [unfilled, surge, lapsed_clocks]
