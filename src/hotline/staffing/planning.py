"""The staffing forecast: calls and handle time per half-hour (forecast.py), the agents
Erlang A asks for when the history shows how long callers wait before hanging up
(erlang_a.py), else Erlang C (erlang.py), against the people the roster puts there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

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


# What the calls expected stand on (HistoryUsed.basis).
SAME_WEEKDAY = "same_weekday"  # a week or more: each weekday from its own past days
ALL_DAYS = "all_days"  # under a week: every day of history stands in for the weekday
SHIFT_TEMPLATES = "shift_templates"  # no history: agents needed are the shifts' own numbers
TREND_DAYS = 14


@dataclass(frozen=True)
class HistoryUsed:
    """The call history a forecast read, said with it: the window asked for
    (`weeks` weeks before the first day forecast, or before today), the days of it the
    line has records for, and what the forecast stands on."""

    start: date  # first day of the window
    last: date  # last day of the window
    weeks: int  # the window asked for (HOTLINE_STAFFING_HISTORY_WEEKS)
    days: int  # days of it with call records (from the line's first call on)
    basis: str
    trend: bool  # the recent-trend factor applies (TREND_DAYS days or more)

    @property
    def enough(self) -> bool:
        return self.days >= 7

    @property
    def note(self) -> str:
        """The plain sentence the page and the API show."""
        if self.basis == SHIFT_TEMPLATES:
            return msg(
                "Chưa có lịch sử cuộc gọi nào từ {start} đến {last}: không dự báo được số "
                "cuộc gọi; số người cần lấy theo mẫu ca trực.",
                start=self.start.strftime("%d/%m/%Y"),
                last=self.last.strftime("%d/%m/%Y"),
            )
        if self.basis == ALL_DAYS:
            return msg(
                "Chỉ có {days} ngày lịch sử cuộc gọi (cần ít nhất 7): mọi ngày đã có đều "
                "dùng thay cho cùng thứ trong tuần; chưa tính xu hướng gần đây.",
                days=self.days,
            )
        if not self.trend:
            return msg(
                "Dùng {days} ngày lịch sử cuộc gọi, từ {start} đến {last}, theo cùng thứ "
                "trong tuần; chưa đủ 14 ngày nên chưa tính xu hướng gần đây.",
                days=self.days,
                start=(self.last - timedelta(days=self.days - 1)).strftime("%d/%m/%Y"),
                last=self.last.strftime("%d/%m/%Y"),
            )
        return msg(
            "Dùng {days} ngày ({weeks} tuần) lịch sử cuộc gọi, từ {start} đến {last}, theo "
            "cùng thứ trong tuần và xu hướng 7 ngày gần nhất.",
            days=self.days,
            weeks=round(self.days / 7, 1),
            start=(self.last - timedelta(days=self.days - 1)).strftime("%d/%m/%Y"),
            last=self.last.strftime("%d/%m/%Y"),
        )


@dataclass(frozen=True)
class Forecast:
    rules: StaffingRules
    scale: float
    slots: list[Slot]
    model: str = ERLANG_C  # ERLANG_A when callers' patience is known
    patience_seconds: float | None = None
    history: HistoryUsed | None = None


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
    days_known = len(history.days)
    used = HistoryUsed(
        start=start,
        last=end - timedelta(days=1),
        weeks=rules.weeks,
        days=days_known,
        basis=SHIFT_TEMPLATES if not days_known else ALL_DAYS if days_known < 7 else SAME_WEEKDAY,
        trend=days_known >= TREND_DAYS,
    )
    slots = []
    for p in predicted:
        calls = p.calls * scale
        # Compared as instants: aware datetimes sharing one tzinfo compare by wall clock,
        # which puts the two 02:00s of a day the clocks go back in the same shifts.
        at = p.start.astimezone(UTC)
        running = [s for s in shifts if s.start.astimezone(UTC) <= at < s.end.astimezone(UTC)]
        if used.basis == SHIFT_TEMPLATES:
            # Nothing to forecast from: the shift templates' own numbers stand in.
            needed = sum(s.shift.operators for s in running)
        else:
            needed = _agents(calls, p.aht_seconds, patience, rules)
        # People, not places: one account on two running shifts (or on one twice, as
        # itself and as a linked volunteer) is one operator.
        rostered = len(frozenset().union(*(s.agent_ids for s in running)))
        slots.append(Slot(p.start, calls, p.aht_seconds, needed, rostered))
    model = ERLANG_C if patience is None else ERLANG_A
    return Forecast(rules, scale, slots, model, patience, used)


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
