"""An unfilled-shift alert counts the people the queue can reach: volunteers without a
linked account fill no place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.staffing.jobs import alert_unfilled
from tests.conftest import live_events, site_today
from tests.dashboard.helpers import sign_in
from tests.staffing.test_roster import _ids, _shift
from tests.staffing.test_roster_rules import _volunteer

pytestmark = pytest.mark.anyio


async def test_volunteers_without_an_account_do_not_fill_a_shift(app, client, world) -> None:
    sup = world.auth("supervisor")
    r = await client.put(
        "/api/v1/shifts",
        json={"code": "sang", "name": "Ca sáng", "starts_at": "06:00", "hours": 8, "operators": 2},
        headers=sup,
    )
    assert r.status_code == 200, r.text
    morning = await _shift(client, world, "sang")
    day = site_today() + timedelta(days=1)
    for phone in ("0912000901", "0912000902"):
        vid = await _volunteer(client, world, phone)
        r = await client.post(f"/api/v1/volunteers/{vid}/approve", headers=sup)
        assert r.status_code == 200, r.text
        r = await client.post(
            "/api/v1/roster",
            json={"day": str(day), "shift_id": morning["id"], "volunteer_id": vid},
            headers=sup,
        )
        assert r.status_code == 201, r.text
    async with live_events(app) as events:
        async with app.state.hotline.unit_of_work() as session:
            await alert_unfilled(session, ahead=timedelta(hours=48), now=datetime.now(UTC))
        while True:
            event = await events.get()
            data = event.data
            if event.kind == "staffing.unfilled" and (data["shift_id"], data["day"]) == (
                morning["id"],
                str(day),
            ):
                break
    assert event.data["rostered"] == 0 and event.data["unreachable"] == 2
    assert event.data["needed"] == 2


async def test_full_means_the_people_the_queue_rings_on_the_roster_alert_and_grid(
    app, client, world
) -> None:
    sup = world.auth("supervisor")
    r = await client.put(
        "/api/v1/shifts",
        json={"code": "sang", "name": "Ca sáng", "starts_at": "06:00", "hours": 8, "operators": 2},
        headers=sup,
    )
    assert r.status_code == 200, r.text
    morning = await _shift(client, world, "sang")
    day = site_today() + timedelta(days=2)
    for phone in ("0912000911", "0912000912", "0912000913"):
        vid = await _volunteer(client, world, phone)
        r = await client.post(f"/api/v1/volunteers/{vid}/approve", headers=sup)
        assert r.status_code == 200, r.text
        r = await client.post(
            "/api/v1/roster",
            json={"day": str(day), "shift_id": morning["id"], "volunteer_id": vid},
            headers=sup,
        )
        assert r.status_code == 201, r.text

    def cell(shifts: list[dict]) -> dict:
        return next(s for s in shifts if (s["shift_id"], s["day"]) == (morning["id"], str(day)))

    params = {"from": str(day), "to": str(day)}
    got = cell((await client.get("/api/v1/roster", params=params, headers=sup)).json()["shifts"])
    assert (got["rostered"], got["reachable"], got["needed"]) == (3, 0, 2)
    # Three volunteers without an account: the queue can ring nobody, so the shift is not
    # full; an operator may still put themselves on it.
    operator = world.auth("operator")
    r = await client.post(
        "/api/v1/roster",
        json={
            "day": str(day),
            "shift_id": morning["id"],
            "user_id": (await _ids(client, world))["operator"],
        },
        headers=operator,
    )
    assert r.status_code == 201, r.text
    got = cell((await client.get("/api/v1/roster", params=params, headers=sup)).json()["shifts"])
    assert (got["rostered"], got["reachable"]) == (4, 1)
    # The supervisor's grid marks it short and shows reachable / needed.
    await sign_in(client, "supervisor")
    page = (await client.get("/staffing", params={"date": str(day)})).text
    row = page[page.index('<tr data-shift="sang">') :]
    row = row[: row.index("</tr>")]
    assert 'class="short"' in row and "<b>1/2</b>" in row
