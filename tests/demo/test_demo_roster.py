"""After `make run` loads the demo, the staffing page has a roster: this week's shifts have
the demo's operators on them, and the demo operator login is on the shift running now (so
clocking in works on day one)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

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
