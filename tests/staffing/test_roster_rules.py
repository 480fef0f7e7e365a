"""Who may hold a place on the roster (the people the operator queue rings), the line never
left silent by the roster, the days the roster and the forecast accept, the shift counts
an operator reads, swap requests that repeat or lose their place, and each refusal naming
its own action."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from hotline.auth.service import create_user
from hotline.db import utcnow
from hotline.staffing.models import RosterEntry
from hotline.staffing.service import ringable
from tests.conftest import PASSWORD, SITE_TZ, site_today
from tests.staffing.test_roster import _shift

pytestmark = pytest.mark.anyio


async def _me(client: Any, world: Any, who: str) -> int:
    r = await client.get("/api/v1/users/me", headers=world.auth(who))
    assert r.status_code == 200, r.text
    return int(r.json()["id"])


async def _running_shift(client: Any, world: Any) -> tuple[date, dict[str, Any]]:
    """The default shift running now (site time) and the day it started."""
    now = datetime.now(SITE_TZ)
    code = "sang" if 6 <= now.hour < 14 else "chieu" if 14 <= now.hour < 22 else "dem"
    day = now.date() - timedelta(days=1) if now.hour < 6 else now.date()
    return day, await _shift(client, world, code)


async def volunteer_id(client: Any, world: Any, phone: str) -> int:
    """The id of the live offer of `phone` (the sign-up does not say it)."""
    r = await client.get(
        "/api/v1/volunteers", params={"phone": phone}, headers=world.auth("supervisor")
    )
    assert r.status_code == 200, r.text
    return int(r.json()["items"][0]["id"])


async def _volunteer(client: Any, world: Any, phone: str) -> int:
    r = await client.post(
        "/api/v1/public/volunteers", json={"full_name": "Hà Văn Tú", "phone": phone}
    )
    assert r.status_code == 202, r.text
    return await volunteer_id(client, world, phone)


async def _available(client: Any, world: Any, who: str) -> None:
    r = await client.put(
        "/api/v1/agents/me/status", json={"status": "available"}, headers=world.auth(who)
    )
    assert r.status_code == 200, r.text


async def test_only_the_operator_queues_call_takers_hold_places_on_the_roster(
    client, world
) -> None:
    sup, op = world.auth("supervisor"), world.auth("operator")
    doctor, officer, admin = [await _me(client, world, w) for w in ("doctor", "officer", "admin")]
    operator = await _me(client, world, "operator")
    day = site_today() + timedelta(days=2)
    morning = await _shift(client, world, "sang")
    for user in (doctor, officer, admin):
        r = await client.post(
            "/api/v1/roster",
            json={"day": str(day), "shift_id": morning["id"], "user_id": user},
            headers=sup,
        )
        assert r.status_code == 422 and r.json()["field"] == "user_id", r.text
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": morning["id"], "user_id": operator},
        headers=sup,
    )
    assert r.status_code == 201, r.text
    entry = r.json()["id"]
    # A place cannot be handed to a ward officer, nor to a doctor.
    for user in (officer, doctor):
        r = await client.post(
            f"/api/v1/roster/{entry}/swaps", json={"to_user_id": user}, headers=op
        )
        assert r.status_code == 422 and r.json()["field"] == "to_user_id", r.text
    assert (await client.get("/api/v1/swaps", headers=sup)).json()["items"] == []
    # A volunteer's account must be an operator's, and one volunteer's only.
    first = await _volunteer(client, world, "0912000501")
    r = await client.post(
        f"/api/v1/volunteers/{first}/approve", json={"user_id": officer}, headers=sup
    )
    assert r.status_code == 422 and r.json()["field"] == "user_id", r.text
    r = await client.post(
        f"/api/v1/volunteers/{first}/approve", json={"user_id": operator}, headers=sup
    )
    assert r.status_code == 200 and r.json()["user_id"] == operator, r.text
    second = await _volunteer(client, world, "0912000502")
    r = await client.post(
        f"/api/v1/volunteers/{second}/approve", json={"user_id": operator}, headers=sup
    )
    assert r.status_code == 409 and r.json()["field"] == "user_id", r.text
    listed = (await client.get("/api/v1/volunteers?status=pending", headers=sup)).json()["items"]
    assert [v["id"] for v in listed] == [second]


async def test_with_nobody_rostered_on_the_line_the_queue_rings_who_is_at_work(
    app, client, world
) -> None:
    state = app.state.hotline
    doctor, operator = await _me(client, world, "doctor"), await _me(client, world, "operator")
    day, shift = await _running_shift(client, world)
    # A doctor's place kept from before the roster refused them, the doctor on the line.
    async with state.unit_of_work() as session:
        session.add(RosterEntry(day=day, shift_id=shift["id"], user_id=doctor))
    await _available(client, world, "doctor")
    async with state.unit_of_work() as session:
        assert await ringable(session, now=utcnow()) == frozenset()  # nobody at work
    # The operator on the shift but away: nobody rostered can answer, nobody is at work.
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": shift["id"], "user_id": operator},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    async with state.unit_of_work() as session:
        assert await ringable(session, now=utcnow()) == frozenset()
    # Once they are on the line (clocked in by it), the queue rings the roster's people.
    await _available(client, world, "operator")
    async with state.unit_of_work() as session:
        assert await ringable(session, now=utcnow()) == {operator}


async def test_days_out_of_range_are_refused_naming_the_field(client, world) -> None:
    sup = world.auth("supervisor")
    for path, field in (
        ("/api/v1/staffing/forecast?date=9999-12-31", "date"),
        ("/api/v1/staffing/forecast?date=0001-01-01", "date"),
        ("/api/v1/roster?from=9999-12-25&to=9999-12-31", "from"),
        ("/api/v1/roster?from=2026-12-25&to=2101-01-01", "to"),
    ):
        r = await client.get(path, headers=sup)
        assert r.status_code == 422 and r.json()["field"] == field, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.post(
        "/api/v1/roster/copy-week",
        json={"source": "2026-12-06", "target": "9999-12-30"},
        headers=sup,
    )
    assert r.status_code == 422 and r.json()["field"] == "target", r.text
    morning = await _shift(client, world, "sang")
    r = await client.post(
        "/api/v1/roster",
        json={
            "day": "9999-12-31",
            "shift_id": morning["id"],
            "user_id": await _me(client, world, "operator"),
        },
        headers=sup,
    )
    assert r.status_code == 422 and r.json()["field"] == "day", r.text


async def test_an_operator_reads_how_many_people_each_shift_has(client, world) -> None:
    sup, op = world.auth("supervisor"), world.auth("operator")
    day = site_today() + timedelta(days=4)
    morning = await _shift(client, world, "sang")
    for who in ("operator", "supervisor"):
        r = await client.post(
            "/api/v1/roster",
            json={
                "day": str(day),
                "shift_id": morning["id"],
                "user_id": await _me(client, world, who),
            },
            headers=sup,
        )
        assert r.status_code == 201, r.text
    mine = (await client.get(f"/api/v1/roster?from={day}&to={day}", headers=op)).json()
    shift = next(s for s in mine["shifts"] if s["code"] == "sang")
    assert shift["rostered"] == 2 and shift["needed"] == 6
    assert [p["user_id"] for p in shift["people"]] == [await _me(client, world, "operator")]


async def test_the_forecast_counts_only_the_people_the_operator_queue_rings(
    app, client, world
) -> None:
    sup = world.auth("supervisor")
    target = site_today() + timedelta(days=2)
    morning = await _shift(client, world, "sang")
    # The operator, a volunteer without an account, and a doctor's place kept from before.
    volunteer = await _volunteer(client, world, "0912000601")
    r = await client.post(f"/api/v1/volunteers/{volunteer}/approve", headers=sup)
    assert r.status_code == 200, r.text
    for person in ({"user_id": await _me(client, world, "operator")}, {"volunteer_id": volunteer}):
        r = await client.post(
            "/api/v1/roster",
            json={"day": str(target), "shift_id": morning["id"], **person},
            headers=sup,
        )
        assert r.status_code == 201, r.text
    async with app.state.hotline.unit_of_work() as session:
        session.add(
            RosterEntry(
                day=target, shift_id=morning["id"], user_id=await _me(client, world, "doctor")
            )
        )
    roster = (await client.get(f"/api/v1/roster?from={target}&to={target}", headers=sup)).json()
    assert next(s for s in roster["shifts"] if s["code"] == "sang")["rostered"] == 3
    r = await client.get(f"/api/v1/staffing/forecast?date={target}", headers=sup)
    assert r.status_code == 200, r.text
    rostered = [s["agents_rostered"] for s in r.json()["slots"]]
    assert rostered == [0] * 12 + [1] * 16 + [0] * 20  # 06:00-14:00: the operator only


async def test_a_swap_is_asked_once_and_an_approved_one_cancels_the_others(
    app, client, world
) -> None:
    async with app.state.hotline.unit_of_work() as session:
        other = await create_user(session, username="operator2", password=PASSWORD, role="operator")
        other_id = other.id
    sup, op = world.auth("supervisor"), world.auth("operator")
    supervisor = await _me(client, world, "supervisor")
    day = site_today() + timedelta(days=5)
    morning = await _shift(client, world, "sang")
    r = await client.post(
        "/api/v1/roster",
        json={
            "day": str(day),
            "shift_id": morning["id"],
            "user_id": await _me(client, world, "operator"),
        },
        headers=sup,
    )
    entry = r.json()["id"]
    path = f"/api/v1/roster/{entry}/swaps"
    first = await client.post(path, json={"to_user_id": supervisor}, headers=op)
    assert first.status_code == 201, first.text
    again = await client.post(path, json={"to_user_id": supervisor, "reason": "Ốm"}, headers=op)
    assert again.status_code == 409 and again.json()["field"] == "to_user_id", again.text
    second = await client.post(path, json={"to_user_id": other_id}, headers=op)
    assert second.status_code == 201, second.text
    # Both colleagues accept; the supervisor approves one.
    r = await client.post(f"/api/v1/swaps/{first.json()['id']}/accept", headers=sup)
    assert r.status_code == 200, r.text
    token = await client.post(
        "/api/v1/auth/token", data={"username": "operator2", "password": PASSWORD}
    )
    other_auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    r = await client.post(f"/api/v1/swaps/{second.json()['id']}/accept", headers=other_auth)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/swaps/{second.json()['id']}/approve", headers=sup)
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    swaps = {s["id"]: s for s in (await client.get("/api/v1/swaps", headers=sup)).json()["items"]}
    assert swaps[first.json()["id"]]["status"] == "cancelled"
    assert swaps[first.json()["id"]]["decided_at"] is not None
    r = await client.post(f"/api/v1/swaps/{first.json()['id']}/approve", headers=sup)
    assert r.status_code == 409, r.text
    assert (await client.get("/api/v1/swaps?status=requested", headers=sup)).json()["items"] == []
    after = (await client.get(f"/api/v1/roster?from={day}&to={day}", headers=sup)).json()
    people = next(s for s in after["shifts"] if s["code"] == "sang")["people"]
    assert [p["user_id"] for p in people] == [other_id]


async def test_each_staffing_refusal_names_its_own_action(client, world) -> None:
    op = world.auth("operator")
    refused = {
        "forecast": await client.get(f"/api/v1/staffing/forecast?date={site_today()}", headers=op),
        "surge": await client.put("/api/v1/surge", json={"active": True}, headers=op),
        "copy": await client.post(
            "/api/v1/roster/copy-week",
            json={"source": "2026-12-06", "target": "2026-12-13"},
            headers=op,
        ),
        "volunteers": await client.get("/api/v1/volunteers", headers=op),
        "swap": await client.post("/api/v1/swaps/1/approve", headers=op),
    }
    assert {k: r.status_code for k, r in refused.items()} == dict.fromkeys(refused, 403)
    details = {k: r.json()["detail"] for k, r in refused.items()}
    assert len(set(details.values())) == len(details), details
    assert "dự báo" in details["forecast"] and "quá tải" in details["surge"]
