"""A volunteer whose offer is linked to a staff account sees the offer's places as their
own — in the roster, on the staffing page — and may ask to hand them to a colleague."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import site_today
from tests.dashboard.helpers import sign_in
from tests.staffing.test_headcount import _linked_volunteer
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me

pytestmark = pytest.mark.anyio


async def test_the_linked_account_sees_and_swaps_the_offers_places(client, world) -> None:
    sup, op = world.auth("supervisor"), world.auth("operator")
    operator = await _me(client, world, "operator")
    supervisor = await _me(client, world, "supervisor")
    vid = await _linked_volunteer(client, world, operator)
    day = site_today() + timedelta(days=1)
    evening = await _shift(client, world, "chieu")
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": evening["id"], "volunteer_id": vid},
        headers=sup,
    )
    assert r.status_code == 201, r.text
    entry = r.json()["id"]

    span = {"from": str(day), "to": str(day)}
    roster = (await client.get("/api/v1/roster", params=span, headers=op)).json()
    [place] = [p for s in roster["shifts"] for p in s["people"]]
    assert (place["entry_id"], place["volunteer_id"]) == (entry, vid)

    await sign_in(client, "operator")
    page = (await client.get(f"/staffing?date={day}")).text
    assert 'id="my-shifts"' in page and "Ca chiều" in page
    client.cookies.clear()

    swap = await client.post(
        f"/api/v1/roster/{entry}/swaps", json={"to_user_id": supervisor}, headers=op
    )
    assert swap.status_code == 201, swap.text
    assert swap.json()["requested_by"] == operator
    mine = (await client.get("/api/v1/swaps", headers=op)).json()["items"]
    assert [s["id"] for s in mine] == [swap.json()["id"]]
    r = await client.post(f"/api/v1/swaps/{swap.json()['id']}/accept", headers=sup)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/swaps/{swap.json()['id']}/approve", headers=sup)
    assert r.status_code == 200, r.text
    roster = (await client.get("/api/v1/roster", params=span, headers=sup)).json()
    people = next(s for s in roster["shifts"] if s["shift_id"] == evening["id"])["people"]
    assert [(p["user_id"], p["volunteer_id"]) for p in people] == [(supervisor, None)]
