"""A swap names the colleague who takes the place: they accept or decline it first, and a
supervisor approves only what they accepted. Who answered and when is kept; the 12-hour
rest and the 'already on the shift' checks hold at acceptance and again at approval; the
colleague is told live (an event only they and the supervisors see), sees the requests
addressed to them on the API and the page, and answers them there (form token checked)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from hotline.auth.models import Role
from hotline.auth.service import Actor
from hotline.web.sse import visible
from tests.conftest import live_events, site_today
from tests.dashboard.helpers import sign_in
from tests.staffing.test_pages import csrf_of
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_races import _operators
from tests.staffing.test_roster_rules import _me

pytestmark = pytest.mark.anyio
DAY = timedelta(days=3)


async def _place(client: Any, world: Any, user_id: int, code: str, day: Any) -> int:
    shift = await _shift(client, world, code)
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": shift["id"], "user_id": user_id},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _ask(client: Any, world: Any, entry: int, to_user_id: int) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/roster/{entry}/swaps",
        json={"to_user_id": to_user_id, "reason": "Việc gia đình"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _holder(client: Any, world: Any, day: Any, code: str) -> list[int]:
    r = await client.get(f"/api/v1/roster?from={day}&to={day}", headers=world.auth("supervisor"))
    shift = next(s for s in r.json()["shifts"] if s["code"] == code)
    return [p["user_id"] for p in shift["people"]]


async def test_the_colleague_accepts_before_the_supervisor_approves(app, client, world) -> None:
    operator = await _me(client, world, "operator")
    [(mate, mate_auth)] = await _operators(app, client, 1)
    day = site_today() + DAY
    entry = await _place(client, world, operator, "sang", day)
    sup = world.auth("supervisor")
    swap = await _ask(client, world, entry, mate)
    assert swap["status"] == "requested" and swap["answered_by"] is None
    # Not yet the colleague's word: the supervisor cannot approve it.
    r = await client.post(f"/api/v1/swaps/{swap['id']}/approve", headers=sup)
    assert r.status_code == 409 and r.json()["field"] == "swap_id", r.text
    assert "chưa nhận" in r.json()["detail"]
    # The colleague sees it among the requests addressed to them; the holder does not.
    mine = await client.get("/api/v1/swaps?to_me=true", headers=mate_auth)
    assert [s["id"] for s in mine.json()["items"]] == [swap["id"]]
    theirs = await client.get("/api/v1/swaps?to_me=true", headers=world.auth("operator"))
    assert theirs.json()["items"] == []
    # Only the colleague answers it (anyone else: not found).
    for who in ("operator", "supervisor"):
        r = await client.post(f"/api/v1/swaps/{swap['id']}/accept", headers=world.auth(who))
        assert r.status_code == 404, r.text
    r = await client.post(f"/api/v1/swaps/{swap['id']}/accept", headers=mate_auth)
    assert r.status_code == 200, r.text
    accepted = r.json()
    assert (accepted["status"], accepted["answered_by"]) == ("accepted", mate)
    assert accepted["answered_at"] is not None
    assert await _holder(client, world, day, "sang") == [operator]  # not moved yet
    waiting = await client.get("/api/v1/swaps?status=accepted", headers=sup)
    assert [s["id"] for s in waiting.json()["items"]] == [swap["id"]]
    r = await client.post(f"/api/v1/swaps/{swap['id']}/accept", headers=mate_auth)
    assert r.status_code == 409, r.text
    r = await client.post(f"/api/v1/swaps/{swap['id']}/approve", headers=sup)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["answered_by"] == mate
    assert await _holder(client, world, day, "sang") == [mate]


async def test_a_declined_swap_cannot_be_approved(app, client, world) -> None:
    operator = await _me(client, world, "operator")
    [(mate, mate_auth)] = await _operators(app, client, 1)
    day = site_today() + DAY
    entry = await _place(client, world, operator, "sang", day)
    swap = await _ask(client, world, entry, mate)
    r = await client.post(f"/api/v1/swaps/{swap['id']}/decline", headers=mate_auth)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["answered_by"]) == ("declined", mate)
    r = await client.post(f"/api/v1/swaps/{swap['id']}/approve", headers=world.auth("supervisor"))
    assert r.status_code == 409, r.text
    assert await _holder(client, world, day, "sang") == [operator]
    # Declined is an answer: the holder may ask again.
    again = await _ask(client, world, entry, mate)
    assert again["status"] == "requested"


async def test_acceptance_keeps_twelve_hours_rest_and_one_place_a_shift(app, client, world) -> None:
    operator = await _me(client, world, "operator")
    [(mate, mate_auth)] = await _operators(app, client, 1)
    day = site_today() + DAY
    entry = await _place(client, world, operator, "sang", day)
    swap = await _ask(client, world, entry, mate)
    # The colleague already works the night before (22:00 to 06:00): no 12 hours' rest.
    night = await _place(client, world, mate, "dem", day - timedelta(days=1))
    r = await client.post(f"/api/v1/swaps/{swap['id']}/accept", headers=mate_auth)
    assert r.status_code == 409 and r.json()["field"] == "swap_id", r.text
    assert "12 giờ" in r.json()["detail"]
    r = await client.delete(f"/api/v1/roster/{night}", headers=world.auth("supervisor"))
    assert r.status_code in (200, 204), r.text
    # Put on the same shift meanwhile (by a supervisor): one person, one place.
    same = await _place(client, world, mate, "sang", day)
    r = await client.post(f"/api/v1/swaps/{swap['id']}/accept", headers=mate_auth)
    assert r.status_code == 409 and r.json()["field"] == "swap_id", r.text
    r = await client.delete(f"/api/v1/roster/{same}", headers=world.auth("supervisor"))
    assert r.status_code in (200, 204), r.text
    r = await client.post(f"/api/v1/swaps/{swap['id']}/accept", headers=mate_auth)
    assert r.status_code == 200, r.text
    # Accepted, then a supervisor rosters them on the evening before: approval checks again.
    await _place(client, world, mate, "chieu", day - timedelta(days=1))
    r = await client.post(f"/api/v1/swaps/{swap['id']}/approve", headers=world.auth("supervisor"))
    assert r.status_code == 409 and "12 giờ" in r.json()["detail"], r.text
    assert await _holder(client, world, day, "sang") == [operator]


async def test_the_colleague_is_told_and_nobody_else(app, client, world) -> None:
    operator = await _me(client, world, "operator")
    [(mate, mate_auth), (other, _)] = await _operators(app, client, 2)
    entry = await _place(client, world, operator, "sang", site_today() + DAY)
    async with live_events(app) as queue:
        swap = await _ask(client, world, entry, mate)
        r = await client.post(f"/api/v1/swaps/{swap['id']}/accept", headers=mate_auth)
        assert r.status_code == 200, r.text
        await app.state.hotline.feed.sync()
        got = []
        while not queue.empty():
            got.append(queue.get_nowait())
    events = [e for e in got if e.kind == "staffing.swap"]
    assert [e.data["status"] for e in events] == ["requested", "accepted"]

    def actor(user_id: int, role: Role) -> Actor:
        return Actor(user_id=user_id, username=str(user_id), role=role)

    asked, answered = events
    assert visible(actor(mate, Role.OPERATOR), asked)
    assert visible(actor(operator, Role.OPERATOR), answered)
    assert visible(actor(0, Role.SUPERVISOR), answered)
    assert not visible(actor(other, Role.OPERATOR), asked)


async def test_the_colleague_accepts_on_the_page_and_the_supervisor_then_approves(
    app, client, world
) -> None:
    operator = await _me(client, world, "operator")
    [(mate, _)] = await _operators(app, client, 1)
    day = site_today() + DAY
    entry = await _place(client, world, operator, "sang", day)
    swap = await _ask(client, world, entry, mate)
    await sign_in(client, "dtv0")
    page = (await client.get("/staffing")).text
    assert f'id="accept-swap-{swap["id"]}"' in page
    assert f'id="decline-swap-{swap["id"]}"' in page
    assert "Yêu cầu đổi ca gửi bạn" in page
    # Without the form's token nothing changes.
    r = await client.post(f"/staffing/swaps/{swap['id']}/accept", data={})
    assert r.status_code in (400, 403), r.text
    csrf = csrf_of(page)
    r = await client.post(
        f"/staffing/swaps/{swap['id']}/accept", data={"csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    [row] = (await client.get("/api/v1/swaps", headers=world.auth("supervisor"))).json()["items"]
    assert (row["status"], row["answered_by"]) == ("accepted", mate)

    await sign_in(client, "supervisor")
    page = (await client.get("/staffing")).text
    found = re.search(rf'<tr data-swap="{swap["id"]}">(.*?)</tr>', page, re.S)
    assert found and "/approve" in found.group(1) and "Đã nhận" in found.group(1)
    r = await client.post(
        f"/staffing/swaps/{swap['id']}/approve",
        data={"csrf": csrf_of(page)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert await _holder(client, world, day, "sang") == [mate]


async def test_the_supervisor_page_offers_no_approval_before_the_colleague_accepts(
    app, client, world
) -> None:
    operator = await _me(client, world, "operator")
    [(mate, _)] = await _operators(app, client, 1)
    entry = await _place(client, world, operator, "sang", site_today() + DAY)
    swap = await _ask(client, world, entry, mate)
    await sign_in(client, "supervisor")
    page = (await client.get("/staffing")).text
    found = re.search(rf'<tr data-swap="{swap["id"]}">(.*?)</tr>', page, re.S)
    assert found and "Chờ đồng nghiệp nhận" in found.group(1)
    assert "/approve" not in found.group(1) and "/reject" in found.group(1)
