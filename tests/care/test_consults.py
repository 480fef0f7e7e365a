"""Consult requests through the API: who sees them, taking and finishing, and the window a
request made from a message lands in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hotline.care.consults import request_consult
from tests.agents.test_agents import user_id
from tests.care.helpers import API, new_doctor, profile

pytestmark = pytest.mark.anyio
NOON = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # Monday, 12:00 in Hà Nội
TEN = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00, inside the 09–11 window


async def consult_doctor(client, world) -> int:
    uid = await user_id(client, world, "doctor")
    r = await profile(client, world, uid, years=8, groups=("consult",))
    assert r.status_code == 201, r.text
    return uid


async def test_staff_pass_a_citizen_to_the_consult_doctors_who_alone_see_it(app, client, world):
    doctor = await consult_doctor(client, world)
    other = await new_doctor(app, client, "bs_chamsoc")  # proactive only
    me = await client.get("/api/v1/users/me", headers=other)
    r = await profile(client, world, me.json()["id"])
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{API}/consults",
        json={"phone": "0912 345 678", "text": "Con tôi sốt 39 độ, có cần đi viện không?"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["source"], made["status"], made["phone"]) == ("staff", "open", "+84912345678")
    assert made["doctor_ids"] == [doctor]
    # The consult doctor sees it; a proactive-care doctor does not (and may not act on it).
    r = await client.get(f"{API}/consults", headers=world.auth("doctor"))
    assert [c["id"] for c in r.json()] == [made["id"]]
    r = await client.get(f"{API}/consults", headers=other)
    assert r.status_code == 200 and r.json() == []
    r = await client.post(f"{API}/consults/{made['id']}/take", headers=other)
    assert r.status_code == 404
    # Outside the care roles: the list is refused, a request is not found.
    for who in ("operator", "officer"):
        r = await client.get(f"{API}/consults", headers=world.auth(who))
        assert r.status_code == 403, (who, r.text)
        r = await client.post(f"{API}/consults/{made['id']}/take", headers=world.auth(who))
        assert r.status_code == 404, (who, r.text)
    # Supervisors see all; only hotline staff enter one.
    r = await client.get(f"{API}/consults?status=open", headers=world.auth("supervisor"))
    assert [c["id"] for c in r.json()] == [made["id"]]
    r = await client.post(f"{API}/consults", json={"phone": "0912345678"}, headers=other)
    assert r.status_code == 403


async def test_a_doctor_takes_once_and_finishes(app, client, world):
    await consult_doctor(client, world)
    r = await client.post(
        f"{API}/consults", json={"phone": "0987 000 111"}, headers=world.auth("operator")
    )
    cid = r.json()["id"]
    r = await client.post(f"{API}/consults/{cid}/take", headers=world.auth("doctor"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "taken" and r.json()["taken_by"] is not None
    r = await client.post(f"{API}/consults/{cid}/take", headers=world.auth("doctor"))
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.post(f"{API}/consults/{cid}/done", headers=world.auth("doctor"))
    assert r.status_code == 200 and r.json()["status"] == "done"
    r = await client.post(f"{API}/consults/{cid}/done", headers=world.auth("doctor"))
    assert r.status_code == 409
    r = await client.get(f"{API}/consults?status=open", headers=world.auth("doctor"))
    assert r.json() == []
    r = await client.get(f"{API}/consults?status=later", headers=world.auth("doctor"))
    assert r.status_code == 422


async def test_a_message_at_noon_is_due_at_15_and_one_at_10_at_once(app, client, world):
    doctor = await consult_doctor(client, world)
    async with app.state.hotline.unit_of_work() as session:
        later = await request_consult(
            session, contact_id=None, source="message", text="Ho, sốt", phone="0912345678", at=NOON
        )
        now = await request_consult(
            session, contact_id=None, source="message", text="Đau họng", phone="0912345678", at=TEN
        )
        ids = {later.id: "later", now.id: "now"}
    r = await client.get(f"{API}/consults", headers=world.auth("doctor"))
    seen = {ids[c["id"]]: c for c in r.json()}
    assert seen["later"]["due_at"] == "2026-11-23T08:00:00+00:00"  # 15:00 in Hà Nội
    assert seen["later"]["window_ends_at"] == "2026-11-23T10:00:00+00:00"
    assert seen["now"]["due_at"] == TEN.isoformat()
    assert seen["now"]["window_ends_at"] == "2026-11-23T04:00:00+00:00"
    assert seen["later"]["doctor_ids"] == seen["now"]["doctor_ids"] == [doctor]
    assert [c["source"] for c in r.json()] == ["message", "message"]
