"""One person, one place: a staff member and the volunteer offer linked to their account
are the same person, so the roster and an approved swap refuse a second place on a shift
through the other (409 naming the field)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import site_today
from tests.staffing.test_headcount import _linked_volunteer
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me

pytestmark = pytest.mark.anyio


async def test_the_roster_refuses_a_person_already_on_the_shift_through_their_linked_offer(
    client, world
) -> None:
    sup = world.auth("supervisor")
    operator = await _me(client, world, "operator")
    vid = await _linked_volunteer(client, world, operator)
    day = site_today() + timedelta(days=3)
    morning, evening = await _shift(client, world, "sang"), await _shift(client, world, "chieu")

    def place(shift: int, **who: int):
        body = {"day": str(day), "shift_id": shift, **who}
        return client.post("/api/v1/roster", json=body, headers=sup)

    assert (await place(morning["id"], volunteer_id=vid)).status_code == 201
    r = await place(morning["id"], user_id=operator)
    assert r.status_code == 409 and r.json()["field"] == "user_id", r.text
    assert (await place(evening["id"], user_id=operator)).status_code == 201
    r = await place(evening["id"], volunteer_id=vid)
    assert r.status_code == 409 and r.json()["field"] == "volunteer_id", r.text


async def test_a_swap_to_a_colleague_on_the_shift_through_their_linked_offer_is_refused(
    client, world
) -> None:
    sup = world.auth("supervisor")
    supervisor = await _me(client, world, "supervisor")
    vid = await _linked_volunteer(client, world, supervisor)
    operator = await _me(client, world, "operator")
    day = site_today() + timedelta(days=3)
    morning = await _shift(client, world, "sang")
    entry = None
    for who in ({"user_id": operator}, {"volunteer_id": vid}):
        r = await client.post(
            "/api/v1/roster",
            json={"day": str(day), "shift_id": morning["id"], **who},
            headers=sup,
        )
        assert r.status_code == 201, r.text
        entry = entry or r.json()["id"]
    # Refused when asked, not left waiting for an approval that cannot come.
    r = await client.post(
        f"/api/v1/roster/{entry}/swaps",
        json={"to_user_id": supervisor, "reason": "Ốm"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 409 and r.json()["field"] == "to_user_id", r.text
    roster = (
        await client.get("/api/v1/roster", params={"from": str(day), "to": str(day)}, headers=sup)
    ).json()
    people = next(s for s in roster["shifts"] if s["shift_id"] == morning["id"])["people"]
    assert {(p["user_id"], p["volunteer_id"]) for p in people} == {(operator, None), (None, vid)}
