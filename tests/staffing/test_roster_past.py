"""The roster of the past is a record: no place is added to, swapped on or taken off a
shift that has already ended, and no week is copied onto past days."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from hotline.staffing.models import RosterEntry
from tests.conftest import site_today
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me

pytestmark = pytest.mark.anyio


async def test_a_place_on_an_ended_shift_is_refused_naming_the_day(client, world) -> None:
    sup = world.auth("supervisor")
    operator = await _me(client, world, "operator")
    morning = await _shift(client, world, "sang")
    yesterday = site_today() - timedelta(days=1)
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(yesterday), "shift_id": morning["id"], "user_id": operator},
        headers=sup,
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "day"
    assert "đã kết thúc" in r.json()["detail"] and yesterday.strftime("%d/%m/%Y") in r.text
    tomorrow = site_today() + timedelta(days=1)
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(tomorrow), "shift_id": morning["id"], "user_id": operator},
        headers=sup,
    )
    assert r.status_code == 201, r.text


async def test_an_ended_place_is_neither_swapped_nor_taken_off(app, client, world) -> None:
    sup, op = world.auth("supervisor"), world.auth("operator")
    operator, supervisor = (
        await _me(client, world, "operator"),
        await _me(client, world, "supervisor"),
    )
    morning = await _shift(client, world, "sang")
    async with app.state.hotline.unit_of_work() as session:
        entry = RosterEntry(
            day=site_today() - timedelta(days=2), shift_id=morning["id"], user_id=operator
        )
        session.add(entry)
        await session.flush()
        entry_id = entry.id
    r = await client.post(
        f"/api/v1/roster/{entry_id}/swaps", json={"to_user_id": supervisor}, headers=op
    )
    assert r.status_code == 422 and r.json()["field"] == "entry_id", r.text
    r = await client.delete(f"/api/v1/roster/{entry_id}", headers=sup)
    assert r.status_code == 422 and r.json()["field"] == "entry_id", r.text


async def test_a_week_is_not_copied_onto_past_days(client, world) -> None:
    today = site_today()
    r = await client.post(
        "/api/v1/roster/copy-week",
        json={"source": str(today), "target": str(today - timedelta(days=7))},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 422 and r.json()["field"] == "target", r.text


async def test_the_staffing_page_names_an_ended_shift_next_to_the_day(client, world) -> None:
    from tests.dashboard.helpers import sign_in
    from tests.staffing.test_pages import csrf_of

    operator = await _me(client, world, "operator")
    morning = await _shift(client, world, "sang")
    await sign_in(client, "supervisor")
    page = (await client.get("/staffing")).text
    assert 'id="roster-form"' in page
    yesterday = site_today() - timedelta(days=1)
    form = {
        "csrf": csrf_of(page),
        "day": str(yesterday),
        "shift_id": str(morning["id"]),
        "user_id": str(operator),
    }
    r = await client.post("/staffing/roster", data=form)
    assert r.status_code == 422
    assert re.search(r'id="roster-day-error"[^>]*>Ca sáng ngày [0-9/]+ đã kết thúc', r.text)
    assert f'value="{yesterday}" aria-invalid="true"' in r.text
    r = await client.post(
        "/staffing/roster",
        data={**form, "day": str(site_today() + timedelta(days=1))},
        follow_redirects=False,
    )
    # Back on the week of the day placed, the form keeping its shift.
    assert r.status_code == 303 and r.headers["location"] == (
        f"/staffing?date={site_today() + timedelta(days=1)}&done=roster_assign"
        f"&shift={morning['id']}#roster"
    )
