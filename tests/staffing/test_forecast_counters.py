"""The forecast reads the operator queue's quarter-hour counters, kept as call records are
written: it answers exactly what the call records themselves say, in the site's local time
(whole-hour, quarter-hour and daylight-saving zones), whatever the calls' instants, and a
record written again is counted once."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.auth.models import Role
from hotline.auth.service import Actor
from hotline.calls.line_records import write_line_call
from hotline.calls.models import Call, CallDirection
from hotline.calls.service import NewCall, open_call, record_call
from hotline.db import create_engine, make_sessionmaker
from hotline.reports.rebuild import rebuild_counters
from hotline.settings import Settings
from hotline.site import Site, site_of
from hotline.staffing.forecast import History, forecast, history_window, read_history
from hotline.staffing.planning import StaffingRules, staffing_forecast

pytestmark = pytest.mark.anyio

SUPERVISOR = Actor(user_id=None, username="truongca", role=Role.SUPERVISOR)
NOW = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
FIRST_DAY = date(2026, 11, 21)
RULES = StaffingRules()
# Whole hours; a quarter-hour offset (+05:45); half an hour with daylight saving, which
# ends on 1 November 2026, inside the window.
ZONES = ("Asia/Ho_Chi_Minh", "Asia/Kathmandu", "America/St_Johns")


@pytest.fixture
async def site_sessions(
    database_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    settings = Settings(database_url=database_url, timezone=request.param)
    engine = create_engine(settings.effective_database_url)
    yield make_sessionmaker(engine, Site.from_settings(settings))
    await engine.dispose()


def _instants(rng: random.Random, tz: ZoneInfo, first: date, days: int) -> list[datetime]:
    """Call starts on the local half-hours' edges (the first instant of one, the last of
    the one before, midnight) and anywhere between."""
    out = []
    for _ in range(700):
        day = first + timedelta(days=rng.randrange(days))
        slot = rng.randrange(48)
        start = datetime.combine(day, time(slot // 2, 30 * (slot % 2)), tzinfo=tz)
        edge = rng.choice(
            [
                timedelta(0),
                -timedelta(microseconds=1),
                timedelta(minutes=15),
                timedelta(minutes=30) - timedelta(microseconds=1),
                timedelta(seconds=rng.randrange(1800), microseconds=rng.randrange(10**6)),
            ]
        )
        out.append((start + edge).astimezone(UTC))
    return out


def _call(rng: random.Random, at: datetime) -> NewCall:
    branch = rng.choices(["operator", "115", None], [8, 1, 1])[0]
    outcome = rng.choices(
        ["answered", "abandoned_queue", "callback_requested", "outside_hours", "voicemail"],
        [10, 4, 1, 1, 1],
    )[0]
    wait = rng.randrange(0, 300)
    answered = outcome == "answered"
    talk = rng.randrange(30, 900) if answered else 0
    return NewCall(
        line="1022",
        caller="",
        started_at=at,
        answered_at=at + timedelta(seconds=wait) if answered else None,
        ended_at=at + timedelta(seconds=wait + talk + 1),
        menu_path="4",
        branch=branch,
        queue_wait_seconds=wait,
        talk_seconds=talk,
        outcome=outcome,
        # The callbacks the line dials are not calls offered to the queue.
        direction="outbound" if rng.random() < 0.05 else "inbound",
    )


async def _record(
    sessions: async_sessionmaker[AsyncSession], rng: random.Random, data: NewCall
) -> None:
    """Write a call as the line and the API do: once, from the line's spool (sometimes
    twice: a replay), or opened when answered and finished when it ends (sometimes not yet
    finished: still in progress)."""
    how = rng.choices(["api", "line", "replayed", "opened", "in_progress"], [5, 2, 2, 2, 1])[0]
    if how == "api":
        async with sessions() as session, session.begin():
            await record_call(session, data=data)
        return
    data = replace(data, record_key=uuid.uuid4().hex)
    if how in ("opened", "in_progress") and data.answered_at is not None:
        async with sessions() as session, session.begin():
            await open_call(session, data=replace(data, ended_at=None))
        if how == "in_progress":
            return
    for _ in range(2 if how in ("replayed", "opened") else 1):
        async with sessions() as session, session.begin():
            await write_line_call(session, data=data)


def _local_slot(at: datetime, tz: ZoneInfo) -> tuple[date, int]:
    local = at.astimezone(tz)
    # The second pass through an hour the clocks were set back over is a half-hour of its own.
    return local.date(), local.hour * 2 + local.minute // 30 + (48 if local.fold else 0)


async def _from_records(session: AsyncSession, start: date, end: date, tz: ZoneInfo) -> History:
    """The history straight from the call records, call by call in local time: the operator
    queue's finished calls to the line, those outside hours left out."""
    history = History()
    calls = (await session.scalars(select(Call))).all()
    days = [c.started_at.astimezone(tz).date() for c in calls]
    in_window = [d for d in days if start <= d < end]
    if not in_window:
        return history
    first = min(in_window)
    history.days = {start + timedelta(days=i) for i in range((end - start).days)}
    history.days = {d for d in history.days if d >= first}
    for c in calls:
        day, slot = _local_slot(c.started_at, tz)
        counted = (
            c.branch == "operator"
            and c.direction is CallDirection.INBOUND
            and (c.outcome is None or c.outcome.value != "outside_hours")
            and (c.ended_at is not None or c.answered_at is None)
        )
        if not counted or not start <= day < end:
            continue
        answered = c.answered_at is not None
        history.add(day, slot, 1, int(answered), c.talk_seconds if answered else 0)
        history.waited_seconds += c.queue_wait_seconds
        history.abandoned += int(c.outcome is not None and c.outcome.value == "abandoned_queue")
    return history


