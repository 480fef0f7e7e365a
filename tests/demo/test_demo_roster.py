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


@pytest.mark.parametrize("hour", [3, 12])
async def test_the_demo_roster_covers_every_hour_of_the_week_from_monday_midnight(
    app, client, world, hour
) -> None:
    """Monday 00:00-06:00 belongs to the night shift begun on the Sunday before: the week's
    roster includes it, and the login is on the shift running when it is loaded (on a
    Monday at 03:00, that Sunday's night shift)."""
    from datetime import datetime, time

    from hotline.auth.service import create_user
    from hotline.demo.roster import LOGIN, seed_roster
    from tests.conftest import PASSWORD, SITE_TZ

    async with app.state.hotline.unit_of_work() as session:
        for name in (LOGIN, "dtv02", "dtv03", "dtv04", "dtv05", "dtv06", "dtv07"):
            await create_user(session, username=name, password=PASSWORD, role="operator")
    today = site_today()
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    now = datetime.combine(monday, time(hour), tzinfo=SITE_TZ)
    async with app.state.hotline.unit_of_work() as session:
        assert await seed_roster(session, now=now) > 0
    lead = world.auth("supervisor")
    r = await client.get(
        f"/api/v1/roster?from={monday - timedelta(days=1)}&to={monday + timedelta(days=6)}",
        headers=lead,
    )
    assert r.status_code == 200, r.text
    staffed = [
        (datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
        for s in r.json()["shifts"]
        if s["rostered"] >= 1
    ]
    start = datetime.combine(monday, time(0), tzinfo=SITE_TZ)
    holes = [
        start + timedelta(hours=h)
        for h in range(7 * 24)
        if not any(a <= start + timedelta(hours=h) < b for a, b in staffed)
    ]
    assert holes == []
    login = await client.post("/api/v1/auth/token", data={"username": LOGIN, "password": PASSWORD})
    mine = [
        (datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
        for s in (
            await client.get(
                f"/api/v1/roster?from={monday - timedelta(days=1)}&to={monday}",
                headers={"Authorization": f"Bearer {login.json()['access_token']}"},
            )
        ).json()["shifts"]
        if s["people"]
    ]
    assert any(a <= now < b for a, b in mine), mine
