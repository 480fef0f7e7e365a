"""Retiring a shift changes the days to come: the places worked on it, and today's, stay
in the roster (and so in the forecast's rostered people)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.staffing.models import RosterEntry
from tests.conftest import site_today
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me

pytestmark = pytest.mark.anyio


async def test_a_retired_shift_keeps_its_past_and_todays_places(app, client, world) -> None:
    operator = await _me(client, world, "operator")
    night = await _shift(client, world, "dem")
    today = site_today()
    days = [today - timedelta(days=1), today, today + timedelta(days=1)]
    async with app.state.hotline.unit_of_work() as session:
        for day in days:
            session.add(RosterEntry(day=day, shift_id=night["id"], user_id=operator))
    r = await client.put(
        "/api/v1/shifts",
        json={
            "code": "dem",
            "name": night["name"],
            "starts_at": night["starts_at"],
            "hours": night["hours"],
            "operators": night["operators"],
            "active": False,
        },
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    r = await client.get(
        f"/api/v1/roster?from={days[0]}&to={days[-1]}", headers=world.auth("supervisor")
    )
    assert r.status_code == 200, r.text
    nights = {
        s["day"]: [p["user_id"] for p in s["people"]]
        for s in r.json()["shifts"]
        if s["code"] == "dem"
    }
    assert nights == {str(days[0]): [operator], str(today): [operator]}
