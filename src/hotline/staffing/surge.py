"""Surge mode: entered when the queue passes its thresholds (or by a supervisor's switch),
left when it recovers; each entry and exit is recorded with the queue's figures.

Entering it alerts the supervisors and the reserve volunteers (alerts.py). While it lasts,
the phone line offers the callback sooner and says so, and the chat channels'
acknowledgement states the expected wait (`expected_wait_seconds`).

The worker's sweep (`check_surge`) reads the figures: callers waiting and the longest wait
from the line's latest `queue.changed` events (calls/line_queue.py), and the operator
queue's calls of the last 15 minutes from the call records. The phone line reads the state
at each poll (`surge_active`) and offers waiting callers the callback sooner.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from hotline.agents.models import Agent, AgentStatus
from hotline.agents.service import QUEUE_ROLES
from hotline.auth.models import User
from hotline.auth.permissions import Permission, require
from hotline.auth.service import SYSTEM, Actor
from hotline.calls.line_queue import read_board
from hotline.calls.models import Call, CallDirection, CallOutcome
from hotline.db import utcnow
from hotline.events import DomainEvent, record_event
from hotline.messages import msg
from hotline.settings import Settings
from hotline.staffing.alerts import alert_surge
from hotline.staffing.checks import free_text
from hotline.staffing.forecast import DEFAULT_AHT, QUEUE
from hotline.staffing.models import SurgeChange, SurgeState
from hotline.staffing.service import ringable

WINDOW = timedelta(minutes=15)
STATE_ID = 1


@dataclass(frozen=True)
class SurgeRules:
    waiting: int = 10
    longest_wait: int = 120
    abandonment: float = 0.3
    min_calls: int = 10
    min_minutes: float = 10.0
    # A reserve volunteer alerted of an entry is not alerted again of another within this.
    renotify_minutes: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SurgeRules:
        return cls(
            waiting=settings.surge_waiting,
            longest_wait=settings.surge_longest_wait,
            abandonment=settings.surge_abandonment,
            min_calls=settings.surge_min_calls,
            min_minutes=settings.surge_min_minutes,
            renotify_minutes=settings.surge_renotify_minutes,
        )

    @property
    def renotify(self) -> timedelta:
        return timedelta(minutes=self.renotify_minutes)


@dataclass(frozen=True)
class Figures:
    waiting: int
    longest_wait_seconds: int
    offered_15min: int
    abandoned_15min: int

    @property
    def abandonment(self) -> float:
        return self.abandoned_15min / self.offered_15min if self.offered_15min else 0.0

    def as_json(self) -> dict[str, float | int]:
        return {**asdict(self), "abandonment": round(self.abandonment, 3)}


def over(rules: SurgeRules, f: Figures) -> list[str]:
    """The thresholds the figures reach (empty: none)."""
    reasons = []
    if f.waiting >= rules.waiting:
        reasons.append("waiting")
    if f.longest_wait_seconds >= rules.longest_wait:
        reasons.append("longest_wait")
    if f.offered_15min >= rules.min_calls and f.abandonment >= rules.abandonment:
        reasons.append("abandonment")
    return reasons


def recovered(rules: SurgeRules, f: Figures) -> bool:
    """Every figure under half its threshold (so the mode does not flap at the edge)."""
    return (
        f.waiting <= rules.waiting / 2
        and f.longest_wait_seconds <= rules.longest_wait / 2
        and (f.offered_15min < rules.min_calls or f.abandonment < rules.abandonment / 2)
    )


def offered_to(queue: str) -> tuple[ColumnElement[bool], ...]:
    """The calls offered to `queue`, as the forecast's counters take them: incoming (not the
    callbacks the line dials), finished (an answered call still in progress is counted when
    it ends), and not the calls that came outside opening hours (never offered)."""
    return (
        Call.branch == queue,
        Call.direction == CallDirection.INBOUND,
        Call.ended_at.is_not(None) | Call.answered_at.is_(None),
        Call.outcome.is_distinct_from(CallOutcome.OUTSIDE_HOURS),
    )


async def figures(session: AsyncSession, *, now: datetime) -> Figures:
    board = await read_board(session, actor=SYSTEM, now=now)
    queue = board.now(now)
    # The operator queue's own figures: callers waiting for the consult doctors (or any
    # other queue) do not make the operators' line overloaded.
    waiting = queue.by_queue.get(QUEUE, 0)
    longest = queue.wait_seconds(now, QUEUE) or 0
    offered, abandoned = (
        await session.execute(
            select(
                func.count(),
                func.sum(case((Call.outcome == CallOutcome.ABANDONED_QUEUE, 1), else_=0)),
            ).where(Call.started_at >= now - WINDOW, Call.started_at < now, *offered_to(QUEUE))
        )
    ).one()
    return Figures(waiting, longest if waiting else 0, int(offered), int(abandoned or 0))


async def expected_wait_seconds(
    session: AsyncSession, *, now: datetime | None = None
) -> int | None:
    """In surge mode, how long a newcomer can expect to wait for an operator; None outside
    it (`_expected_wait`)."""
    if not await surge_active(session):
        return None
    now = now or utcnow()
    return await _expected_wait(session, await figures(session, now=now), now)


async def _expected_wait(session: AsyncSession, f: Figures, now: datetime) -> int:
    """The queue ahead of a newcomer shared by the operators on the line: (waiting + 1) ×
    the mean talk time of the last hour's answered calls ÷ operators available or busy
    whom the queue rings now (service.ringable: an operator off their shift answers none
    of it), and never less than the longest wait now (the line is not catching up
    faster)."""
    aht = await session.scalar(
        select(func.avg(Call.talk_seconds)).where(
            Call.started_at >= now - timedelta(hours=1),
            *offered_to(QUEUE),
            Call.answered_at.is_not(None),
        )
    )
    rung = await ringable(session, now=now)
    on_line = (
        select(Agent.user_id)
        .join(User, User.id == Agent.user_id)
        .where(
            Agent.status.in_((AgentStatus.AVAILABLE, AgentStatus.BUSY)),
            User.role.in_(QUEUE_ROLES[QUEUE]),  # the operator queue's, not the doctors
        )
    )
    staffed = len([u for u in (await session.scalars(on_line)).all() if u in rung])
    handle = float(aht) if aht else DEFAULT_AHT
    share = (f.waiting + 1) * handle / max(1, staffed)
    return int(max(share, f.longest_wait_seconds))


def wait_minutes(seconds: int) -> int:
    """A wait said to a citizen: whole minutes rounded up to the next 5, at least 5."""
    return max(5, -(-seconds // 300) * 5)


async def ack_wait_minutes(session: AsyncSession) -> int | None:
    """The wait a chat acknowledgement states in surge mode (None outside it)."""
    seconds = await expected_wait_seconds(session)
    return None if seconds is None else wait_minutes(seconds)


async def _state(session: AsyncSession) -> SurgeState | None:
    return await session.get(SurgeState, STATE_ID)


async def surge_active(session: AsyncSession) -> bool:
    """Whether the line is in surge mode now (the phone line's poll)."""
    state = await _state(session)
    return bool(state and state.active)


async def _change(
    session: AsyncSession,
    *,
    active: bool,
    manual: bool,
    user_id: int | None,
    reason: str,
    figures: Figures,
    now: datetime,
    rules: SurgeRules,
) -> SurgeChange:
    """Record an entry, an exit, or a supervisor taking over a surge the sweep began
    (then `since` stays, and nobody is alerted again)."""
    state = await _state(session)
    if state is None:
        state = SurgeState(id=STATE_ID, active=False, since=now, manual=False)
        session.add(state)
    entering = active and not state.active
    if state.active != active:
        state.since = now
    state.active, state.manual = active, manual
    change = SurgeChange(
        at=now,
        active=active,
        manual=manual,
        user_id=user_id,
        reason=reason,
        figures=figures.as_json(),
    )
    session.add(change)
    await session.flush()
    notices = await alert_surge(session, change=change, renotify=rules.renotify) if entering else 0
    record_event(
        session,
        DomainEvent(
            kind="staffing.surge",
            data={
                "active": active,
                "manual": manual,
                "reason": reason,
                "figures": figures.as_json(),
                "notices": notices,
            },
        ),
    )
    return change


async def _held_until(
    session: AsyncSession, state: SurgeState | None, rules: SurgeRules, now: datetime
) -> datetime | None:
    """While surge mode is off by a supervisor's switch, when the sweep may enter it again
    (`min_minutes` after the switch-off, the latest change); None when nothing holds it."""
    if state is None or state.active or not state.manual:
        return None
    at = await session.scalar(select(SurgeChange.at).order_by(SurgeChange.id.desc()).limit(1))
    until = (at or state.since) + timedelta(minutes=rules.min_minutes)
    return until if until > now else None


async def check_surge(
    session: AsyncSession, *, rules: SurgeRules, now: datetime | None = None
) -> SurgeChange | None:
    """The worker's sweep: enter surge mode when a threshold is reached, leave it when the
    queue has recovered and `min_minutes` have passed. A supervisor's switch-on holds until
    a supervisor switches off; a switch-off holds against re-entry for `min_minutes`.
    Publishes `staffing.surge` (supervisors' live alert) on each change."""
    now = now or utcnow()
    state = await _state(session)
    f = await figures(session, now=now)
    active = bool(state and state.active)
    if not active:
        reasons = over(rules, f)
        if reasons and await _held_until(session, state, rules, now) is None:
            return await _change(
                session,
                active=True,
                manual=False,
                user_id=None,
                reason=",".join(reasons),
                figures=f,
                now=now,
                rules=rules,
            )
        return None
    assert state is not None
    settled = now - state.since >= timedelta(minutes=rules.min_minutes)
    if not state.manual and settled and recovered(rules, f):
        return await _change(
            session,
            active=False,
            manual=False,
            user_id=None,
            reason="recovered",
            figures=f,
            now=now,
            rules=rules,
        )
    return None


async def switch(
    session: AsyncSession,
    *,
    actor: Actor,
    active: bool,
    reason: str = "",
    rules: SurgeRules | None = None,
) -> SurgeChange | None:
    """A supervisor switches surge mode on or off; None when nothing changes (on by a
    supervisor already, or off under a supervisor's hold still running), so the same switch
    sent twice is answered the same. Switched on, it holds until switched off, also when the
    sweep had already entered it (the change is recorded, nobody alerted again). Switched
    off, it holds against the sweep for `min_minutes`, also when it was already off (the
    hold is recorded as the supervisor's change; `since` stays)."""
    require(
        actor,
        Permission.MANAGE_STAFFING,
        msg("Chỉ trưởng ca và quản trị viên được bật hoặc tắt chế độ quá tải"),
    )
    rules = rules or SurgeRules()
    now = utcnow()
    state = await _state(session)
    if active and state is not None and state.active and state.manual:
        return None
    if not active and await _held_until(session, state, rules, now) is not None:
        return None
    f = await figures(session, now=now)
    return await _change(
        session,
        active=active,
        manual=True,
        user_id=actor.user_id,
        reason=free_text(reason, "reason", 200) or "manual",
        figures=f,
        now=now,
        rules=rules,
    )


@dataclass(frozen=True)
class SurgeView:
    active: bool
    manual: bool
    since: datetime | None
    figures: Figures
    history: list[SurgeChange]
    expected_wait_seconds: int | None = None  # in surge mode: what chat citizens are told
    # Off by a supervisor's switch: the sweep does not enter surge mode before this.
    held_until: datetime | None = None


async def read_surge(
    session: AsyncSession, *, actor: Actor, limit: int = 100, rules: SurgeRules | None = None
) -> SurgeView:
    """The state, the queue's figures now, the latest entries and exits, and how long a
    supervisor's switch-off holds (hotline staff)."""
    require(actor, Permission.SEE_ROSTER, msg("Chỉ nhân viên tổng đài xem được chế độ quá tải"))
    now = utcnow()
    state = await _state(session)
    history = (
        await session.scalars(
            select(SurgeChange).order_by(SurgeChange.id.desc()).limit(max(1, min(limit, 500)))
        )
    ).all()
    f = await figures(session, now=now)
    active = bool(state and state.active)
    return SurgeView(
        active=active,
        manual=bool(state and state.manual),
        since=state.since if state else None,
        figures=f,
        history=list(history),
        expected_wait_seconds=await _expected_wait(session, f, now) if active else None,
        held_until=await _held_until(session, state, rules or SurgeRules(), now),
    )
