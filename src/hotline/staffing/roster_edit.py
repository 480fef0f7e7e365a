"""What a shift lead needs to edit the roster without knowing anyone's id: the people who
may be placed (call takers and approved volunteers, by name, with their places of the
week and their off-shift leave), who is clocked in and who has leave now, and a week
copied onto another with a report of what was copied and what was skipped and why.

Apart from service.py (the shift and roster rules) so that these reads and the copy's
report grow without touching those rules; placing.copy_week answers with this copy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents.models import Agent, AgentStatus
from hotline.auth.models import User
from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor, display_names
from hotline.db import utcnow
from hotline.errors import InvalidInput
from hotline.messages import msg
from hotline.site import site_of
from hotline.staffing.checks import OPERATOR_ROLES, check_day, holds_place, shift_span
from hotline.staffing.models import (
    RingOverride,
    RosterEntry,
    ShiftClock,
    ShiftTemplate,
    Volunteer,
    VolunteerStatus,
)
from hotline.text import fold

LEAD_ONLY = msg("Chỉ trưởng ca và quản trị viên được sắp xếp lịch trực")


@dataclass(frozen=True)
class Candidate:
    """Someone a lead may put on a shift: a call taker (`user_id`) or an approved
    volunteer (`volunteer_id`, with the account linked to the offer, if any)."""

    user_id: int | None
    volunteer_id: int | None
    name: str
    detail: str  # the username, or the linked account's: two people may share a name
    places: tuple[tuple[date, int], ...]  # (day, shift id) held in the days asked for
    leave_until: datetime | None  # a supervisor's off-shift leave still running
    clocked_in: bool

    @property
    def key(self) -> str:
        """How a form names them: `u<user id>` or `v<volunteer id>`."""
        return f"u{self.user_id}" if self.user_id is not None else f"v{self.volunteer_id}"


async def candidates(
    session: AsyncSession, *, actor: Actor, start: date, end: date
) -> list[Candidate]:
    """The active operators and supervisors, then the approved volunteers, by name, each
    with their places between `start` and `end` (a volunteer's through their offer or
    their linked account), their off-shift leave and whether they are clocked in
    (supervisors and administrators)."""
    require(actor, Permission.MANAGE_STAFFING, LEAD_ONLY)
    now = utcnow()
    staff = (
        await session.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_(OPERATOR_ROLES))
            .order_by(func.coalesce(User.full_name, User.username), User.id)
        )
    ).all()
    offers = (
        await session.scalars(
            select(Volunteer)
            .where(Volunteer.status == VolunteerStatus.APPROVED)
            .order_by(Volunteer.full_name, Volunteer.id)
        )
    ).all()
    entries = (
        await session.execute(
            select(
                RosterEntry.day,
                RosterEntry.shift_id,
                func.coalesce(RosterEntry.user_id, Volunteer.user_id),
                RosterEntry.volunteer_id,
            )
            .outerjoin(Volunteer, Volunteer.id == RosterEntry.volunteer_id)
            .where(RosterEntry.day >= start, RosterEntry.day <= end)
            .order_by(RosterEntry.day, RosterEntry.shift_id)
        )
    ).all()
    by_user: dict[int, list[tuple[date, int]]] = {}
    by_offer: dict[int, list[tuple[date, int]]] = {}
    for day, shift_id, account, offer in entries:
        if account is not None:
            by_user.setdefault(account, []).append((day, shift_id))
        if offer is not None:
            by_offer.setdefault(offer, []).append((day, shift_id))
    leaves = dict(
        (
            await session.execute(
                select(RingOverride.user_id, RingOverride.until).where(RingOverride.until > now)
            )
        ).all()
    )
    clocked = set(
        (await session.scalars(select(ShiftClock.user_id).where(ShiftClock.out_at.is_(None)))).all()
    )
    usernames = await display_names(session, {o.user_id for o in offers if o.user_id})
    out = [
        Candidate(
            user_id=u.id,
            volunteer_id=None,
            name=u.full_name or u.username,
            detail=u.username,
            places=tuple(by_user.get(u.id, ())),
            leave_until=leaves.get(u.id),
            clocked_in=u.id in clocked,
        )
        for u in staff
    ]
    for o in offers:
        places = set(by_offer.get(o.id, ()))
        if o.user_id is not None:
            places |= set(by_user.get(o.user_id, ()))
        out.append(
            Candidate(
                user_id=None,
                volunteer_id=o.id,
                name=o.full_name,
                detail=usernames.get(o.user_id, "") if o.user_id else "",
                places=tuple(sorted(places)),
                leave_until=leaves.get(o.user_id) if o.user_id else None,
                clocked_in=o.user_id in clocked,
            )
        )
    # By name as a Vietnamese reader looks for it: Đặng among the Ds, not after Vũ. Staff
    # first, then volunteers (the page shows them in two groups).
    return sorted(out, key=lambda c: (c.user_id is None, fold(c.name), c.name, c.key))


@dataclass(frozen=True)
class OnLine:
    """Someone clocked in now, or with a supervisor's off-shift leave now."""

    user_id: int
    name: str
    since: datetime | None  # clocked in at
    leave_until: datetime | None
    leave_reason: str
    # Clocked in and away: on a break since then (away keeps the clock row open).
    break_since: datetime | None = None


