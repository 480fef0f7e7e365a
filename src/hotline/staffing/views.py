"""What the staffing page (`/staffing`) shows, read through the same service functions as the
API, each checking its own permission: a shift lead's board (forecast, surge mode, alerts,
volunteers, the week's roster, swaps to decide) or a call taker's own week.

Kept apart from service.py so the pages add reads without touching the rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor, display_names
from hotline.errors import NotFound
from hotline.site import site_of
from hotline.staffing import (
    alerts,
    offers,
    planning,
    roster_edit,
    service,
    surge,
    swaps,
    volunteers,
)
from hotline.staffing.models import (
    RosterEntry,
    ShiftAlert,
    ShiftClock,
    ShiftSwap,
    ShiftTemplate,
    StaffingNotice,
    SwapStatus,
    Volunteer,
    VolunteerStatus,
)
from hotline.staffing.offer_views import OfferInfo, offer_details
from hotline.staffing.paging import MAX_LIMIT
from hotline.staffing.surge import SurgeView

NOTICES_SHOWN = 20
SURGE_HISTORY_SHOWN = 10
ALERT_DAYS_BACK = 1  # from yesterday: its night shift runs into today


@dataclass(frozen=True)
class UnfilledAlert:
    day: date
    shift: str
    start: datetime
    at: datetime
    rostered: int
    needed: int


@dataclass(frozen=True)
class SwapRow:
    swap: ShiftSwap
    day: date | None
    shift: str


@dataclass(frozen=True)
class NoticeRow:
    notice: StaffingNotice
    to: str  # the person told: a staff account's or a volunteer's name


@dataclass
class Board:
    """Everything on the page; the lead's parts stay empty for a call taker."""

    lead: bool
    day: date
    week_start: date
    week: list[service.ShiftDay]
    clocked_in: ShiftClock | None
    swaps: list[SwapRow]
    notices: list[NoticeRow]
    surge: SurgeView
    forecast: planning.Forecast | None = None
    pending_volunteers: list[Volunteer] = field(default_factory=list)
    approved_volunteers: list[Volunteer] = field(default_factory=list)
    offer_info: dict[int, OfferInfo] = field(default_factory=dict)
    own_offer: Volunteer | None = None  # a call taker's own volunteer offer, if linked
    unfilled: list[UnfilledAlert] = field(default_factory=list)
    me: int | None = None  # the reader's account: their own requests can be withdrawn
    colleagues: list[tuple[int, str]] = field(default_factory=list)  # whom to ask for a swap
    names: dict[int, str] = field(default_factory=dict)
    # The lead's roster editing: whom to place, who is in or on leave, the shifts.
    candidates: list[roster_edit.Candidate] = field(default_factory=list)
    attendance: list[roster_edit.OnLine] = field(default_factory=list)
    shifts: list[ShiftTemplate] = field(default_factory=list)


def week_of(day: date) -> date:
    """The Monday of the day's week."""
    return day - timedelta(days=day.weekday())


async def open_clock(session: AsyncSession, *, actor: Actor) -> ShiftClock | None:
    """The actor's clock-in still open (None: not clocked in)."""
    require(actor, Permission.SEE_ROSTER)
    if actor.user_id is None:
        return None
    return await session.scalar(
        select(ShiftClock).where(ShiftClock.user_id == actor.user_id, ShiftClock.out_at.is_(None))
    )


async def unfilled_alerts(
    session: AsyncSession, *, actor: Actor, since: date, limit: int = 50
) -> list[UnfilledAlert]:
    """Unfilled shifts announced to the supervisors (the `staffing.unfilled` events kept in
    `shift_alert`), for shifts from `since` on, soonest first (supervisors and admins)."""
    require(actor, Permission.MANAGE_STAFFING)
    rows = await session.execute(
        select(ShiftAlert, ShiftTemplate)
        .join(ShiftTemplate, ShiftTemplate.id == ShiftAlert.shift_id)
        .where(ShiftAlert.day >= since)
        .order_by(ShiftAlert.day, ShiftTemplate.starts_at)
        .limit(limit)
    )
    tz = site_of(session).timezone
    return [
        UnfilledAlert(
            day=a.day,
            shift=shift.name,
            start=service.shift_span(shift, a.day, tz)[0],
            at=a.at,
            rostered=a.rostered,
            needed=a.needed,
        )
        for a, shift in rows.all()
    ]


async def _swap_rows(session: AsyncSession, swaps: list[ShiftSwap]) -> list[SwapRow]:
    entry_ids = {s.entry_id for s in swaps}
    places: dict[int, tuple[date, str]] = {}
    if entry_ids:
        rows = await session.execute(
            select(RosterEntry.id, RosterEntry.day, ShiftTemplate.name)
            .join(ShiftTemplate, ShiftTemplate.id == RosterEntry.shift_id)
            .where(RosterEntry.id.in_(entry_ids))
        )
        places = {entry_id: (day, name) for entry_id, day, name in rows.all()}
    out = []
    for s in swaps:
        day, name = places.get(s.entry_id, (None, ""))
        out.append(SwapRow(s, day, name))
    return out


