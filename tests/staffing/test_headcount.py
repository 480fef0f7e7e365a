"""Staffing counts people, not places: an operator on a shift and the volunteer offer linked
to their account on the same shift are one person in the roster's head count, in the
forecast's operators rostered, in the unfilled-shift alert, in an operator's room to put
themselves on a shift, and in who is on shift when reserve volunteers are called in."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from typing import Any

import pytest

from hotline.auth.service import create_user
from hotline.db import utcnow
from hotline.staffing.jobs import alert_unfilled
from hotline.staffing.models import RosterEntry
from tests.conftest import PASSWORD, SITE_TZ, live_events, site_today
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me, _running_shift, volunteer_id
from tests.staffing.test_surge_actions import _enter_surge

pytestmark = pytest.mark.anyio


async def _place(client: Any, world: Any, day: Any, shift: int, **who: int) -> None:
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": shift, **who},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text


async def _kept_place(app: Any, day: Any, shift: int, volunteer: int) -> None:
    """The linked offer's own place on the same shift, kept from before the roster refused
    a second place for one person (or the offer linked to the account afterwards)."""
    async with app.state.hotline.unit_of_work() as session:
        session.add(RosterEntry(day=day, shift_id=shift, volunteer_id=volunteer))


async def _linked_volunteer(client: Any, world: Any, user_id: int) -> int:
    r = await client.post(
        "/api/v1/public/volunteers", json={"full_name": "Phạm Văn Tâm", "phone": "0912000901"}
    )
    assert r.status_code == 202, r.text
    vid = await volunteer_id(client, world, "0912000901")
    r = await client.post(
        f"/api/v1/volunteers/{vid}/approve",
        json={"user_id": user_id},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    return vid


async def test_an_operator_and_their_linked_volunteer_offer_count_once(app, client, world) -> None:
    sup = world.auth("supervisor")
    operator = await _me(client, world, "operator")
    vid = await _linked_volunteer(client, world, operator)
    day = site_today() + timedelta(days=3)
    morning = await _shift(client, world, "sang")
    await _place(client, world, day, morning["id"], user_id=operator)
    await _kept_place(app, day, morning["id"], vid)

    roster = (await client.get(f"/api/v1/roster?from={day}&to={day}", headers=sup)).json()
    shift = next(s for s in roster["shifts"] if s["code"] == "sang")
    assert len(shift["people"]) == 2  # both places are listed...
    assert shift["rostered"] == 1  # ...and counted as the one person they are
    # The operator reads the same count.
    mine = (
        await client.get(f"/api/v1/roster?from={day}&to={day}", headers=world.auth("operator"))
    ).json()
    assert next(s for s in mine["shifts"] if s["code"] == "sang")["rostered"] == 1

    forecast = (await client.get(f"/api/v1/staffing/forecast?date={day}", headers=sup)).json()
    at_nine = datetime.combine(day, time(9, 0), tzinfo=SITE_TZ)
    slot = next(s for s in forecast["slots"] if datetime.fromisoformat(s["start"]) == at_nine)
    assert slot["agents_rostered"] == 1


async def test_the_unfilled_alert_and_an_operators_room_count_people(app, client, world) -> None:
    operator = await _me(client, world, "operator")
    vid = await _linked_volunteer(client, world, operator)
    async with app.state.hotline.unit_of_work() as session:
        other = await create_user(session, username="operator2", password=PASSWORD, role="operator")
        other_id = other.id
    r = await client.post(
        "/api/v1/auth/token", data={"username": "operator2", "password": PASSWORD}
    )
    other_auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
    # A shift of two starting in a few hours, with the operator and their offer on it.
    r = await client.put(
        "/api/v1/shifts",
        json={
            "code": "sap",
            "name": "Ca sắp tới",
            "starts_at": (datetime.now(SITE_TZ) + timedelta(hours=3)).strftime("%H:00"),
            "hours": 2,
            "operators": 2,
        },
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    shift = r.json()["id"]
    start = datetime.now(SITE_TZ) + timedelta(hours=3)
    day = start.date()
    await _place(client, world, day, shift, user_id=operator)
    await _kept_place(app, day, shift, vid)

    async with live_events(app) as events:
        async with app.state.hotline.unit_of_work() as session:
            assert await alert_unfilled(session, ahead=timedelta(hours=12), now=utcnow()) >= 1
        alert = await asyncio.wait_for(events.get(), 10)
        while alert.kind != "staffing.unfilled" or alert.data.get("shift_id") != shift:
            alert = await asyncio.wait_for(events.get(), 10)
    assert (alert.data["rostered"], alert.data["unreachable"]) == (1, 0)

    # One person holds the two places: a second operator may still put themselves on it.
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": shift, "user_id": other_id},
        headers=other_auth,
    )
    assert r.status_code == 201, r.text


async def test_a_reserve_volunteer_whose_account_is_on_shift_now_is_not_called_in(
    app, client, world
) -> None:
    sup = world.auth("supervisor")
    operator = await _me(client, world, "operator")
    vid = await _linked_volunteer(client, world, operator)
    r = await client.put(f"/api/v1/volunteers/{vid}/reserve", json={"reserve": True}, headers=sup)
    assert r.status_code == 200, r.text
    day, running = await _running_shift(client, world)
    await _place(client, world, day, running["id"], user_id=operator)

    await _enter_surge(app)

    notices = (await client.get("/api/v1/staffing/notices", headers=sup)).json()["items"]
    assert notices and not [n for n in notices if n["volunteer_id"] == vid]
