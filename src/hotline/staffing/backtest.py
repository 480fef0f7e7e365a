"""Backtest: forecast the last weeks of a call history from the weeks before, and measure
the error against what happened (`hotline staffing backtest`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hotline.staffing.forecast import forecast, history_of, local_slot

# (started_at, answered, talk seconds) of one operator-queue call.
CallFact = tuple[datetime, bool, int]


@dataclass(frozen=True)
class Backtest:
    history_days: int
    test_first: date
    test_last: date
    calls_actual: int
    calls_forecast: float
    mape_half_hour: float  # over the half-hours with at least `min_calls` calls
    half_hours: int
    mape_hour: float
    mape_day: float
    wape_half_hour: float  # sum |error| / sum actual


def _mape(pairs: Sequence[tuple[float, float]]) -> float:
    return sum(abs(f - a) / a for a, f in pairs) / len(pairs) if pairs else 0.0


def backtest(
    calls: Sequence[CallFact],
    *,
    first: date,
    last: date,
    test_days: int,
    tz: ZoneInfo,
    weeks: int = 8,
    min_calls: int = 5,
) -> Backtest:
    """Forecast [last - test_days + 1, last] from the days before it (at most `weeks`
    weeks), as a supervisor would have on the eve of the first test day."""
    test_first = last - timedelta(days=test_days - 1)
    start = max(first, test_first - timedelta(weeks=weeks))
    history = history_of(calls, start=start, end=test_first, tz=tz)
    days = [test_first + timedelta(days=i) for i in range(test_days)]
    predicted = forecast(history, days, tz=tz, end=test_first, wrap_seconds=0)
    actual: dict[tuple[date, int], int] = {}
    for at, _, _ in calls:
        key = local_slot(at, tz)
        if test_first <= key[0] <= last:
            actual[key] = actual.get(key, 0) + 1
    halves: list[tuple[float, float]] = []
    hours: dict[tuple[date, int], tuple[float, float]] = {}
    by_day: dict[date, tuple[float, float]] = {}
    abs_err = total = 0.0
    for p in predicted:
        key = local_slot(p.start, tz)
        a = actual.get(key, 0)
        abs_err += abs(p.calls - a)
        total += a
        if a >= min_calls:
            halves.append((float(a), p.calls))
        hour = (key[0], key[1] // 2)
        ha, hf = hours.get(hour, (0.0, 0.0))
        hours[hour] = (ha + a, hf + p.calls)
        da, df = by_day.get(key[0], (0.0, 0.0))
        by_day[key[0]] = (da + a, df + p.calls)
    return Backtest(
        history_days=len(history.days),
        test_first=test_first,
        test_last=last,
        calls_actual=int(total),
        calls_forecast=sum(p.calls for p in predicted),
        mape_half_hour=_mape(halves),
        half_hours=len(halves),
        mape_hour=_mape([v for v in hours.values() if v[0] >= min_calls]),
        mape_day=_mape([v for v in by_day.values() if v[0] > 0]),
        wape_half_hour=abs_err / total if total else 0.0,
    )
