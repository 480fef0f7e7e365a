"""Clocking in follows the roster: a place on a shift running now (or starting within the
tolerance), a supervisor's override for someone else, or a supervisor's own stated reason;
anyone else is refused with the reason named. Through the HTTP API and the staffing page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conftest import SITE_TZ
from tests.dashboard.helpers import sign_in
from tests.staffing.test_pages import csrf_of
from tests.staffing.test_roster_rules import _me, _running_shift

pytestmark = pytest.mark.anyio


async def test_an_operator_off_the_roster_is_refused_and_one_on_it_clocks_in(client, world) -> None:
    op, sup = world.auth("operator"), world.auth("supervisor")
    r = await client.post("/api/v1/shifts/clock/in", headers=op)
    assert r.status_code == 409, r.text
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert body["field"] == "clock"
    assert "không có tên trong ca trực" in body["detail"] and "30 phút" in body["detail"]

    day, shift = await _running_shift(client, world)
    operator = await _me(client, world, "operator")
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": shift["id"], "user_id": operator},
        headers=sup,
    )
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/shifts/clock/in", headers=op)
    assert r.status_code == 200, r.text
    assert r.json()["override_by"] is None and r.json()["override_reason"] == ""


async def test_a_supervisors_override_lets_an_operator_clock_in_and_is_recorded(
    client, world
) -> None:
    op, sup = world.auth("operator"), world.auth("supervisor")
    operator, supervisor = (
        await _me(client, world, "operator"),
        await _me(client, world, "supervisor"),
    )
    r = await client.put(
        "/api/v1/roster/off-shift", json={"user_id": operator, "minutes": 60}, headers=sup
    )
    assert r.status_code == 422 and r.json()["field"] == "reason", r.text
    r = await client.put(
        "/api/v1/roster/off-shift",
        json={"user_id": operator, "minutes": 60, "reason": "Thiếu người ca chiều"},
        headers=sup,
    )
    assert r.status_code == 200 and r.json()["set_by"] == supervisor, r.text
    r = await client.post("/api/v1/shifts/clock/in", headers=op)
    assert r.status_code == 200, r.text
    assert r.json()["override_by"] == supervisor
    assert r.json()["override_reason"] == "Thiếu người ca chiều"


async def test_a_supervisor_off_the_roster_clocks_in_only_with_a_reason(client, world) -> None:
    sup = world.auth("supervisor")
    supervisor = await _me(client, world, "supervisor")
    r = await client.post("/api/v1/shifts/clock/in", headers=sup)
    assert r.status_code == 422 and r.json()["field"] == "reason", r.text
    assert "ghi lý do" in r.json()["detail"]
    r = await client.post(
        "/api/v1/shifts/clock/in", json={"reason": "Trực thay đột xuất"}, headers=sup
    )
    assert r.status_code == 200, r.text
    assert r.json()["override_by"] == supervisor
    assert r.json()["override_reason"] == "Trực thay đột xuất"


async def test_the_staffing_page_names_the_missing_reason_next_to_its_field(client, world) -> None:
    await sign_in(client, "supervisor")
    page = (await client.get("/staffing")).text
    assert 'id="clock-reason"' in page
    r = await client.post("/staffing/clock/in", data={"csrf": csrf_of(page)})
    assert r.status_code == 422
    assert re.search(r'id="clock-reason-error"[^>]*>Bạn không có tên trong ca trực', r.text)
    r = await client.post(
        "/staffing/clock/in",
        data={"csrf": csrf_of(page), "reason": "Trực thay"},
        follow_redirects=False,
    )
    assert r.status_code == 303


async def _shift_soon(client: Any, world: Any) -> tuple[str, int]:
    """A shift template starting between one and two hours from now (site time)."""
    start = (datetime.now(SITE_TZ) + timedelta(hours=2)).replace(minute=0, second=0)
    r = await client.put(
        "/api/v1/shifts",
        json={
            "code": "soon",
            "name": "Ca sắp tới",
            "starts_at": start.strftime("%H:%M"),
            "hours": 4,
            "operators": 1,
        },
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    return str(start.date()), int(r.json()["id"])


async def test_a_shift_starting_beyond_the_tolerance_does_not_let_its_people_clock_in(
    client, world
) -> None:
    day, shift_id = await _shift_soon(client, world)
    operator = await _me(client, world, "operator")
    r = await client.post(
        "/api/v1/roster",
        json={"day": day, "shift_id": shift_id, "user_id": operator},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/shifts/clock/in", headers=world.auth("operator"))
    assert r.status_code == 409 and r.json()["field"] == "clock", r.text
