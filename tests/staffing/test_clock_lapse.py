"""A clock-in counts for the queue only while its reason holds: a place on a shift running
now (or starting within the tolerance) or a supervisor's live off-shift leave, for an
active call taker; a supervisor may clock someone out."""

from __future__ import annotations

import pytest

from hotline.db import utcnow
from hotline.staffing.service import ringable
from tests.staffing.test_roster_rules import _me, _running_shift

pytestmark = pytest.mark.anyio


async def _rings(app) -> frozenset[int] | None:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        return await ringable(session, now=utcnow())


async def test_a_clock_in_lapses_with_the_place_and_a_supervisor_can_clock_someone_out(
    app, client, world
) -> None:
    op, sup = world.auth("operator"), world.auth("supervisor")
    operator, supervisor = (
        await _me(client, world, "operator"),
        await _me(client, world, "supervisor"),
    )
    day, shift = await _running_shift(client, world)
    entries = {}
    for who in (operator, supervisor):
        r = await client.post(
            "/api/v1/roster",
            json={"day": str(day), "shift_id": shift["id"], "user_id": who},
            headers=sup,
        )
        assert r.status_code == 201, r.text
        entries[who] = r.json()["id"]
    for auth in (op, sup):
        r = await client.post("/api/v1/shifts/clock/in", headers=auth)
        assert r.status_code == 200, r.text
    rings = await _rings(app)
    assert rings is not None and {operator, supervisor} <= rings

    # Taken off the shift, the operator's open clock-in no longer makes the queue ring them.
    r = await client.delete(f"/api/v1/roster/{entries[operator]}", headers=sup)
    assert r.status_code in (200, 204), r.text
    rings = await _rings(app)
    assert rings is not None and operator not in rings and supervisor in rings

    # A supervisor's leave lets them back in while it lasts.
    r = await client.put(
        "/api/v1/roster/off-shift",
        json={"user_id": operator, "minutes": 30, "reason": "Thiếu người"},
        headers=sup,
    )
    assert r.status_code == 200, r.text
    rings = await _rings(app)
    assert rings is not None and operator in rings

    # A supervisor clocks the operator out: the clock row closes and they are away.
    r = await client.post("/api/v1/roster/clock-out", json={"user_id": operator}, headers=op)
    assert r.status_code == 403, r.text
    r = await client.post("/api/v1/roster/clock-out", json={"user_id": operator}, headers=sup)
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == operator and r.json()["out_at"] is not None
    me = (await client.get("/api/v1/agents/me", headers=op)).json()
    assert me["status"] == "away"
    r = await client.post("/api/v1/roster/clock-out", json={"user_id": operator}, headers=sup)
    assert r.status_code == 409 and r.json()["field"] == "user_id", r.text
