"""Retiring a shift takes it off the days to come: its places on shifts not yet begun are
removed (the answer says how many), and the places worked on it, and the one being worked
now, stay in the roster (and so in the forecast's rostered people) as the record."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hotline.staffing.models import RosterEntry
from tests.staffing.test_roster_rules import _me, _running_shift

pytestmark = pytest.mark.anyio


def _body(shift: dict[str, Any], active: bool) -> dict[str, Any]:
    return {
        "code": shift["code"],
        "name": shift["name"],
        "starts_at": shift["starts_at"],
        "hours": shift["hours"],
        "operators": shift["operators"],
        "active": active,
    }


async def test_retiring_a_shift_removes_its_places_not_begun_and_keeps_the_rest(
    app, client, world
) -> None:
    operator = await _me(client, world, "operator")
    running_day, shift = await _running_shift(client, world)
    days = [running_day + timedelta(days=i) for i in (-1, 0, 1, 2)]
    async with app.state.hotline.unit_of_work() as session:
        for day in days:
            session.add(RosterEntry(day=day, shift_id=shift["id"], user_id=operator))
    sup = world.auth("supervisor")
    r = await client.put("/api/v1/shifts", json=_body(shift, False), headers=sup)
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False
    removed = r.json().get("places_removed")
    r = await client.get(f"/api/v1/roster?from={days[0]}&to={days[-1]}", headers=sup)
    assert r.status_code == 200, r.text
    kept = {
        s["day"]: [p["user_id"] for p in s["people"]]
        for s in r.json()["shifts"]
        if s["code"] == shift["code"]
    }
    # Yesterday's, worked, and the one running now stay; the days to come are gone.
    assert kept == {str(days[0]): [operator], str(days[1]): [operator]}
    assert removed == 2
    # Brought back, the shift is on the days to come again, empty.
    r = await client.put("/api/v1/shifts", json=_body(shift, True), headers=sup)
    assert r.status_code == 200 and r.json()["places_removed"] == 0, r.text
    r = await client.get(f"/api/v1/roster?from={days[2]}&to={days[3]}", headers=sup)
    later = [s for s in r.json()["shifts"] if s["code"] == shift["code"]]
    assert [s["people"] for s in later] == [[], []]
