"""The calls each half-hour will bring, from the line's own history (docs/staffing.md).

Method, per half-hour of the day forecast: the mean of the same weekday's same half-hour
over the last `weeks` weeks of history (the weekly shape), times a trend factor: the calls
of the last 7 days over the mean week of the whole window (the level now against the
level the shape was measured at), kept within [0.5, 2]. With under two weeks of history
the trend is 1; with under one week, every day of history stands in for the weekday.
Average handle time per half-hour of the day: talk time of the answered calls plus the
after-call work, pooled with the line's overall mean as if that were K_PRIOR calls, so a
quiet half-hour's few calls cannot swing it. Callers' mean patience, from the queue's
waits and abandoned calls of the same window (`History.patience_seconds`), lets the
planning use Erlang A instead of Erlang C.

History is read from `call_quarter_counter` (reports/models.py), the operator queue's
calls per UTC quarter-hour, kept as each call record is finished: a window of 8 weeks is
at most 5,376 rows however busy the line, instead of every call in it. Each quarter-hour
falls in one local half-hour of the site's timezone (every zone's offset is a whole number
of quarter-hours), so the local days and half-hours are exact, across daylight-saving
changes too. A call still in progress is counted when it ends.

A day is the real half-hours from local midnight to the next: 48, or 46 and 50 on the days
a daylight-saving zone sets its clocks forward or back. A half-hour is matched with the
history by its wall-clock time (callers call at 09:00 local, whatever the offset); the
second pass through an hour set back is a half-hour of its own in the history (`local_slot`
gives it SLOTS + its wall-clock index) and is forecast from the ordinary days' same
wall-clock half-hour.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.calls.models import Call
from hotline.reports.counters import quarter_of, quarter_start
from hotline.reports.models import CallQuarterCounter

SLOTS = 48
SLOT = timedelta(minutes=30)
# The operator queue (Call.branch): the calls people answer.
QUEUE = "operator"
DEFAULT_AHT = 300.0  # seconds, until the line has answered calls of its own
K_PRIOR = 20.0
TREND_LIMITS = (0.5, 2.0)
# Abandoned calls needed before their patience is trusted (docs/staffing.md, Erlang A).
MIN_ABANDONED = 30


@dataclass
class History:
    """Calls offered per local (day, half-hour), and talk time per half-hour of the day."""

    days: set[date] = field(default_factory=set)  # the local days the window covers
    calls: dict[tuple[date, int], int] = field(default_factory=dict)
    talk: dict[int, float] = field(default_factory=dict)  # slot -> talk seconds
    answered: dict[int, int] = field(default_factory=dict)  # slot -> answered calls
    # The queue's waits (answered, abandoned and callback calls alike) and its abandoned
    # calls: what callers' patience is estimated from.
    waited_seconds: float = 0.0
    abandoned: int = 0

    def add(self, day: date, slot: int, calls: int, answered: int = 0, talk: float = 0) -> None:
        key = (day, slot)
        self.calls[key] = self.calls.get(key, 0) + calls
        self.answered[slot] = self.answered.get(slot, 0) + answered
        self.talk[slot] = self.talk.get(slot, 0.0) + talk

    @property
    def patience_seconds(self) -> float | None:
        """Callers' mean patience, if enough of them hung up to tell: every queued call's
        wait over the calls abandoned in the queue (exponential patience, the waits of
        callers who were answered or took a callback counting as patience not yet spent,
        the maximum-likelihood estimate). None: too few abandoned calls."""
        if self.abandoned < MIN_ABANDONED or self.waited_seconds <= 0:
            return None
        return self.waited_seconds / self.abandoned


@dataclass(frozen=True)
class SlotForecast:
    start: datetime  # local
    calls: float
    aht_seconds: float


def local_slot(at: datetime, tz: ZoneInfo) -> tuple[date, int]:
    """The local day and wall-clock half-hour (0-47) of an instant; the second pass
    through an hour the clocks were set back over (fold 1) is SLOTS + that index."""
    local = at.astimezone(tz)
    index = local.hour * 2 + local.minute // 30
    return local.date(), index + SLOTS if local.fold else index


def day_slots(day: date, tz: ZoneInfo) -> list[datetime]:
    """The starts (local) of the real half-hours of a local day: 48, or 46 or 50 on a
    day the clocks change."""
    first, end = day_start_utc(day, tz), day_start_utc(day + timedelta(days=1), tz)
    return [(first + i * SLOT).astimezone(tz) for i in range(int((end - first) / SLOT))]


def _skipped(day: date, tz: ZoneInfo) -> frozenset[int]:
    """The wall-clock half-hours (0-47) a local day does not have (the clocks jumped them)."""
    if len(day_slots(day, tz)) >= SLOTS:
        return frozenset()
    return frozenset(range(SLOTS)) - {local_slot(t, tz)[1] % SLOTS for t in day_slots(day, tz)}


def day_start_utc(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def history_window(first_day: date, now: datetime, tz: ZoneInfo, weeks: int) -> tuple[date, date]:
    """[start, end) of the local days the forecast of `first_day` reads: whole days before
    both that day and today."""
    end = min(first_day, now.astimezone(tz).date())
    return end - timedelta(weeks=weeks), end


async def read_history(session: AsyncSession, *, start: date, end: date, tz: ZoneInfo) -> History:
    """The operator queue's calls between two local days, from its quarter-hour counters."""
    lo, hi = day_start_utc(start, tz), day_start_utc(end, tz)
    first = await session.scalar(
        select(func.min(Call.started_at)).where(Call.started_at >= lo, Call.started_at < hi)
    )
    history = History()
    if first is None:
        return history
    first_day = first.astimezone(tz).date()
    history.days = {start + timedelta(days=i) for i in range((end - start).days)}
    history.days = {d for d in history.days if d >= first_day}
    q = CallQuarterCounter
    stmt = select(
        q.quarter, q.calls, q.answered, q.talk_seconds, q.wait_seconds, q.abandoned
    ).where(q.branch == QUEUE, q.quarter >= quarter_of(lo), q.quarter < quarter_of(hi))
    for quarter, n, n_answered, talk, waited, abandoned in (await session.execute(stmt)).all():
        day, slot = local_slot(quarter_start(quarter), tz)
        history.add(day, slot, int(n), int(n_answered), float(talk))
        history.waited_seconds += float(waited)
        history.abandoned += int(abandoned)
    return history


