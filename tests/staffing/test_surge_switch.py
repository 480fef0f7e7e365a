"""A supervisor's switch over a surge the sweep began, and reserve volunteers not texted
of every entry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.db import utcnow
from hotline.events import record_event
from hotline.staffing.alerts import alert_surge
from hotline.staffing.models import SurgeChange
from hotline.staffing.surge import check_surge, surge_active
from tests.staffing.test_roster import _queue_event
from tests.staffing.test_surge_actions import RULES, _enter_surge, _volunteer

pytestmark = pytest.mark.anyio


async def test_switching_on_a_surge_the_sweep_began_holds_it_until_switched_off(
    app, client, world
) -> None:
    state = app.state.hotline
    await _enter_surge(app)
    sup = world.auth("supervisor")
    me = (await client.get("/api/v1/users/me", headers=sup)).json()["id"]
    told = len((await client.get("/api/v1/staffing/notices", headers=sup)).json()["items"])
    r = await client.put(
        "/api/v1/surge", json={"active": True, "reason": "Giữ đến hết bản tin"}, headers=sup
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["active"] is True and body["manual"] is True
    taken, entered = body["history"][:2]
    assert (taken["active"], taken["manual"], taken["user_id"]) == (True, True, me)
    assert taken["reason"] == "Giữ đến hết bản tin"
    assert (entered["active"], entered["manual"]) == (True, False)
    assert body["since"] == entered["at"]  # the same surge, not a new entry
    # Nobody is alerted a second time of it.
    assert len((await client.get("/api/v1/staffing/notices", headers=sup)).json()["items"]) == told
    # The queue recovers: the sweep leaves the supervisor's surge on.
    async with state.unit_of_work() as session:
        record_event(session, _queue_event(0, utcnow()))
    async with state.unit_of_work() as session:
        assert await check_surge(session, rules=RULES, now=utcnow()) is None
        assert await surge_active(session)
    r = await client.put("/api/v1/surge", json={"active": False}, headers=sup)
    assert r.json()["active"] is False and r.json()["manual"] is True


async def test_a_reserve_volunteer_is_not_texted_of_each_entry_within_the_interval(
    app, client, world
) -> None:
    volunteer = await _volunteer(client, world, "Nguyễn Văn An", "0912000701", reserve=True)
    sup = world.auth("supervisor")
    for active in (True, False, True):
        r = await client.put("/api/v1/surge", json={"active": active}, headers=sup)
        assert r.status_code == 200 and r.json()["active"] is active, r.text
    notices = (await client.get("/api/v1/staffing/notices", headers=sup)).json()["items"]
    entries = sorted({n["surge_change_id"] for n in notices})
    assert len(entries) == 2
    me = (await client.get("/api/v1/users/me", headers=sup)).json()["id"]
    # Leads are told of each entry; the volunteer of the first only (default: 60 minutes).
    assert sorted(n["surge_change_id"] for n in notices if n["user_id"] == me) == entries
    told = [n["surge_change_id"] for n in notices if n["volunteer_id"] == volunteer]
    assert told == entries[:1]
    # With no interval, the second entry alerts them too.
    async with app.state.hotline.unit_of_work() as session:
        second = await session.get(SurgeChange, entries[1])
        assert second is not None
        assert await alert_surge(session, change=second, renotify=timedelta(0)) == 1
