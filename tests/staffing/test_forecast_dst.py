"""A site whose time zone keeps daylight-saving time has days of 23 and 25 hours: the
forecast gives such a day 46 or 50 half-hours, each a real half-hour from local midnight to
the next, and the people on a night shift are counted in every one of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.auth.models import Role
from hotline.auth.service import Actor, create_user
from hotline.calls.service import NewCall, record_call
from hotline.db import create_engine, make_sessionmaker
from hotline.settings import Settings
from hotline.site import Site
from hotline.staffing.models import RosterEntry, ShiftTemplate
from hotline.staffing.planning import StaffingRules, staffing_forecast
from hotline.staffing.service import ensure_default_shifts

pytestmark = pytest.mark.anyio

SUPERVISOR = Actor(user_id=None, username="truongca", role=Role.SUPERVISOR)
BERLIN = ZoneInfo("Europe/Berlin")
BERLIN_SPRING = date(2026, 3, 29)  # 02:00 becomes 03:00: 23 hours
BERLIN_AUTUMN = date(2026, 10, 25)  # 03:00 becomes 02:00 again: 25 hours


@pytest.fixture
async def berlin(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    settings = Settings(database_url=database_url, timezone="Europe/Berlin")
    engine = create_engine(settings.effective_database_url)
    yield make_sessionmaker(engine, Site.from_settings(settings))
    await engine.dispose()


@pytest.mark.parametrize(
    ("day", "slots"), [(BERLIN_SPRING, 46), (BERLIN_AUTUMN, 50), (date(2026, 10, 26), 48)]
)
async def test_a_day_with_a_clock_change_has_46_or_50_half_hours(
    berlin: async_sessionmaker[AsyncSession], day: date, slots: int
) -> None:
    async with berlin() as session, session.begin():
        await ensure_default_shifts(session)
        night = await session.scalar(select(ShiftTemplate).where(ShiftTemplate.code == "dem"))
        assert night is not None
        user = await create_user(
            session, username="dem01", password="mat-khau-an-toan-1022", role="operator"
        )
        # On the night shift begun the evening before, 22:00 to 06:00 (site time).
        session.add(RosterEntry(day=day - timedelta(days=1), shift_id=night.id, user_id=user.id))
        # History: calls every half-hour of the four weeks before, 1:00 to 4:00 at night too.
        for week in range(1, 5):
            first = datetime.combine(
                day - timedelta(weeks=week), datetime.min.time(), tzinfo=BERLIN
            ).astimezone(UTC)
            for half in range(0, 48):
                at = first + timedelta(minutes=30 * half + 5)
                await record_call(
                    session,
                    data=NewCall(
                        line="1022",
                        caller="",
                        started_at=at,
                        answered_at=at + timedelta(seconds=10),
                        ended_at=at + timedelta(seconds=190),
                        branch="operator",
                        queue_wait_seconds=10,
                        talk_seconds=180,
                        outcome="answered",
                    ),
                )
    async with berlin() as session:
        got = await staffing_forecast(
            session,
            actor=SUPERVISOR,
            first_day=day,
            rules=StaffingRules(),
            now=datetime.combine(day - timedelta(days=1), datetime.min.time(), tzinfo=UTC),
        )
    starts = [s.start.astimezone(UTC) for s in got.slots]
    assert len(starts) == slots
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=got.slots[0].start.tzinfo)
    assert starts[0] == midnight.astimezone(UTC)
    assert all(b - a == timedelta(minutes=30) for a, b in pairwise(starts))
    next_midnight = datetime.combine(
        day + timedelta(days=1), datetime.min.time(), tzinfo=midnight.tzinfo
    )
    assert starts[-1] + timedelta(minutes=30) == next_midnight.astimezone(UTC)
    # Local times as the site reads them, with the offset of each half-hour.
    local = [s.start.strftime("%H:%M%z") for s in got.slots]
    assert len(set(local)) == slots
    # The night shift's person is counted in each half-hour until 06:00, none after.
    end = datetime.combine(day, datetime.min.time().replace(hour=6), tzinfo=midnight.tzinfo)
    assert [s.agents_rostered for s in got.slots] == [
        1 if a < end.astimezone(UTC) else 0 for a in starts
    ]
    assert all(s.calls > 0 for s in got.slots)