def history_of(
    calls: Iterable[tuple[datetime, bool, int]], *, start: date, end: date, tz: ZoneInfo
) -> History:
    """The same History from (started_at, answered, talk seconds) of operator-queue calls
    held in memory (the backtest)."""
    history = History()
    first_day: date | None = None
    for at, answered, talk in calls:
        day, slot = local_slot(at, tz)
        if not start <= day < end:
            continue
        first_day = day if first_day is None else min(first_day, day)
        history.add(day, slot, 1, int(answered), talk if answered else 0)
    if first_day is not None:
        history.days = {
            start + timedelta(days=i)
            for i in range((end - start).days)
            if start + timedelta(days=i) >= first_day
        }
    return history


def trend_factor(history: History, end: date) -> float:
    days = sorted(history.days)
    if len(days) < 14:
        return 1.0
    totals: dict[date, int] = defaultdict(int)
    for (day, _), n in history.calls.items():
        totals[day] += n
    recent = sum(totals[d] for d in days if d >= end - timedelta(days=7))
    mean_week = sum(totals[d] for d in days) / len(days) * 7
    if mean_week <= 0:
        return 1.0
    lo, hi = TREND_LIMITS
    return min(hi, max(lo, recent / mean_week))


def forecast(
    history: History, days: Iterable[date], *, tz: ZoneInfo, end: date, wrap_seconds: float
) -> list[SlotForecast]:
    """Calls and handle time for every half-hour of `days` (48 each, 46 or 50 on the days
    a daylight-saving zone changes its clocks)."""
    trend = trend_factor(history, end)
    total_answered = sum(history.answered.values())
    overall = (sum(history.talk.values()) / total_answered if total_answered else DEFAULT_AHT) + (
        wrap_seconds if total_answered else 0
    )
    aht = [
        (history.talk.get(s, 0.0) + history.answered.get(s, 0) * wrap_seconds + K_PRIOR * overall)
        / (history.answered.get(s, 0) + K_PRIOR)
        for s in range(SLOTS)
    ]
    out = []
    # Under a week of history not every weekday has a day of its own: all days stand in.
    whole_week = len(history.days) >= 7
    # The wall-clock half-hours a history day really had: a spring-forward day skips some,
    # which had no calls for want of existing, not for being quiet (left out of the mean).
    skipped = {d: _skipped(d, tz) for d in history.days}
    for day in days:
        base_days = [d for d in history.days if not whole_week or d.weekday() == day.weekday()]
        for start in day_slots(day, tz):
            s = local_slot(start, tz)[1] % SLOTS
            had = [d for d in base_days if s not in skipped[d]]
            mean = sum(history.calls.get((d, s), 0) for d in had) / len(had) if had else 0.0
            out.append(SlotForecast(start, mean * trend, aht[s]))
    return out
