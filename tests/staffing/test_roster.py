"""Roster, swaps, clocking in, the on-shift rule, unfilled-shift alerts, volunteers and
surge mode, through the HTTP API and the services the worker and the line call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from hotline.auth.service import create_user
from hotline.calls.models import Call
from hotline.db import utcnow
from hotline.events import DomainEvent, record_event
from hotline.staffing.jobs import alert_unfilled
from hotline.staffing.service import ringable
from hotline.staffing.surge import SurgeRules, check_surge, surge_active
from hotline.telephony.queue import QueueTiming
from hotline.telephony.routing import QueueRule, timing_for
from tests.conftest import PASSWORD, live_events, site_today

pytestmark = pytest.mark.anyio


async def _ids(client: Any, world: Any) -> dict[str, int]:
    users = (await client.get("/api/v1/agents", headers=world.auth("supervisor"))).json()
    admin = (await client.get("/api/v1/users/me", headers=world.auth("admin"))).json()
    return {"admin": admin["id"], **{u["username"]: u["user_id"] for u in users}}


async def _shift(client: Any, world: Any, code: str) -> dict[str, Any]:
    shifts = (await client.get("/api/v1/shifts", headers=world.auth("operator"))).json()
    return next(s for s in shifts if s["code"] == code)


async def test_operators_see_their_own_places_and_swaps_need_a_supervisor(client, world) -> None:
    ids = await _ids(client, world)
    day = site_today() + timedelta(days=3)
    morning = await _shift(client, world, "sang")
    sup, op = world.auth("supervisor"), world.auth("operator")
    entry = (
        await client.post(
            "/api/v1/roster",
            json={"day": str(day), "shift_id": morning["id"], "user_id": ids["operator"]},
            headers=sup,
        )
    ).json()
    # An operator may not put someone else on a shift.
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": morning["id"], "user_id": ids["supervisor"]},
        headers=op,
    )
    assert r.status_code == 403
    mine = (await client.get(f"/api/v1/roster?from={day}&to={day}", headers=op)).json()
    people = [p["user_id"] for s in mine["shifts"] for p in s["people"]]
    assert people == [ids["operator"]]
    everyone = (await client.get(f"/api/v1/roster?from={day}&to={day}", headers=sup)).json()
    assert len(everyone["shifts"]) == 3
    assert next(s for s in everyone["shifts"] if s["code"] == "sang")["rostered"] == 1
    r = await client.get(f"/api/v1/roster?from={day}&to={day - timedelta(days=1)}", headers=sup)
    assert r.status_code == 422 and "to" in r.json()["detail"] + str(r.json())

    swap = await client.post(
        f"/api/v1/roster/{entry['id']}/swaps",
        json={"to_user_id": ids["supervisor"], "reason": "Ốm"},
        headers=op,
    )
    assert swap.status_code == 201, swap.text
    swap_id = swap.json()["id"]
    assert (await client.post(f"/api/v1/swaps/{swap_id}/approve", headers=op)).status_code == 403
    r = await client.post(f"/api/v1/swaps/{swap_id}/accept", headers=sup)  # the colleague
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/swaps/{swap_id}/approve", headers=sup)
    assert r.json()["status"] == "approved"
    again = await client.post(f"/api/v1/swaps/{swap_id}/reject", headers=sup)
    assert again.status_code == 409
    after = (await client.get(f"/api/v1/roster?from={day}&to={day}", headers=sup)).json()
    morning_people = next(s for s in after["shifts"] if s["code"] == "sang")["people"]
    assert [p["user_id"] for p in morning_people] == [ids["supervisor"]]


async def test_the_queue_rings_only_operators_on_shift_while_a_roster_is_in_force(
    app, client, world
) -> None:
    ids = await _ids(client, world)
    state = app.state.hotline
    now = utcnow()
    async with state.unit_of_work() as session:
        # No roster and nobody at work: nobody is rung (the queue's overflow, its callback).
        assert await ringable(session, now=now) == frozenset()
    sup = world.auth("supervisor")
    shifts = (await client.get("/api/v1/shifts", headers=sup)).json()
    today = site_today()
    for shift in shifts:  # the operator is on every shift of yesterday and today
        for day in (today - timedelta(days=1), today):
            await client.post(
                "/api/v1/roster",
                json={"day": str(day), "shift_id": shift["id"], "user_id": ids["operator"]},
                headers=sup,
            )
    async with state.unit_of_work() as session:
        # Nobody rostered is on the line, nobody clocked in: nobody is rung.
        assert await ringable(session, now=now) == frozenset()
    r = await client.put(
        "/api/v1/agents/me/status", json={"status": "available"}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    async with state.unit_of_work() as session:
        assert await ringable(session, now=now) == {ids["operator"]}
    # The supervisor clocks in off the roster; an override lets another operator be rung too.
    r = await client.post("/api/v1/shifts/clock/in", json={"reason": "Trực thay"}, headers=sup)
    assert r.status_code == 200 and r.json()["out_at"] is None
    me = (await client.get("/api/v1/agents/me", headers=sup)).json()
    assert me["status"] == "available"
    async with state.unit_of_work() as session:
        other = (await create_user(session, username="dtv2", password=PASSWORD, role="operator")).id
    r = await client.put(
        "/api/v1/roster/off-shift",
        json={"user_id": other, "minutes": 30, "reason": "Hỗ trợ giờ cao điểm"},
        headers=sup,
    )
    assert r.status_code == 200
    async with state.unit_of_work() as session:
        assert await ringable(session, now=utcnow()) == {
            ids["operator"],
            ids["supervisor"],
            other,
        }
    await client.post("/api/v1/shifts/clock/out", headers=sup)
    assert (await client.get("/api/v1/agents/me", headers=sup)).json()["status"] == "away"


async def test_a_roster_with_a_hole_alerts_the_supervisors_once(app, client, world) -> None:
    state = app.state.hotline
    now = datetime.now(UTC)
    async with live_events(app) as events:
        async with state.unit_of_work() as session:
            made = await alert_unfilled(session, ahead=timedelta(hours=24), now=now)
        async with state.unit_of_work() as session:
            again = await alert_unfilled(session, ahead=timedelta(hours=24), now=now)
        # Every shift starting within 24 h is empty: 3 of them (or 4 at a boundary), and
        # the one running now.
        assert 4 <= made <= 5 and again == 0
        event = await events.get()
        assert event.kind == "staffing.unfilled"
        assert event.data["rostered"] == 0 and event.data["needed"] == 6


async def test_volunteers_sign_up_and_a_supervisor_approves_them(client, world) -> None:
    body = {
        "full_name": "Trần Văn Bình",
        "phone": "0912 000 333",
        "skills": {"medical": True, "languages": ["vi", "en"], "channels": ["phone", "zalo"]},
    }
    r = await client.post("/api/v1/public/volunteers", json=body)
    assert r.status_code == 202 and r.json()["status"] == "received"
    # A number already signed up is answered exactly as a new one, and kept as an offer
    # of its own (whoever signed up first holds nothing against the number's owner).
    again = await client.post("/api/v1/public/volunteers", json=body)
    assert (again.status_code, again.json()) == (r.status_code, r.json())
    bad = await client.post(
        "/api/v1/public/volunteers",
        json={**body, "phone": "0912000444", "skills": {"channels": ["fax"]}},
    )
    assert bad.status_code == 422 and "skills.channels" in bad.text
    assert (
        await client.get("/api/v1/volunteers", headers=world.auth("operator"))
    ).status_code == 403
    listed = (await client.get("/api/v1/volunteers", headers=world.auth("supervisor"))).json()
    assert len(listed["items"]) == 2 and listed["next_cursor"] is None
    listed = listed["items"]
    assert listed[0]["phone"] == "+84912000333" and listed[0]["skills"]["medical"] is True
    vid = listed[0]["id"]
    day = site_today() + timedelta(days=1)
    night = await _shift(client, world, "dem")
    place = {"day": str(day), "shift_id": night["id"], "volunteer_id": vid}
    sup = world.auth("supervisor")
    assert (await client.post("/api/v1/roster", json=place, headers=sup)).status_code == 422
    r = await client.post(f"/api/v1/volunteers/{vid}/approve", headers=sup)
    assert r.json()["status"] == "approved"
    assert (await client.post("/api/v1/roster", json=place, headers=sup)).status_code == 201
    # The number's other offer is not approved beside it.
    r = await client.post(f"/api/v1/volunteers/{listed[1]['id']}/approve", headers=sup)
    assert r.status_code == 409 and r.json()["field"] == "volunteer_id", r.text


def _queue_event(waiting: int, oldest: datetime) -> DomainEvent:
    return DomainEvent(
        kind="queue.changed",
        data={
            "instance": "line-1",
            "heartbeat_seconds": 5.0,
            "queues": {"operator": {"waiting": waiting, "oldest_at": oldest.isoformat()}},
        },
    )


async def test_surge_mode_enters_on_a_long_queue_and_leaves_when_it_recovers(
    app, client, world
) -> None:
    state = app.state.hotline
    rules = SurgeRules(waiting=10, longest_wait=120, min_minutes=0)
    now = utcnow()
    async with state.unit_of_work() as session:
        assert await check_surge(session, rules=rules, now=now) is None
        record_event(session, _queue_event(12, now - timedelta(seconds=30)))
    async with live_events(app) as events:
        async with state.unit_of_work() as session:
            change = await check_surge(session, rules=rules, now=utcnow())
            assert change is not None and change.reason == "waiting"
        event = await events.get()
        assert event.kind == "staffing.surge" and event.data["active"] is True
        assert event.data["figures"]["waiting"] == 12
    async with state.unit_of_work() as session:
        assert await surge_active(session)
        record_event(session, _queue_event(0, utcnow()))
        # Queue calls of the last 15 minutes: few, so abandonment does not count.
        await session.execute(
            insert(Call),
            [
                {
                    "line": "1022",
                    "caller": "",
                    "started_at": utcnow() - timedelta(minutes=2),
                    "branch": "operator",
                    "outcome": "abandoned_queue",
                    "queue_wait_seconds": 40,
                    "talk_seconds": 0,
                    "menu_path": "4",
                }
            ],
        )
    async with state.unit_of_work() as session:
        change = await check_surge(session, rules=rules, now=utcnow())
        assert change is not None and change.reason == "recovered" and not change.active
    body = (await client.get("/api/v1/surge", headers=world.auth("operator"))).json()
    assert body["active"] is False
    assert [h["active"] for h in body["history"]] == [False, True]
    assert body["history"][1]["figures"]["waiting"] == 12
    assert body["figures"]["offered_15min"] == 1 and body["figures"]["abandoned_15min"] == 1


async def test_a_supervisor_switches_surge_mode_and_the_sweep_leaves_it_on(
    app, client, world
) -> None:
    r = await client.put("/api/v1/surge", json={"active": True}, headers=world.auth("operator"))
    assert r.status_code == 403
    r = await client.put(
        "/api/v1/surge",
        json={"active": True, "reason": "Tin nóng trên truyền hình"},
        headers=world.auth("supervisor"),
    )
    assert r.json()["active"] is True and r.json()["manual"] is True
    async with app.state.hotline.unit_of_work() as session:
        assert await check_surge(session, rules=SurgeRules(min_minutes=0)) is None
        assert await surge_active(session)


def test_in_surge_mode_the_line_offers_the_callback_sooner() -> None:
    timing = QueueTiming(callback_after=60.0)
    assert timing_for(timing, None, None).callback_after == 60.0
    assert timing_for(timing, None, 15.0).callback_after == 15.0
    assert timing_for(timing, QueueRule(callback_after=90.0), None).callback_after == 90.0
    assert timing_for(timing, QueueRule(callback_after=90.0), 15.0).callback_after == 15.0
    # A queue that already offers it sooner keeps its own delay.
    assert timing_for(timing, QueueRule(callback_after=5.0), 15.0).callback_after == 5.0
