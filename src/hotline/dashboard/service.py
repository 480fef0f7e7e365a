"""The supervisors' figures of the floor now: today's counters, the backlog per unit, the
callers waiting (on hold in the phone line, and for a callback), the operators' states and
today's charts.

Only what no other service computes is computed here; the rest comes from those services
(reports.service for today's counters, agents.service for the operators, calls.line_queue
for the callers on hold, which the phone line publishes through the event log), each
checking its own permission.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents.service import AgentView, list_agents
from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.calls.line_queue import LineQueue, read_line_queue
from hotline.calls.models import Call, Callback, CallbackStatus, CallOutcome
from hotline.cases.assignment_state import active_sql, overdue_sql
from hotline.cases.models import Case, CaseAssignment
from hotline.cases.transitions import OPEN_STATUSES
from hotline.directory.models import Unit
from hotline.reports.service import read_summary
from hotline.site import site_of

# The days the hourly average is taken over (the days before today).
AVERAGE_DAYS = 7
# Live figures shared by the dashboards of one process are recomputed at least this often,
# for what changes without an event (a wait growing longer, a call ending).
SHARED_SECONDS = 1.0


@dataclass(frozen=True)
class Counters:
    day: date
    received: int
    open: int
    forwarded: int
    overdue: int
    urgent: int
    calls_offered: int
    calls_answered: int
    calls_abandoned: int
    service_level_20s: float | None


@dataclass(frozen=True)
class Queue:
    # Callers on hold in the phone line's queues now.
    line: LineQueue
    callbacks_waiting: int
    oldest_callback_at: datetime | None
    longest_wait_seconds: int | None
    calls_in_progress: int


@dataclass(frozen=True)
class Live:
    counters: Counters
    queue: Queue
    agents: list[AgentView]


@dataclass(frozen=True)
class UnitBacklog:
    unit_id: int
    code: str
    name: str
    active: int
    overdue: int


@dataclass(frozen=True)
class Charts:
    day: date
    # 24 rows: hour, today's cases, the average of the AVERAGE_DAYS days before and their
    # total (the cases the average's link lists).
    by_hour: list[tuple[int, int, float, int]]
    # The days the average is taken over.
    average_from: date
    average_to: date
    by_category: dict[str, int]
    by_channel: dict[str, int]
    backlog: list[UnitBacklog]


async def live_figures(session: AsyncSession, *, actor: Actor, now: datetime) -> Live:
    """Today's counters, the queue as the database knows it and every operator's state
    (supervisors and administrators)."""
    require(actor, Permission.SUPERVISE_AGENTS)
    day = site_of(session).local(now).date()
    report = await read_summary(session, actor=actor, date_from=day, date_to=day)
    return await _live(session, actor, now, day, report)


@dataclass
class SharedLive:
    """The live figures one process computed last, and the event log position they
    include (`shared_live_figures`)."""

    position: int = -1
    computed: float = 0.0
    live: Live | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


async def shared_live_figures(
    *,
    actor: Actor,
    now: datetime,
    shared: SharedLive,
    position: int,
    after: int = 0,
    open_session: Callable[[], AbstractAsyncContextManager[AsyncSession]],
) -> Live:
    """`live_figures`, computed once for all the dashboards of a process that ask while
    nothing happened: every connected dashboard asks again after each event, and all of them
    would compute the same figures (they do not depend on who asks).

    `position` is the process's event feed position when asked (every event up to it is
    committed and included in figures computed from then on); `after` is the newest event
    the asking page has received. Figures less than SHARED_SECONDS old are reused if they
    include `after` (a page that has not heard of a later event yet will ask again when it
    does), or, for a caller that names no event, if nothing was delivered since. Otherwise
    one request computes them (in a session of its own from `open_session`) while the others
    asking meanwhile wait, holding no database connection, and reuse them. In a surge the
    figures are thus computed about once a second per process, not once per event."""
    require(actor, Permission.SUPERVISE_AGENTS)

    def current() -> Live | None:
        fresh = time.monotonic() - shared.computed < SHARED_SECONDS
        covers = shared.position >= after if after else shared.position == position
        if shared.live is not None and covers and fresh:
            return shared.live
        return None

    if (live := current()) is not None:
        return live
    async with shared.lock:
        if (live := current()) is not None:
            return live
        started = time.monotonic()
        async with open_session() as session:
            live = await live_figures(session, actor=actor, now=now)
        shared.position, shared.computed, shared.live = position, started, live
    return live


async def overview(session: AsyncSession, *, actor: Actor, now: datetime) -> tuple[Live, Charts]:
    """`live_figures` and `charts` together, today's summary read once for both (the
    dashboard page)."""
    require(actor, Permission.SUPERVISE_AGENTS)
    day = site_of(session).local(now).date()
    report = await read_summary(session, actor=actor, date_from=day, date_to=day)
    live = await _live(session, actor, now, day, report)
    return live, await _charts(session, actor, now, day, report)


async def charts(session: AsyncSession, *, actor: Actor, now: datetime) -> Charts:
    """Today's charts alone (the live charts fragment; supervisors and administrators)."""
    require(actor, Permission.SUPERVISE_AGENTS)
    day = site_of(session).local(now).date()
    today = await read_summary(session, actor=actor, date_from=day, date_to=day)
    return await _charts(session, actor, now, day, today)