async def attendance(session: AsyncSession, *, actor: Actor) -> list[OnLine]:
    """Who is clocked in and who has off-shift leave now, by name (supervisors): the
    people a lead may clock out or whose leave they may end."""
    require(actor, Permission.MANAGE_STAFFING, LEAD_ONLY)
    now = utcnow()
    clocks = dict(
        (
            await session.execute(
                select(ShiftClock.user_id, ShiftClock.in_at).where(ShiftClock.out_at.is_(None))
            )
        ).all()
    )
    leaves = {
        o.user_id: o
        for o in (await session.scalars(select(RingOverride).where(RingOverride.until > now))).all()
    }
    names = await display_names(session, set(clocks) | set(leaves))
    away = dict(
        (
            await session.execute(
                select(Agent.user_id, Agent.status_since).where(
                    Agent.user_id.in_(clocks), Agent.status == AgentStatus.AWAY
                )
            )
        ).all()
    )
    people = [
        OnLine(
            user_id=uid,
            name=names.get(uid, str(uid)),
            since=clocks.get(uid),
            leave_until=leaves[uid].until if uid in leaves else None,
            leave_reason=leaves[uid].reason if uid in leaves else "",
            break_since=max(away[uid], clocks[uid]) if uid in away else None,
        )
        for uid in set(clocks) | set(leaves)
    ]
    return sorted(people, key=lambda p: (fold(p.name), p.user_id))


@dataclass
class CopyReport:
    """What copying a week did: the places added, and the ones skipped by reason."""

    copied: int = 0
    already: int = 0  # the person already holds that place in the target week
    ended: int = 0  # the target shift is already over (today's earlier shifts)
    not_rosterable: int = 0  # no longer an active call taker, or an offer not approved
    same_person: int = 0  # on that shift already through their linked offer or account
    days: list[date] = field(default_factory=list)  # the target week's days

    @property
    def skipped(self) -> int:
        return self.already + self.ended + self.not_rosterable + self.same_person


async def copy_week(
    session: AsyncSession, *, actor: Actor, source: date, target: date
) -> CopyReport:
    """Copy the 7 days from `source` onto the 7 days from `target` (supervisors), adding
    only the places not there yet: nothing in the target week is overwritten or removed.
    Skipped, and counted by reason: a place already there, a shift already over, someone
    who may no longer be rostered (an account no longer an active call taker, an offer no
    longer approved, or an inactive shift), and one person's second place on a shift (a
    staff member and the offer linked to their account)."""
    require(
        actor, Permission.MANAGE_STAFFING, msg("Chỉ trưởng ca và quản trị viên được chép lịch trực")
    )
    check_day(source, "source")
    check_day(target, "target")
    if source.weekday() != target.weekday():
        # Each day lands on its own weekday, as the week's pattern was made for it.
        raise InvalidInput("Hai tuần phải bắt đầu cùng một thứ trong tuần", field="target")
    if abs((target - source).days) < 7:
        raise InvalidInput("Hai tuần không được chồng lên nhau", field="target")
    tz = site_of(session).timezone
    now = utcnow()
    # Into the current week too (its shifts already over are skipped, `ended`), never into
    # a week all past: the roster of the past is a record.
    if target + timedelta(days=6) < now.astimezone(tz).date():
        raise InvalidInput(
            "Tuần nhận lịch đã qua; chỉ chép vào tuần này hoặc một tuần sau", field="target"
        )
    shifts = {s.id: s for s in (await session.scalars(select(ShiftTemplate))).all()}
    rosterable = or_(
        and_(
            RosterEntry.user_id.is_not(None), User.active.is_(True), User.role.in_(OPERATOR_ROLES)
        ),
        and_(RosterEntry.volunteer_id.is_not(None), Volunteer.status == VolunteerStatus.APPROVED),
    )
    week = (
        await session.execute(
            select(RosterEntry, rosterable, Volunteer.user_id)
            .outerjoin(User, User.id == RosterEntry.user_id)
            .outerjoin(Volunteer, Volunteer.id == RosterEntry.volunteer_id)
            .where(RosterEntry.day >= source, RosterEntry.day < source + timedelta(days=7))
            .order_by(RosterEntry.day, RosterEntry.shift_id, RosterEntry.id)
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
    report = CopyReport(days=[target + timedelta(days=i) for i in range(7)])
    for e, may, linked in week:
        day = target + (e.day - source)
        shift = shifts[e.shift_id]
        if (day, e.shift_id, e.user_id, e.volunteer_id) in existing:
            report.already += 1
        elif not may or not shift.active:
            report.not_rosterable += 1
        elif shift_span(shift, day, tz)[1] <= now:
            report.ended += 1
        elif (account := e.user_id or linked) is not None and await holds_place(
            session, day=day, shift_id=e.shift_id, user_id=account
        ):
            report.same_person += 1
        else:
            session.add(
                RosterEntry(
                    day=day,
                    shift_id=e.shift_id,
                    user_id=e.user_id,
                    volunteer_id=e.volunteer_id,
                    created_by=actor.user_id,
                )
            )
            # Flushed now: the next place's one-person check sees this one.
            await session.flush()
            existing.add((day, e.shift_id, e.user_id, e.volunteer_id))
            report.copied += 1
    return report