async def _notice_rows(
    session: AsyncSession, actor: Actor, notices: list[StaffingNotice]
) -> list[NoticeRow]:
    """The notices told to this user and to volunteers: every lead gets a copy of each
    surge notice, and a list of everyone's copies would bury the volunteers to phone."""
    mine = [n for n in notices if n.user_id == actor.user_id or n.volunteer_id is not None]
    volunteer_ids = {n.volunteer_id for n in mine if n.volunteer_id is not None}
    names: dict[int, str] = {}
    if volunteer_ids:
        rows = await session.execute(
            select(Volunteer.id, Volunteer.full_name).where(Volunteer.id.in_(volunteer_ids))
        )
        names = {vid: name for vid, name in rows.all()}
    staff = await display_names(session, {n.user_id for n in mine if n.user_id is not None})
    return [
        NoticeRow(
            n,
            staff.get(n.user_id, "")
            if n.user_id is not None
            else names.get(n.volunteer_id or 0, ""),
        )
        for n in mine
    ]


async def read_board(
    session: AsyncSession,
    *,
    actor: Actor,
    day: date,
    scale: float,
    rules: planning.StaffingRules,
    now: datetime,
    surge_rules: surge.SurgeRules | None = None,
    week_day: date | None = None,
) -> Board:
    """The staffing page for the actor: hotline staff see their week's shifts, their swaps,
    their notices, surge mode and their clock; supervisors and admins the whole roster, the
    forecast of `day` (calls times `scale`), the unfilled-shift alerts, the volunteers
    waiting and the swaps to decide. Each part is read by the service the API uses."""
    require(actor, Permission.SEE_ROSTER)
    lead = allows(actor, Permission.MANAGE_STAFFING)
    # An operator's week is that of the shift being worked (`week_day`: a night shift after
    # midnight on a Monday is last week's); a supervisor plans on the calendar's.
    monday = week_of(week_day if week_day is not None and not lead else day)
    week = await service.read_roster(
        session, actor=actor, start=monday, end=monday + timedelta(days=6)
    )
    # The swaps still open: waiting for the colleague's answer, or accepted and waiting
    # for a supervisor; newest first.
    requested = [
        swap
        for status in (SwapStatus.REQUESTED, SwapStatus.ACCEPTED)
        for swap in (
            await service.list_swaps(session, actor=actor, status=status.value, limit=MAX_LIMIT)
        ).items
    ]
    requested.sort(key=lambda swap: swap.id, reverse=True)
    notices = (await alerts.list_notices(session, actor=actor, limit=NOTICES_SHOWN * 5)).items
    board = Board(
        me=actor.user_id,
        lead=lead,
        day=day,
        week_start=monday,
        week=week,
        clocked_in=await open_clock(session, actor=actor),
        swaps=await _swap_rows(session, requested),
        notices=(await _notice_rows(session, actor, notices))[:NOTICES_SHOWN],
        surge=await surge.read_surge(
            session, actor=actor, limit=SURGE_HISTORY_SHOWN, rules=surge_rules
        ),
    )
    if lead:
        board.forecast = await planning.staffing_forecast(
            session, actor=actor, first_day=day, rules=rules, scale=scale, now=now
        )
        board.pending_volunteers = (
            await volunteers.list_volunteers(
                session, actor=actor, status=VolunteerStatus.PENDING.value, limit=MAX_LIMIT
            )
        ).items
        board.approved_volunteers = (
            await volunteers.list_volunteers(
                session, actor=actor, status=VolunteerStatus.APPROVED.value, limit=MAX_LIMIT
            )
        ).items
        board.offer_info = await offer_details(
            session, actor=actor, offers=board.pending_volunteers + board.approved_volunteers
        )
        today = now.astimezone(site_of(session).timezone).date()
        board.unfilled = await unfilled_alerts(
            session, actor=actor, since=today - timedelta(days=ALERT_DAYS_BACK)
        )
        board.candidates = await roster_edit.candidates(
            session, actor=actor, start=monday, end=monday + timedelta(days=6)
        )
        board.attendance = await roster_edit.attendance(session, actor=actor)
        board.shifts = await service.list_shifts(session, actor=actor)
    else:
        board.colleagues = await swaps.colleagues(session, actor=actor)
        try:
            board.own_offer = await offers.own_offer(session, actor=actor)
        except NotFound:
            board.own_offer = None
    people = {s.swap.requested_by for s in board.swaps} | {s.swap.to_user_id for s in board.swaps}
    people |= {c.user_id for c in board.surge.history if c.user_id is not None}
    # A staff account without a full name is shown by its username.
    people |= {p.user_id for d in week for p in d.people if p.user_id is not None and not p.name}
    board.names = await display_names(session, people)
    return board
