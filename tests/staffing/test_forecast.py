"""The staffing forecast: a synthetic history with a known weekly pattern is recovered,
Erlang C staffs it, the roster is set against it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import insert

from hotline.calls.models import Call
from hotline.reports.rebuild import rebuild_counters
from hotline.staffing.erlang import agents_needed
from hotline.staffing.erlang_a import agents_needed_a
from hotline.staffing.forecast import MIN_ABANDONED, History, forecast
from tests.conftest import SITE_TZ, site_today

pytestmark = pytest.mark.anyio

TALK = 240
WRAP = 30  # HOTLINE_STAFFING_WRAP_SECONDS' default


def pattern(day: date, slot: int) -> int:
    """Calls in the operator queue: 08:00-20:00 only, more late in the week."""
    return day.weekday() + 1 if 16 <= slot < 40 else 0


def _rows(first: date, days: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(days):
        day = first + timedelta(days=i)
        for slot in range(48):
            start = datetime.combine(day, time(slot // 2, 30 * (slot % 2)), tzinfo=SITE_TZ)
            for k in range(pattern(day, slot)):
                at = (start + timedelta(minutes=3 * k, seconds=7)).astimezone(UTC)
                rows.append(
                    {
                        "line": "1022",
                        "caller": "",
                        "started_at": at,
                        "answered_at": at + timedelta(seconds=10),
                        "ended_at": at + timedelta(seconds=10 + TALK),
                        "menu_path": "4",
                        "branch": "operator",
                        "queue_wait_seconds": 10,
                        "talk_seconds": TALK,
                        "outcome": "answered",
                    }
                )
                # Calls that never reach an operator do not count.
                if k == 0:
                    rows.append({**rows[-1], "branch": "115", "outcome": "transferred_115"})
    return rows


async def _history(app: Any, first: date, days: int) -> None:
    """Calls loaded in bulk, as the demo and imports load them (counters rebuilt after)."""
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(insert(Call), _rows(first, days))
        await rebuild_counters(session)


async def test_the_forecast_recovers_a_weekly_pattern_and_staffs_it(app, client, world) -> None:
    today = site_today()
    await _history(app, today - timedelta(days=21), 21)
    target = today + timedelta(days=1)
    r = await client.get(
        f"/api/v1/staffing/forecast?date={target}", headers=world.auth("supervisor")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["service_level"] == {"target": 0.8, "seconds": 20}
    # Nobody hung up in the queue: callers' patience is unknown, Erlang C it is.
    assert (body["model"], body["patience_seconds"]) == ("erlang_c", None)
    slots = body["slots"]
    assert len(slots) == 48
    assert set(slots[0]) == {
        "start",
        "calls",
        "aht_seconds",
        "agents_needed",
        "agents_rostered",
        "gap",
    }
    starts = [datetime.fromisoformat(s["start"]) for s in slots]
    assert starts[0] == datetime.combine(target, time(0), tzinfo=SITE_TZ)
    assert all(b - a == timedelta(minutes=30) for a, b in pairwise(starts))
    for i, s in enumerate(slots):
        assert s["calls"] == pattern(target, i), (i, s)
        assert s["aht_seconds"] == TALK + WRAP
        assert s["agents_needed"] == agents_needed(pattern(target, i), TALK + WRAP).agents
    busy = slots[20]
    assert busy["agents_needed"] > 0
    # The default roster has nobody on it: every needed agent is missing.
    assert busy["agents_rostered"] == 0 and busy["gap"] == busy["agents_needed"]

    tripled = (
        await client.get(
            f"/api/v1/staffing/forecast?date={target}&scale=3", headers=world.auth("supervisor")
        )
    ).json()["slots"]
    assert tripled[20]["calls"] == 3 * pattern(target, 20)
    assert tripled[20]["agents_needed"] > busy["agents_needed"]


async def test_with_enough_abandoned_calls_erlang_a_staffs_with_the_callers_patience(
    app, client, world
) -> None:
    today = site_today()
    rows = _rows(today - timedelta(days=14), 14)
    queued = [r for r in rows if r["branch"] == "operator"]
    # Every fourth queued caller hung up after 75 s instead of being answered after 10 s.
    for r in queued[::4]:
        r.update(answered_at=None, talk_seconds=0, queue_wait_seconds=75, outcome="abandoned_queue")
    abandoned = len(queued[::4])
    assert abandoned >= 30
    patience = sum(r["queue_wait_seconds"] for r in queued) / abandoned
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(insert(Call), rows)
        await rebuild_counters(session)
    target = today + timedelta(days=1)
    body = (
        await client.get(
            f"/api/v1/staffing/forecast?date={target}", headers=world.auth("supervisor")
        )
    ).json()
    assert body["model"] == "erlang_a"
    assert body["patience_seconds"] == pytest.approx(patience, abs=0.05)
    busy = [s for s in body["slots"] if s["calls"] > 0]
    assert busy
    for s in busy:
        assert s["agents_needed"] == agents_needed_a(s["calls"], s["aht_seconds"], patience).agents


def test_patience_is_trusted_from_enough_abandoned_calls() -> None:
    history = History(waited_seconds=9000.0, abandoned=MIN_ABANDONED - 1)
    assert history.patience_seconds is None
    history.abandoned = MIN_ABANDONED
    assert history.patience_seconds == 9000.0 / MIN_ABANDONED


async def test_rostered_people_close_the_gap(app, client, world) -> None:
    target = site_today() + timedelta(days=2)
    shifts = (await client.get("/api/v1/shifts", headers=world.auth("operator"))).json()
    assert [(s["code"], s["starts_at"], s["hours"], s["operators"]) for s in shifts] == [
        ("sang", "06:00:00+07:00", 8, 6),
        ("chieu", "14:00:00+07:00", 8, 6),
        ("dem", "22:00:00+07:00", 8, 6),
    ]
    night = next(s for s in shifts if s["code"] == "dem")
    morning = next(s for s in shifts if s["code"] == "sang")
    sup = world.auth("supervisor")
    users = (await client.get("/api/v1/agents", headers=sup)).json()
    operator = next(u["user_id"] for u in users if u["username"] == "operator")
    supervisor = next(u["user_id"] for u in users if u["username"] == "supervisor")
    # Last night's shift runs into the forecast day until 06:00.
    for day, shift, user in (
        (target - timedelta(days=1), night, operator),
        (target, morning, operator),
        (target, morning, supervisor),
    ):
        r = await client.post(
            "/api/v1/roster",
            json={"day": str(day), "shift_id": shift["id"], "user_id": user},
            headers=sup,
        )
        assert r.status_code == 201, r.text
    slots = (await client.get(f"/api/v1/staffing/forecast?date={target}", headers=sup)).json()[
        "slots"
    ]
    rostered = [s["agents_rostered"] for s in slots]
    assert rostered == [1] * 12 + [2] * 16 + [0] * 20
    assert all(s["gap"] == s["agents_needed"] - s["agents_rostered"] for s in slots)


async def test_only_supervisors_read_the_forecast_and_bad_input_is_named(client, world) -> None:
    day = site_today()
    r = await client.get(f"/api/v1/staffing/forecast?date={day}", headers=world.auth("operator"))
    assert r.status_code == 403
    r = await client.get(
        f"/api/v1/staffing/forecast?date={day}&scale=5", headers=world.auth("supervisor")
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "scale" in r.text


async def test_the_recent_trend_scales_the_weekly_shape() -> None:
    """Three weeks of the same shape, the last one twice as busy: the shape is the mean of
    the three same weekdays, the trend is the last week over the mean week (2 / (4/3))."""
    end = date(2026, 3, 2)  # a Monday
    history = History()
    for i in range(21):
        day = end - timedelta(days=21 - i)
        history.days.add(day)
        factor = 2 if i >= 14 else 1
        history.add(day, 20, 10 * factor, 10 * factor, 10 * factor * 200.0)
    [slot] = [s for s in forecast(history, [end], tz=SITE_TZ, end=end, wrap_seconds=0) if s.calls]
    mean = (10 + 10 + 20) / 3
    assert abs(slot.calls - mean * 1.5) < 1e-9
    assert slot.start == datetime.combine(end, time(10), tzinfo=SITE_TZ)
    assert abs(slot.aht_seconds - 200.0) < 1e-9
