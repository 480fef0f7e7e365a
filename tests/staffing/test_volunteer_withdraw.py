"""An approved volunteer's offer is not for ever: a supervisor withdraws it (its places on
shifts not yet begun go, the places worked stay as the record), the volunteer withdraws
their own through their linked account, and a supervisor moves the offer to the right
account when the wrong one was linked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hotline.staffing.models import RosterEntry
from tests.conftest import site_today
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me, _volunteer

pytestmark = pytest.mark.anyio


async def _approved(client: Any, world: Any, phone: str, user_id: int | None = None) -> int:
    vid = await _volunteer(client, world, phone)
    r = await client.post(
        f"/api/v1/volunteers/{vid}/approve",
        json={"user_id": user_id} if user_id else None,
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    return vid


async def _places(client: Any, world: Any, vid: int, first: Any, last: Any) -> list[str]:
    r = await client.get(f"/api/v1/roster?from={first}&to={last}", headers=world.auth("supervisor"))
    assert r.status_code == 200, r.text
    return sorted(
        s["day"] for s in r.json()["shifts"] for p in s["people"] if p["volunteer_id"] == vid
    )


async def test_a_supervisor_withdraws_an_approved_volunteer_keeping_the_past(
    app, client, world
) -> None:
    sup = world.auth("supervisor")
    vid = await _approved(client, world, "0912000601")
    morning = await _shift(client, world, "sang")
    past, future = site_today() - timedelta(days=2), site_today() + timedelta(days=2)
    async with app.state.hotline.unit_of_work() as session:
        session.add(RosterEntry(day=past, shift_id=morning["id"], volunteer_id=vid))
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(future), "shift_id": morning["id"], "volunteer_id": vid},
        headers=sup,
    )
    assert r.status_code == 201, r.text
    assert await _places(client, world, vid, past, future) == [str(past), str(future)]

    # An operator may not withdraw someone else's offer.
    r = await client.post(f"/api/v1/volunteers/{vid}/withdraw", headers=world.auth("operator"))
    assert r.status_code == 404, r.text
    r = await client.post(
        f"/api/v1/volunteers/{vid}/withdraw", json={"reason": "Chuyển công tác"}, headers=sup
    )
    assert r.status_code == 200, r.text
    assert r.json()["places_removed"] == 1
    assert r.json()["volunteer"]["status"] == "withdrawn"
    assert r.json()["volunteer"]["withdraw_reason"] == "Chuyển công tác"
    assert await _places(client, world, vid, past, future) == [str(past)]
    # Withdrawn: no new place, no second withdrawal.
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(future), "shift_id": morning["id"], "volunteer_id": vid},
        headers=sup,
    )
    assert r.status_code in (409, 422) and r.json()["field"] == "volunteer_id", r.text
    r = await client.post(f"/api/v1/volunteers/{vid}/withdraw", headers=sup)
    assert r.status_code == 409 and r.json()["field"] == "volunteer_id", r.text
    # The number may offer again, and that offer be approved.
    again = await _approved(client, world, "0912000601")
    assert again != vid


async def test_a_volunteer_withdraws_their_own_offer_through_their_account(client, world) -> None:
    operator = await _me(client, world, "operator")
    op = world.auth("operator")
    vid = await _approved(client, world, "0912000602", user_id=operator)
    r = await client.get("/api/v1/volunteers/mine", headers=op)
    assert r.status_code == 200 and r.json()["id"] == vid, r.text
    r = await client.post(f"/api/v1/volunteers/{vid}/withdraw", headers=op)
    assert r.status_code == 200 and r.json()["volunteer"]["status"] == "withdrawn", r.text
    r = await client.get("/api/v1/volunteers/mine", headers=op)
    assert r.status_code == 404, r.text


async def test_a_supervisor_moves_an_offer_to_the_right_account(client, world) -> None:
    sup = world.auth("supervisor")
    operator, supervisor, officer = [
        await _me(client, world, w) for w in ("operator", "supervisor", "officer")
    ]
    vid = await _approved(client, world, "0912000603", user_id=supervisor)
    r = await client.put(
        f"/api/v1/volunteers/{vid}/account", json={"user_id": operator}, headers=sup
    )
    assert r.status_code == 200 and r.json()["user_id"] == operator, r.text
    # Not a call taker's account: refused naming the field.
    r = await client.put(
        f"/api/v1/volunteers/{vid}/account", json={"user_id": officer}, headers=sup
    )
    assert r.status_code == 422 and r.json()["field"] == "user_id", r.text
    # An operator cannot do it.
    r = await client.put(
        f"/api/v1/volunteers/{vid}/account",
        json={"user_id": None},
        headers=world.auth("operator"),
    )
    assert r.status_code == 403, r.text
    # One person, one place: the account is on a shift the offer is on.
    morning = await _shift(client, world, "sang")
    day = site_today() + timedelta(days=3)
    r = await client.put(f"/api/v1/volunteers/{vid}/account", json={"user_id": None}, headers=sup)
    assert r.status_code == 200 and r.json()["user_id"] is None, r.text
    for body in ({"volunteer_id": vid}, {"user_id": supervisor}):
        r = await client.post(
            "/api/v1/roster",
            json={"day": str(day), "shift_id": morning["id"], **body},
            headers=sup,
        )
        assert r.status_code == 201, r.text
    r = await client.put(
        f"/api/v1/volunteers/{vid}/account", json={"user_id": supervisor}, headers=sup
    )
    assert r.status_code == 409 and r.json()["field"] == "user_id", r.text


async def test_a_withdrawn_offer_does_not_hold_its_account(client, world) -> None:
    sup = world.auth("supervisor")
    operator = await _me(client, world, "operator")
    first = await _approved(client, world, "0912000604", user_id=operator)
    r = await client.post(f"/api/v1/volunteers/{first}/withdraw", headers=sup)
    assert r.status_code == 200, r.text
    # The same person offers again: the new offer is approved with the account...
    again = await _approved(client, world, "0912000604", user_id=operator)
    r = await client.get("/api/v1/volunteers/mine", headers=world.auth("operator"))
    assert r.status_code == 200 and r.json()["id"] == again, r.text
    r = await client.post(f"/api/v1/volunteers/{again}/withdraw", headers=sup)
    assert r.status_code == 200, r.text
    # ...or linked to it afterwards.
    later = await _approved(client, world, "0912000605")
    r = await client.put(
        f"/api/v1/volunteers/{later}/account", json={"user_id": operator}, headers=sup
    )
    assert r.status_code == 200 and r.json()["user_id"] == operator, r.text
    # A live offer still holds its account.
    other = await _approved(client, world, "0912000606")
    r = await client.put(
        f"/api/v1/volunteers/{other}/account", json={"user_id": operator}, headers=sup
    )
    assert r.status_code == 409 and r.json()["field"] == "user_id", r.text
