"""A half-hour the clocks skipped on a spring-forward day in the history had no calls
because it did not exist: the forecast averages each half-hour over the days that had it,
not counting the skipped one as a quiet half-hour."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.calls.service import NewCall, record_call
from hotline.db import create_engine, make_sessionmaker
from hotline.settings import Settings
from hotline.site import Site
from hotline.staffing.planning import StaffingRules, staffing_forecast
from hotline.staffing.service import ensure_default_shifts
from tests.staffing.test_forecast_dst import SUPERVISOR

pytestmark = pytest.mark.anyio

NEW_YORK = ZoneInfo("America/New_York")
DAY = date(2026, 4, 5)  # a Sunday; 8 March 2026, a Sunday, lost 02:00-03:00


@pytest.fixture
async def new_york(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    settings = Settings(database_url=database_url, timezone="America/New_York")
    engine = create_engine(settings.effective_database_url)
    yield make_sessionmaker(engine, Site.from_settings(settings))
    await engine.dispose()


async def test_a_skipped_half_hour_is_not_averaged_as_a_quiet_one(
    new_york: async_sessionmaker[AsyncSession],
) -> None:
    async with new_york() as session, session.begin():
        await ensure_default_shifts(session)
        # One call in every real half-hour of the eight Sundays before.
        for week in range(1, 9):
            sunday = DAY - timedelta(weeks=week)
            first = datetime.combine(sunday, datetime.min.time(), tzinfo=NEW_YORK).astimezone(UTC)
            end = datetime.combine(
                sunday + timedelta(days=1), datetime.min.time(), tzinfo=NEW_YORK
            ).astimezone(UTC)
            at = first + timedelta(minutes=5)
            while at < end:
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
                at += timedelta(minutes=30)
    async with new_york() as session:
        got = await staffing_forecast(
            session,
            actor=SUPERVISOR,
            first_day=DAY,
            rules=StaffingRules(),
            now=datetime.combine(DAY - timedelta(days=1), datetime.min.time(), tzinfo=UTC),
        )
    calls = {s.start.strftime("%H:%M"): s.calls for s in got.slots}
    assert calls["01:30"] > 0
    # 02:00 and 02:30 had a call on each of the seven Sundays that had them.
    assert calls["02:00"] == pytest.approx(calls["01:30"])
    assert calls["02:30"] == pytest.approx(calls["03:00"])
