"""Who is on each shift of some days, and how many people that is: people, not places (a
staff member and the volunteer offer linked to their account, both on a shift, are one
person, and the operator queue rings one account)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hotline.auth.models import User
from hotline.db import utcnow
from hotline.site import site_of
from hotline.staffing.checks import OPERATOR_ROLES, shift_span
from hotline.staffing.models import RosterEntry, ShiftTemplate, Volunteer, VolunteerStatus


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
    people: list[Person]  # everyone, or only the reader's own places
    # People, not places: a staff member and the volunteer offer linked to their account,
    # both on the shift, are one person (one account the queue rings).
    rostered: int  # everyone on the shift, whoever reads it
    agent_ids: frozenset[int]  # the accounts of them the operator queue rings

    @property
    def agents(self) -> int:
        """How many the operator queue rings (staff and linked volunteers)."""
        return len(self.agent_ids)


async def roster(
    session: AsyncSession, *, start: date, end: date, user_id: int | None = None
) -> list[ShiftDay]:
    """Every active shift of every day in [start, end] with who is on it (everyone, or
    only `user_id`'s places); no permission check: callers check. A retired shift stays on
    the days up to today (site time) that have places on it: retiring a shift changes the
    days to come, not the record of who worked (nor tonight's shift, already staffed)."""
    tz = site_of(session).timezone
    today = utcnow().astimezone(tz).date()
    shifts = (
        await session.scalars(
            select(ShiftTemplate).order_by(ShiftTemplate.starts_at, ShiftTemplate.id)
        )
    ).all()
    # The account that answers calls: the staff member's own, or the volunteer's linked one.
    account = aliased(User)
    stmt = (
        select(
            RosterEntry,
            User.full_name,
            Volunteer.full_name,
            account.id,
            account.role,
            account.active,
            Volunteer.status,
            Volunteer.withdrawn_at,
        )
        .outerjoin(User, User.id == RosterEntry.user_id)
        .outerjoin(Volunteer, Volunteer.id == RosterEntry.volunteer_id)
        .outerjoin(account, account.id == func.coalesce(RosterEntry.user_id, Volunteer.user_id))
        .where(RosterEntry.day >= start, RosterEntry.day <= end)
        .order_by(RosterEntry.id)
    )
    people: dict[tuple[date, int], list[Person]] = {}
    # Each person once: by the account they answer with, else by their volunteer offer.
    heads: dict[tuple[date, int], set[tuple[str, int]]] = {}
    agents: dict[tuple[date, int], set[int]] = {}
    by_id = {s.id: s for s in shifts}
    rows = (await session.execute(stmt)).all()
    for entry, user_name, volunteer_name, account_id, role, active, status, gone in rows:
        key = (entry.day, entry.shift_id)
        head = ("user", account_id) if account_id is not None else ("offer", entry.volunteer_id)
        # A withdrawn offer's place stays listed (the record), but fills the shift only
        # if the shift was over when the offer was withdrawn: a volunteer who left fills
        # neither the shift they left during nor any later one.
        fills = status is not VolunteerStatus.WITHDRAWN or (
            gone is not None and shift_span(by_id[entry.shift_id], entry.day, tz)[1] <= gone
        )
        if fills:
            heads.setdefault(key, set()).add(head)
        if fills and active and role in OPERATOR_ROLES:
            agents.setdefault(key, set()).add(account_id)
        # The reader's own places: their staff places and those of the volunteer offer
        # linked to their account (they answer its calls with that account).
        if user_id is not None and account_id != user_id:
            continue
        people.setdefault(key, []).append(
            Person(entry.id, entry.user_id, entry.volunteer_id, user_name or volunteer_name or "")
        )
    out = []
    for i in range((end - start).days + 1):
        day = start + timedelta(days=i)
        for shift in shifts:
            begin, finish = shift_span(shift, day, tz)
            key = (day, shift.id)
            if not shift.active and (day > today or (key not in heads and key not in people)):
                continue
            out.append(
                ShiftDay(
                    day,
                    shift,
                    begin,
                    finish,
                    people.get(key, []),
                    len(heads.get(key, ())),
                    frozenset(agents.get(key, ())),
                )
            )
    return out
