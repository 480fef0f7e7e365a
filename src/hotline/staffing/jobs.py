"""The worker's staffing sweeps: unfilled shifts alert the supervisors ahead of time, and
surge mode follows the queue (surge.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.db import dialect_name, insert_for, utcnow
from hotline.events import DomainEvent, record_event
from hotline.settings import Settings
from hotline.site import site_of
from hotline.staffing.models import ShiftAlert
from hotline.staffing.service import roster
from hotline.staffing.surge import SurgeRules, check_surge

Sweep = Callable[[AsyncSession], Awaitable[int]]


async def alert_unfilled(
    session: AsyncSession, *, ahead: timedelta, now: datetime | None = None
) -> int:
    """Each shift starting within `ahead` with fewer reachable people rostered than it
    needs is announced once to the supervisors (`staffing.unfilled`, live). Reachable:
    those the operator queue can ring (staff, and volunteers linked to an active call
    taker's account); a volunteer without an account fills no place. Returns alerts
    made."""
    now = now or utcnow()
    tz = site_of(session).timezone
    today = now.astimezone(tz).date()
    last = (now + ahead).astimezone(tz).date()
    made = 0
    for shift_day in await roster(session, start=today - timedelta(days=1), end=last):
        if not now <= shift_day.start <= now + ahead:
            continue
        needed = shift_day.shift.operators
        reachable = shift_day.agents
        if reachable >= needed:
            continue
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
        if not (await session.execute(stmt)).rowcount:  # type: ignore[attr-defined]
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

    async def unfilled(session: AsyncSession) -> int:
        return await alert_unfilled(session, ahead=ahead)

    async def surge(session: AsyncSession) -> int:
        return int(await check_surge(session, rules=rules) is not None)

    return [unfilled, surge]
