"""Getting onto the line goes through the roster or a supervisor: an operator puts themselves
only on shifts not yet begun (a running one needs the supervisor's leave), and the
supervisor's off-shift leave is for the operator queue's call takers only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import site_today
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me, _running_shift

pytestmark = pytest.mark.anyio


async def test_an_operator_cannot_put_themselves_on_a_shift_already_running(client, world) -> None:
    op, sup = world.auth("operator"), world.auth("supervisor")
    operator = await _me(client, world, "operator")
    day, shift = await _running_shift(client, world)
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": shift["id"], "user_id": operator},
        headers=op,
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "day"
    assert "đã bắt đầu" in r.json()["detail"] and "trưởng ca" in r.json()["detail"]
    # Not on the roster, so not let in by it either.
    r = await client.post("/api/v1/shifts/clock/in", headers=op)
    assert r.status_code == 409 and r.json()["field"] == "clock", r.text
    # A shift not yet begun they may still fill themselves; a supervisor may place them
    # on the running one.
    later = await _shift(client, world, "sang")
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(site_today() + timedelta(days=1)), "shift_id": later["id"]},
        headers=op,
    )
    assert r.status_code == 422 and r.json()["field"] == "user_id", r.text
    r = await client.post(
        "/api/v1/roster",
        json={
            "day": str(site_today() + timedelta(days=1)),
            "shift_id": later["id"],
            "user_id": operator,
        },
        headers=op,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": shift["id"], "user_id": operator},
        headers=sup,
    )
    assert r.status_code == 201, r.text


async def test_off_shift_leave_is_only_for_the_operator_queues_call_takers(client, world) -> None:
    sup = world.auth("supervisor")
    for who in ("doctor", "officer", "admin"):
        user_id = await _me(client, world, who)
        r = await client.put(
            "/api/v1/roster/off-shift",
            json={"user_id": user_id, "minutes": 60, "reason": "Thiếu người"},
            headers=sup,
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["field"] == "user_id"
        assert "không phải tổng đài viên hay trưởng ca" in r.json()["detail"]
        # Ending a leave is always possible (nothing to refuse).
        r = await client.put(
            "/api/v1/roster/off-shift", json={"user_id": user_id, "minutes": 0}, headers=sup
        )
        assert r.status_code == 200 and r.json()["until"] is None, r.text
    for who in ("operator", "supervisor"):
        r = await client.put(
            "/api/v1/roster/off-shift",
            json={"user_id": await _me(client, world, who), "minutes": 60, "reason": "Trực"},
            headers=sup,
        )
        assert r.status_code == 200, r.text
