"""The roster's inputs as typed: JSON numbers for ids and counts (not `true`, not "7"),
and a week copied onto the same weekday it was made for."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import site_today
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me

pytestmark = pytest.mark.anyio


async def test_ids_and_counts_of_the_wrong_json_type_are_refused(client, world) -> None:
    sup = world.auth("supervisor")
    evening = await _shift(client, world, "chieu")
    shift = {k: evening[k] for k in ("code", "name", "starts_at", "hours", "operators")}
    for field, value in (("hours", True), ("operators", "6"), ("active", "no")):
        r = await client.put("/api/v1/shifts", json={**shift, field: value}, headers=sup)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    operator = await _me(client, world, "operator")
    day = str(site_today() + timedelta(days=1))
    place = {"day": day, "shift_id": evening["id"], "user_id": operator}
    for field, value in (
        ("shift_id", True),
        ("shift_id", str(evening["id"])),
        ("user_id", str(operator)),
    ):
        r = await client.post("/api/v1/roster", json={**place, field: value}, headers=sup)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    leave = {"user_id": operator, "minutes": 60, "reason": "Thiếu người"}
    for field, value in (("user_id", str(operator)), ("minutes", True)):
        r = await client.put("/api/v1/roster/off-shift", json={**leave, field: value}, headers=sup)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    r = await client.post("/api/v1/roster", json=place, headers=sup)
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/api/v1/roster/{r.json()['id']}/swaps",
        json={"to_user_id": str(await _me(client, world, "supervisor"))},
        headers=sup,
    )
    assert r.status_code == 422 and r.json()["field"] == "to_user_id", r.text


async def test_a_week_is_copied_onto_the_same_weekday_only(client, world) -> None:
    sup = world.auth("supervisor")
    today = site_today()
    monday = today - timedelta(days=today.weekday())
    r = await client.post(
        "/api/v1/roster/copy-week",
        json={"source": str(monday), "target": str(monday + timedelta(days=15))},
        headers=sup,
    )
    assert r.status_code == 422 and r.json()["field"] == "target", r.text
    assert "cùng một thứ" in r.json()["detail"]
    r = await client.post(
        "/api/v1/roster/copy-week",
        json={"source": str(monday), "target": str(monday + timedelta(days=14))},
        headers=sup,
    )
    assert r.status_code == 200, r.text