def _same(a: History, b: History) -> None:
    assert a.days == b.days
    assert {k: v for k, v in a.calls.items() if v} == {k: v for k, v in b.calls.items() if v}
    assert {k: v for k, v in a.answered.items() if v} == {k: v for k, v in b.answered.items() if v}
    assert {k: v for k, v in a.talk.items() if v} == pytest.approx(
        {k: v for k, v in b.talk.items() if v}
    )
    assert (a.waited_seconds, a.abandoned) == (b.waited_seconds, b.abandoned)


@pytest.mark.parametrize("site_sessions", ZONES, indirect=True)
async def test_the_forecast_from_the_counters_is_the_forecast_from_the_call_records(
    site_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sessions = site_sessions
    async with sessions() as session:
        tz = site_of(session).timezone
    rng = random.Random(f"forecast-{tz.key}")
    start, end = history_window(FIRST_DAY, NOW, tz, RULES.weeks)
    # A day either side of the window too: its edges must hold.
    for at in _instants(rng, tz, start - timedelta(days=1), (end - start).days + 2):
        await _record(sessions, rng, _call(rng, at))

    async with sessions() as session, session.begin():
        expected = await _from_records(session, start, end, tz)
        assert expected.abandoned >= 30  # callers' patience is known: Erlang A
        _same(await read_history(session, start=start, end=end, tz=tz), expected)
        got = await staffing_forecast(
            session, actor=SUPERVISOR, first_day=FIRST_DAY, rules=RULES, days=7, now=NOW
        )
    days = [FIRST_DAY + timedelta(days=i) for i in range(7)]
    want = forecast(expected, days, tz=tz, end=end, wrap_seconds=RULES.wrap_seconds)
    assert got.history is not None and got.history.days == len(expected.days)
    assert got.patience_seconds == pytest.approx(expected.patience_seconds)
    assert [s.start for s in got.slots] == [s.start for s in want]
    assert [s.calls for s in got.slots] == pytest.approx([s.calls for s in want])
    assert [s.aht_seconds for s in got.slots] == pytest.approx([s.aht_seconds for s in want])
    assert sum(s.calls for s in got.slots) > 0

    # Counters rebuilt from the records (after a bulk load) say the same.
    async with sessions() as session, session.begin():
        await rebuild_counters(session)
    async with sessions() as session:
        _same(await read_history(session, start=start, end=end, tz=tz), expected)


@pytest.mark.parametrize("site_sessions", ZONES[:1], indirect=True)
async def test_a_call_record_written_again_is_counted_once(
    site_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sessions = site_sessions
    at = datetime(2026, 11, 19, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
    answered: dict[str, Any] = {
        "answered_at": at + timedelta(seconds=8),
        "queue_wait_seconds": 8,
        "talk_seconds": 200,
        "outcome": "answered",
    }
    spooled = NewCall(
        line="1022",
        caller="",
        started_at=at,
        ended_at=at + timedelta(seconds=208),
        branch="operator",
        record_key=uuid.uuid4().hex,
        **answered,
    )
    opened = replace(spooled, record_key=uuid.uuid4().hex)
    async with sessions() as session, session.begin():
        await open_call(session, data=replace(opened, ended_at=None))
    # The line writes each record when the call ends, and again from its spool after an
    # outage or a crash before the spool's clean-up.
    for data in (spooled, spooled, opened, opened, spooled):
        async with sessions() as session, session.begin():
            await write_line_call(session, data=data)
    async with sessions() as session:
        tz = site_of(session).timezone
        history = await read_history(session, start=date(2026, 11, 19), end=FIRST_DAY, tz=tz)
    assert history.calls == {(date(2026, 11, 19), 18): 2}
    assert (history.answered, history.talk) == ({18: 2}, {18: 400.0})
    assert history.waited_seconds == 16
