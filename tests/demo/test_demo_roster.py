"""After `make run` loads the demo, the staffing page has a roster: this week's shifts have
the demo's operators on them, and the demo operator login is on the shift running now (so
clocking in works on day one); a demo loaded in an earlier week gets this week's roster
when `hotline run` starts again."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from hotline.demo.load import refresh_roster
from hotline.staffing.models import RosterEntry
from tests.conftest import site_today
from tests.demo.test_demo_logins import _load, _login

pytestmark = pytest.mark.anyio


async def test_the_demo_has_a_roster_for_this_week(settings, client) -> None:
    await asyncio.to_thread(_load, settings, "recent")
    lead = await _login(client, "truongca")
    today = site_today()
    monday = today - timedelta(days=today.weekday())
    r = await client.get(
        f"/api/v1/roster?from={monday}&to={monday + timedelta(days=6)}", headers=lead
    )
    assert r.status_code == 200, r.text
    shifts = r.json()["shifts"]
    assert len(shifts) == 21  # 3 shifts a day, 7 days
    assert all(s["rostered"] >= 1 for s in shifts), [s["rostered"] for s in shifts]
    operator = await _login(client, "dtv01")
    r = await client.post("/api/v1/shifts/clock/in", headers=operator)
    assert r.status_code == 200, r.text
    assert r.json()["override_by"] is None


async def _this_week(client: Any, lead: dict[str, str]) -> list[dict[str, Any]]:
    today = site_today()
    monday = today - timedelta(days=today.weekday())
    r = await client.get(
        f"/api/v1/roster?from={monday}&to={monday + timedelta(days=6)}", headers=lead
    )
    assert r.status_code == 200, r.text
    return list(r.json()["shifts"])


async def test_a_demo_loaded_in_an_earlier_week_gets_this_weeks_roster_on_start(
    app, settings, client
) -> None:
    await asyncio.to_thread(_load, settings, "recent")
    # As if the demo had been loaded three weeks ago: its roster is that week's.
    async with app.state.hotline.unit_of_work() as session:
        for entry in (await session.scalars(select(RosterEntry))).all():
            entry.day -= timedelta(days=21)
    lead = await _login(client, "truongca")
    assert all(s["rostered"] == 0 for s in await _this_week(client, lead))

    assert await refresh_roster(settings) > 0  # what `hotline run` does at each start

    shifts = await _this_week(client, lead)
    assert all(s["rostered"] >= 1 for s in shifts), [s["rostered"] for s in shifts]
    r = await client.post("/api/v1/shifts/clock/in", headers=await _login(client, "dtv01"))
    assert r.status_code == 200, r.text
    # Started again the same week: nothing more.
    assert await refresh_roster(settings) == 0


async def test_a_database_without_the_demo_gets_no_demo_roster(app, settings, world) -> None:
    assert await refresh_roster(settings) == 0
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        assert await session.scalar(select(func.count()).select_from(RosterEntry)) == 0
