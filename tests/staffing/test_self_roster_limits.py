"""An operator putting themselves on the roster: only within the planning horizon
(HOTLINE_STAFFING_SELF_ROSTER_WEEKS, 4 weeks by default), never onto a shift within 12
hours of another place of theirs (two shifts of one day, or back to back), and they may
take back a place of their own that has not begun. A supervisor's roster is not bound by
these (they plan further ahead, and cover a hole with a double shift when they must)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import site_today
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me, _running_shift

pytestmark = pytest.mark.anyio


async def _put(client: Any, world: Any, who: str, day: Any, shift: dict, user: int) -> Any:
    return await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": shift["id"], "user_id": user},
        headers=world.auth(who),
    )


async def test_an_operator_rosters_themselves_only_within_the_horizon(client, world) -> None:
    operator = await _me(client, world, "operator")
    morning = await _shift(client, world, "sang")
    last = site_today() + timedelta(weeks=4)
    r = await _put(client, world, "operator", last + timedelta(days=1), morning, operator)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "day"
    assert "4 tuần tới" in r.json()["detail"]
    r = await _put(client, world, "operator", last, morning, operator)
    assert r.status_code == 201, r.text
    # A supervisor plans further ahead.
    r = await _put(client, world, "supervisor", last + timedelta(days=7), morning, operator)
    assert r.status_code == 201, r.text


async def test_an_operator_takes_no_second_shift_within_twelve_hours(client, world) -> None:
    operator = await _me(client, world, "operator")
    morning, evening, night = [await _shift(client, world, c) for c in ("sang", "chieu", "dem")]
    day = site_today() + timedelta(days=2)
    assert (await _put(client, world, "operator", day, morning, operator)).status_code == 201
    # The afternoon starts as the morning ends; the night 8 hours after it; the night
    # before ends as the morning starts.
    for shift, when in ((evening, day), (night, day), (night, day - timedelta(days=1))):
        r = await _put(client, world, "operator", when, shift, operator)
        assert r.status_code == 422, (shift["code"], when, r.text)
        assert r.json()["field"] == "shift_id"
        assert "12 giờ" in r.json()["detail"]
    # The next day's morning, 16 hours after, is taken.
    r = await _put(client, world, "operator", day + timedelta(days=1), morning, operator)
    assert r.status_code == 201, r.text
    # A supervisor may still give them a double shift.
    r = await _put(client, world, "supervisor", day, evening, operator)
    assert r.status_code == 201, r.text


async def test_an_operator_takes_back_their_own_place_not_yet_begun(client, world) -> None:
    operator = await _me(client, world, "operator")
    supervisor = await _me(client, world, "supervisor")
    morning = await _shift(client, world, "sang")
    day = site_today() + timedelta(days=3)
    own = (await _put(client, world, "operator", day, morning, operator)).json()["id"]
    other = (await _put(client, world, "supervisor", day, morning, supervisor)).json()["id"]
    op = world.auth("operator")
    r = await client.delete(f"/api/v1/roster/{other}", headers=op)
    assert r.status_code == 403, r.text
    r = await client.delete(f"/api/v1/roster/{own}", headers=op)
    assert r.status_code == 204, r.text
    r = await client.get(
        "/api/v1/roster",
        params={"from": str(day), "to": str(day)},
        headers=world.auth("supervisor"),
    )
    people = [p["user_id"] for s in r.json()["shifts"] for p in s["people"]]
    assert people == [supervisor]
    # A place on a shift already running is the supervisor's to take off.
    running_day, running = await _running_shift(client, world)
    begun = (await _put(client, world, "supervisor", running_day, running, operator)).json()["id"]
    r = await client.delete(f"/api/v1/roster/{begun}", headers=op)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "entry_id"
