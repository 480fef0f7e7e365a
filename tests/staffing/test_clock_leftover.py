"""A clock row left open once its leave is over lets nobody back in: ending the leave
clocks its person out (away on the line) when they are off the roster, and a clock-in over
a row whose leave ran out asks what a first clock-in asks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from hotline.db import utcnow
from hotline.staffing.models import RingOverride
from tests.staffing.test_roster_rules import _me

pytestmark = pytest.mark.anyio


async def _leave(client, world, user_id: int, minutes: int) -> None:
    r = await client.put(
        "/api/v1/roster/off-shift",
        json={"user_id": user_id, "minutes": minutes, "reason": "Thiếu người"},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text


async def _status(client, world) -> str:
    r = await client.get("/api/v1/agents/me", headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    return str(r.json()["status"])


async def test_ending_the_leave_clocks_its_person_out(client, world) -> None:
    op = world.auth("operator")
    operator = await _me(client, world, "operator")
    await _leave(client, world, operator, 60)
    r = await client.post("/api/v1/shifts/clock/in", headers=op)
    assert r.status_code == 200, r.text
    await _leave(client, world, operator, 0)
    assert await _status(client, world) == "away"
    r = await client.put("/api/v1/agents/me/status", json={"status": "away"}, headers=op)
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/shifts/clock/in", headers=op)
    assert r.status_code == 409 and r.json()["field"] == "clock", r.text
    r = await client.post("/api/v1/shifts/clock/out", headers=op)
    assert r.status_code == 409 and r.json()["field"] == "clock", r.text


async def test_a_row_whose_leave_ran_out_lets_nobody_back_in(app, client, world) -> None:
    op = world.auth("operator")
    operator = await _me(client, world, "operator")
    await _leave(client, world, operator, 60)
    first = await client.post("/api/v1/shifts/clock/in", headers=op)
    assert first.status_code == 200, first.text
    async with app.state.hotline.unit_of_work() as session:  # the hour passes
        await session.execute(
            update(RingOverride)
            .where(RingOverride.user_id == operator)
            .values(until=utcnow() - timedelta(minutes=1))
        )
    r = await client.post("/api/v1/shifts/clock/in", headers=op)
    assert r.status_code == 409 and r.json()["field"] == "clock", r.text
    # A new leave lets them in again.
    await _leave(client, world, operator, 30)
    r = await client.post("/api/v1/shifts/clock/in", headers=op)
    assert r.status_code == 200, r.text