async def _live(
    session: AsyncSession, actor: Actor, now: datetime, day: date, report: dict[str, Any]
) -> Live:
    outcomes: dict[str, int] = report["calls"]["by_outcome"]
    answered = outcomes.get(CallOutcome.ANSWERED.value, 0)
    abandoned = outcomes.get(CallOutcome.ABANDONED_QUEUE.value, 0)
    # Offered as the report counts it (reports.service._calls): every call that reached a queue.
    offered = answered + abandoned + outcomes.get(CallOutcome.CALLBACK_REQUESTED.value, 0)
    open_cases = await session.scalar(
        select(func.count()).select_from(Case).where(Case.status.in_(OPEN_STATUSES))
    )
    counters = Counters(
        day=day,
        received=report["requests"]["total"],
        open=int(open_cases or 0),
        forwarded=report["handling"]["forwarded"],
        overdue=await overdue_cases(session, now=now),
        urgent=report["requests"]["urgent"],
        calls_offered=offered,
        calls_answered=answered,
        calls_abandoned=abandoned,
        service_level_20s=report["calls"]["service_level_20s"],
    )
    return Live(
        counters=counters,
        queue=await _queue(session, actor, now),
        agents=await list_agents(session, actor=actor),
    )


async def overdue_cases(session: AsyncSession, *, now: datetime) -> int:
    """Cases with an overdue forwarding now: what `?overdue=true` lists
    (assignment_state.overdue_sql)."""
    n = await session.scalar(
        select(func.count(distinct(CaseAssignment.case_id))).where(overdue_sql(now))
    )
    return int(n or 0)


async def _queue(session: AsyncSession, actor: Actor, now: datetime) -> Queue:
    waiting, oldest = (
        await session.execute(
            select(func.count(), func.min(Callback.queued_at)).where(
                Callback.status == CallbackStatus.OPEN
            )
        )
    ).one()
    in_progress = await session.scalar(
        select(func.count()).select_from(Call).where(Call.ended_at.is_(None))
    )
    longest = max(0, int((now - oldest).total_seconds())) if oldest is not None else None
    return Queue(
        line=await read_line_queue(session, actor=actor, now=now),
        callbacks_waiting=int(waiting or 0),
        oldest_callback_at=oldest,
        longest_wait_seconds=longest,
        calls_in_progress=int(in_progress or 0),
    )


async def _charts(
    session: AsyncSession, actor: Actor, now: datetime, day: date, today: dict[str, Any]
) -> Charts:
    """Today's cases per hour against the average of the week before, by category and by
    channel, and the backlog of each unit."""
    average_from, average_to = day - timedelta(days=AVERAGE_DAYS), day - timedelta(days=1)
    before = await read_summary(session, actor=actor, date_from=average_from, date_to=average_to)
    by_hour = [
        (h["hour"], h["requests"], round(b["requests"] / AVERAGE_DAYS, 1), b["requests"])
        for h, b in zip(today["by_hour"], before["by_hour"], strict=True)
    ]
    return Charts(
        day=day,
        by_hour=by_hour,
        average_from=average_from,
        average_to=average_to,
        by_category=today["requests"]["by_category"],
        by_channel=today["requests"]["by_channel"],
        backlog=await unit_backlog(session, now=now),
    )


async def unit_backlog(session: AsyncSession, *, now: datetime) -> list[UnitBacklog]:
    """Forwardings each unit still holds (assignment_state.active_sql) and how many of them
    are overdue, largest backlog first."""
    rows = await session.execute(
        select(
            Unit.id,
            Unit.code,
            Unit.name,
            func.count(),
            func.sum(case((overdue_sql(now), 1), else_=0)),
        )
        .join(Unit, Unit.id == CaseAssignment.unit_id)
        .where(active_sql())
        .group_by(Unit.id, Unit.code, Unit.name)
        .order_by(func.count().desc(), Unit.code)
    )
    return [
        UnitBacklog(unit_id=i, code=c, name=n, active=int(a), overdue=int(o or 0))
        for i, c, n, a, o in rows.all()
    ]
