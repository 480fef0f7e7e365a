"""The services behind the lead's roster editing: a week copied onto another says what it
copied and what it skipped and why (through `POST /api/v1/roster/copy-week`), never
overwriting the target week; the people to place and who is in are a lead's reads."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from hotline.auth.models import Role
from hotline.auth.service import Actor
from hotline.errors import NotAllowed
from hotline.staffing import roster_edit
from hotline.staffing.models import RosterEntry, Volunteer, VolunteerStatus
from tests.conftest import SITE_TZ, site_today
from tests.staffing.test_pages import _user_ids
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _volunteer

pytestmark = pytest.mark.anyio


async def test_a_copied_week_counts_each_place_copied_or_skipped_by_reason(
    app, client, world
) -> None:
    if datetime.now(SITE_TZ).hour < 1:
        pytest.skip("needs a shift of today already over: from 01:00 site time")
    sup = world.auth("supervisor")
    ids = await _user_ids(client, world)
    night = await _shift(client, world, "dem")
    # A one-hour shift from midnight: today's is over by now.
    r = await client.put(
        "/api/v1/shifts",
        json={
            "code": "khuya",
            "name": "Ca khuya",
            "starts_at": "00:00",
            "hours": 1,
            "operators": 1,
        },
        headers=sup,
    )
    assert r.status_code == 200, r.text
    small_hours = r.json()
    linked = await _volunteer(client, world, "0912 444 111")
    r = await client.post(
        f"/api/v1/volunteers/{linked}/approve", json={"user_id": ids["operator"]}, headers=sup
    )
    assert r.status_code == 200, r.text
    waiting = await _volunteer(client, world, "0912 444 222")  # never approved
    target = site_today()
    source = target - timedelta(days=7)
    async with app.state.hotline.unit_of_work() as session:
        sup_id, op_id = ids["supervisor"], ids["operator"]
        dem = night["id"]
        places = [
            # copied
            RosterEntry(day=source + timedelta(days=1), shift_id=dem, user_id=sup_id),
            # already there: the same place is in the target week
            RosterEntry(day=source + timedelta(days=2), shift_id=dem, user_id=sup_id),
            RosterEntry(day=target + timedelta(days=2), shift_id=dem, user_id=sup_id),
            # ended: today's small hours are over
            RosterEntry(day=source, shift_id=small_hours["id"], user_id=op_id),
            # not rosterable: an offer not approved (kept from before the roster refused it)
            RosterEntry(day=source + timedelta(days=3), shift_id=dem, volunteer_id=waiting),
            # the same person: on the target shift through the offer linked to their account
            RosterEntry(day=source + timedelta(days=4), shift_id=dem, user_id=op_id),
            RosterEntry(day=target + timedelta(days=4), shift_id=dem, volunteer_id=linked),
        ]
        session.add_all(places)
    r = await client.post(
        "/api/v1/roster/copy-week",
        json={"source": str(source), "target": str(target)},
        headers=sup,
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "added": 1,
        "skipped": {"already_there": 1, "ended": 1, "not_rosterable": 1, "same_person": 1},
    }
    r = await client.get(
        "/api/v1/roster",
        params={"from": str(target), "to": str(target + timedelta(days=6))},
        headers=sup,
    )
    held = sorted(
        (s["day"], s["code"], p["user_id"], p["volunteer_id"])
        for s in r.json()["shifts"]
        for p in s["people"]
    )
    day = lambda n: str(target + timedelta(days=n))  # noqa: E731
    assert held == sorted(
        [
            (day(1), "dem", ids["supervisor"], None),
            (day(2), "dem", ids["supervisor"], None),
            (day(4), "dem", None, linked),
        ]
    )
    async with app.state.hotline.unit_of_work() as session:
        offer = await session.get(Volunteer, waiting)
        assert offer is not None and offer.status is VolunteerStatus.PENDING


async def test_the_people_to_place_and_who_is_in_are_a_leads_to_read(app, client, world) -> None:
    ids = await _user_ids(client, world)
    operator = Actor(user_id=ids["operator"], username="operator", role=Role.OPERATOR)
    lead = Actor(user_id=ids["supervisor"], username="supervisor", role=Role.SUPERVISOR)
    today = site_today()
    async with app.state.hotline.unit_of_work() as session:
        with pytest.raises(NotAllowed):
            await roster_edit.candidates(session, actor=operator, start=today, end=today)
        with pytest.raises(NotAllowed):
            await roster_edit.attendance(session, actor=operator)
        with pytest.raises(NotAllowed):
            await roster_edit.copy_week(
                session, actor=operator, source=today, target=today + timedelta(days=7)
            )
        people = await roster_edit.candidates(session, actor=lead, start=today, end=today)
    keys = {p.key for p in people}
    assert {f"u{ids['operator']}", f"u{ids['supervisor']}"} <= keys
