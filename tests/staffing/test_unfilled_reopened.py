"""The unfilled-shift alert follows the hole: a running shift with a hole is announced,
and a hole that opens again after being filled is announced again — once per opening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.staffing.jobs import alert_unfilled
from tests.staffing.test_roster_rules import _me, _running_shift

pytestmark = pytest.mark.anyio


async def test_a_running_shifts_hole_is_announced_each_time_it_opens(app, client, world) -> None:
    state = app.state.hotline
    sup = world.auth("supervisor")
    day, shift = await _running_shift(client, world)
    body = {k: shift[k] for k in ("code", "name", "starts_at", "hours")}
    r = await client.put("/api/v1/shifts", json={**body, "operators": 1}, headers=sup)
    assert r.status_code == 200, r.text
    now = datetime.now(UTC)

    async def sweep() -> int:
        async with state.unit_of_work() as session:
            return await alert_unfilled(session, ahead=timedelta(minutes=1), now=now)

    # Only the running shift is in reach (none starts within the minute): it is empty.
    assert await sweep() == 1
    assert await sweep() == 0
    operator = await _me(client, world, "operator")
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": shift["id"], "user_id": operator},
        headers=sup,
    )
    assert r.status_code == 201, r.text
    assert await sweep() == 0  # filled
    r = await client.delete(f"/api/v1/roster/{r.json()['id']}", headers=sup)
    assert r.status_code == 204, r.text
    assert await sweep() == 1  # open again
    assert await sweep() == 0
