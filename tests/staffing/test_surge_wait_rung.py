"""Surge mode's expected wait shares the queue among the operators the queue actually
rings: an operator available off their shift, whom the roster keeps the queue from
ringing, answers none of it."""

from __future__ import annotations

import pytest

from hotline.agents.service import set_status
from tests.staffing.test_roster_rules import _available, _me, _running_shift
from tests.staffing.test_surge_actions import _enter_surge

pytestmark = pytest.mark.anyio


async def test_an_operator_the_queue_does_not_ring_shares_no_wait(app, client, world) -> None:
    day, shift = await _running_shift(client, world)
    operator = await _me(client, world, "operator")
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": shift["id"], "user_id": operator},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    # The operator on the shift and the supervisor, off it, are both available (the
    # supervisor's status left from before: off the roster it is refused now): the queue
    # rings only the operator (service.ringable).
    await _available(client, world, "operator")
    async with app.state.hotline.unit_of_work() as session:
        await set_status(
            session, user_id=await _me(client, world, "supervisor"), status="available"
        )
    await _enter_surge(app)
    surge = (await client.get("/api/v1/surge", headers=world.auth("supervisor"))).json()
    # 12 waiting and the newcomer, 300 s each, all on the one operator rung.
    assert surge["expected_wait_seconds"] == 13 * 300

    # The supervisor gives themselves leave off the shift: now both are rung.
    supervisor = await _me(client, world, "supervisor")
    r = await client.put(
        "/api/v1/roster/off-shift",
        json={"user_id": supervisor, "minutes": 60, "reason": "Hàng chờ dài"},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    surge = (await client.get("/api/v1/surge", headers=world.auth("supervisor"))).json()
    assert surge["expected_wait_seconds"] == 13 * 300 // 2
