"""The staffing forecast: calls and handle time per half-hour (forecast.py), the agents
Erlang A asks for when the history shows how long callers wait before hanging up
(erlang_a.py), else Erlang C (erlang.py), against the people the roster puts there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.db import utcnow
from hotline.errors import InvalidInput
from hotline.messages import msg
from hotline.settings import Settings
from hotline.site import site_of
from hotline.staffing.checks import check_day
from hotline.staffing.erlang import agents_needed
from hotline.staffing.erlang_a import agents_needed_a
from hotline.staffing.forecast import SLOT, forecast, history_window, read_history
from hotline.staffing.service import roster

MAX_DAYS = 7
SCALES = (1.0, 2.0, 3.0)
ERLANG_A, ERLANG_C = "erlang_a", "erlang_c"


@dataclass(frozen=True)
class StaffingRules:
    target: float = 0.8
    seconds: int = 20
    max_occupancy: float | None = 0.85
    weeks: int = 8
    wrap_seconds: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> StaffingRules:
        return cls(
            target=settings.staffing_service_level,
            seconds=settings.staffing_answer_seconds,
            max_occupancy=settings.staffing_max_occupancy,
            weeks=settings.staffing_history_weeks,
            wrap_seconds=settings.staffing_wrap_seconds,
        )


@dataclass(frozen=True)
class Slot:
    start: datetime
    calls: float
    aht_seconds: float
    agents_needed: int
    agents_rostered: int

    @property
    def gap(self) -> int:
        """People missing (negative: more rostered than needed)."""
        return self.agents_needed - self.agents_rostered


@dataclass(frozen=True)
class Forecast:
    rules: StaffingRules
    scale: float
    slots: list[Slot]
    model: str = ERLANG_C  # ERLANG_A when callers' patience is known
    patience_seconds: float | None = None


async def staffing_forecast(
    session: AsyncSession,
    *,
    actor: Actor,
    first_day: date,
    rules: StaffingRules,
    days: int = 1,
    scale: float = 1.0,
    now: datetime | None = None,
) -> Forecast:
    """Every half-hour of `days` days from `first_day`: calls expected (times `scale`, the
    "what if calls doubled" view), handle time, agents needed for the service level, agents
    rostered (those the operator queue rings), and the gap (supervisors and admins)."""
    require(
        actor,
        Permission.MANAGE_STAFFING,
        msg("Chỉ trưởng ca và quản trị viên xem được dự báo nhân lực"),
    )
    check_day(first_day, "date")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput("Dự báo từ 1 đến 7 ngày", field="days")
    if scale not in SCALES:
        raise InvalidInput("Hệ số chỉ nhận 1, 2 hoặc 3", field="scale")
    tz = site_of(session).timezone
    start, end = history_window(first_day, now or utcnow(), tz, rules.weeks)
    history = await read_history(session, start=start, end=end, tz=tz)
    last_day = first_day + timedelta(days=days - 1)
    predicted = forecast(
        history,
        [first_day + timedelta(days=i) for i in range(days)],
        tz=tz,
        end=end,
        wrap_seconds=rules.wrap_seconds,
    )
    # The day before as well: its night shift runs into the first day.
    shifts = await roster(session, start=first_day - timedelta(days=1), end=last_day)
    patience = history.patience_seconds
    slots = []
    for p in predicted:
        calls = p.calls * scale
        needed = _agents(calls, p.aht_seconds, patience, rules)
        rostered = sum(s.agents for s in shifts if s.start <= p.start < s.end)
        slots.append(Slot(p.start, calls, p.aht_seconds, needed, rostered))
    model = ERLANG_C if patience is None else ERLANG_A
    return Forecast(rules, scale, slots, model, patience)


def _agents(calls: float, aht: float, patience: float | None, rules: StaffingRules) -> int:
    interval = SLOT.total_seconds()
    if patience is None:
        return agents_needed(
            calls,
            aht,
            target=rules.target,
            seconds=rules.seconds,
            interval_seconds=interval,
            max_occupancy=rules.max_occupancy,
        ).agents
    return agents_needed_a(
        calls,
        aht,
        patience,
        target=rules.target,
        seconds=rules.seconds,
        interval_seconds=interval,
        max_occupancy=rules.max_occupancy,
    ).agents
