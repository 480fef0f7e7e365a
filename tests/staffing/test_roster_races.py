"""Requests that race each other on the roster and the clock: clock-ins sent at once, two
approvals of swaps for one place or one colleague, operators filling the last places of a
shift at once. Each request is its own transaction (on PostgreSQL its own connection, all
running at the same time); the answers are those the same requests get one after another."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hotline.auth.service import create_user
from hotline.db import utcnow
from hotline.staffing.models import ShiftClock
from tests.conftest import PASSWORD, site_today
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me

pytestmark = pytest.mark.anyio


async def _operators(app: Any, client: Any, count: int) -> list[tuple[int, dict[str, str]]]:
    """`count` more operators: (user id, auth headers) each."""
    async with app.state.hotline.unit_of_work() as session:
        users = [
            await create_user(session, username=f"dtv{i}", password=PASSWORD, role="operator")
            for i in range(count)
        ]
        ids = [u.id for u in users]
    out = []
    for i, user_id in enumerate(ids):
        r = await client.post(
            "/api/v1/auth/token", data={"username": f"dtv{i}", "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        out.append((user_id, {"Authorization": f"Bearer {r.json()['access_token']}"}))
    return out


async def _open_clock_rows(app: Any, user_id: int) -> int:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(ShiftClock)
                .where(ShiftClock.user_id == user_id, ShiftClock.out_at.is_(None))
            )
            or 0
        )


async def _let_in(client: Any, world: Any, user_id: int) -> None:
    r = await client.put(
        "/api/v1/roster/off-shift",
        json={"user_id": user_id, "minutes": 60, "reason": "Thiếu người"},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text


async def test_clock_ins_sent_at_once_open_one_clock_row_and_answer_alike(
    app, client, world
) -> None:
    # Fresh operators: neither a clock row nor an availability row exists yet.
    people = await _operators(app, client, 3)
    for user_id, _ in people:
        await _let_in(client, world, user_id)
    answers = await asyncio.gather(
        *(
            client.post("/api/v1/shifts/clock/in", headers=headers)
            for _, headers in people
            for _ in range(4)
        )
    )
    assert [a.status_code for a in answers] == [200] * len(answers), [a.text for a in answers]
    for user_id, headers in people:
        theirs = [a.json() for a in answers if a.json()["user_id"] == user_id]
        assert len({a["in_at"] for a in theirs}) == 1, theirs
        assert await _open_clock_rows(app, user_id) == 1
        # One clock-out closes the day: nothing is left open behind it.
        r = await client.post("/api/v1/shifts/clock/out", headers=headers)
        assert r.status_code == 200, r.text
        r = await client.post("/api/v1/shifts/clock/out", headers=headers)
        assert r.status_code == 409 and r.json()["field"] == "clock", r.text


async def test_a_first_clock_in_and_status_changes_sent_at_once_all_succeed(
    app, client, world
) -> None:
    people = await _operators(app, client, 3)
    for user_id, _ in people:
        await _let_in(client, world, user_id)
    answers = await asyncio.gather(
        *(
            request
            for _, headers in people
            for request in (
                client.put(
                    "/api/v1/agents/me/status", json={"status": "available"}, headers=headers
                ),
                client.post("/api/v1/shifts/clock/in", headers=headers),
                client.put(
                    "/api/v1/agents/me/status", json={"status": "available"}, headers=headers
                ),
            )
        )
    )
    assert [a.status_code for a in answers] == [200] * len(answers), [a.text for a in answers]
    for _, headers in people:
        r = await client.get("/api/v1/agents/me", headers=headers)
        assert r.status_code == 200 and r.json()["status"] == "available", r.text


async def test_the_database_holds_one_open_clock_row_per_person(app, client, world) -> None:
    operator = await _me(client, world, "operator")
    async with app.state.hotline.unit_of_work() as session:
        session.add(ShiftClock(user_id=operator, in_at=utcnow() - timedelta(hours=2)))
        session.add(ShiftClock(user_id=operator, in_at=utcnow()))
        with pytest.raises(IntegrityError):
            await session.flush()
    async with app.state.hotline.unit_of_work() as session:
        # Closed rows are the record of past days: any number of them.
        now = utcnow()
        for hours in (3, 2, 1):
            session.add(
                ShiftClock(
                    user_id=operator,
                    in_at=now - timedelta(hours=hours),
                    out_at=now - timedelta(hours=hours - 1),
                )
            )
        session.add(ShiftClock(user_id=operator, in_at=now))
        await session.flush()


async def _place(client: Any, world: Any, day: str, shift_id: int, user_id: int) -> int:
    r = await client.post(
        "/api/v1/roster",
        json={"day": day, "shift_id": shift_id, "user_id": user_id},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _ask(client: Any, entry: int, to_user_id: int, headers: dict[str, str]) -> int:
    r = await client.post(
        f"/api/v1/roster/{entry}/swaps", json={"to_user_id": to_user_id}, headers=headers
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _accepted(
    client: Any, entry: int, to_user_id: int, mate: dict[str, str], headers: dict[str, str]
) -> int:
    """A swap asked for and accepted by the colleague: ready for a supervisor."""
    swap = await _ask(client, entry, to_user_id, headers)
    r = await client.post(f"/api/v1/swaps/{swap}/accept", headers=mate)
    assert r.status_code == 200, r.text
    return swap


async def _holders(client: Any, world: Any, day: str, shift_id: int) -> list[int]:
    r = await client.get(
        "/api/v1/roster", params={"from": day, "to": day}, headers=world.auth("supervisor")
    )
    assert r.status_code == 200, r.text
    shift = next(s for s in r.json()["shifts"] if s["shift_id"] == shift_id)
    return sorted(p["user_id"] for p in shift["people"])


async def test_two_swaps_of_one_place_approved_at_once_move_it_once(app, client, world) -> None:
    sup, op = world.auth("supervisor"), world.auth("operator")
    operator = await _me(client, world, "operator")
    colleagues = await _operators(app, client, 2)
    morning = await _shift(client, world, "sang")
    # Several places, each with two requests accepted: approved all at once.
    rounds = []
    for days in range(2, 6):
        day = str(site_today() + timedelta(days=days))
        entry = await _place(client, world, day, morning["id"], operator)
        asked = [await _accepted(client, entry, c, h, op) for c, h in colleagues]
        rounds.append((day, asked))
    answers = await asyncio.gather(
        *(
            client.post(f"/api/v1/swaps/{swap}/approve", headers=sup)
            for _, swaps in rounds
            for swap in swaps
        )
    )
    texts = [a.text for a in answers]
    for i, (day, swaps) in enumerate(rounds):
        pair = answers[2 * i : 2 * i + 2]
        assert sorted(a.status_code for a in pair) == [200, 409], texts
        won = next(a for a in pair if a.status_code == 200).json()
        lost = next(a for a in pair if a.status_code == 409)
        assert lost.headers["content-type"].startswith("application/problem+json")
        assert lost.json()["field"] == "swap_id", lost.text
        assert await _holders(client, world, day, morning["id"]) == [won["to_user_id"]]
        r = await client.get("/api/v1/swaps", params={"limit": 50}, headers=sup)
        status = {s["id"]: s["status"] for s in r.json()["items"]}
        assert sorted(status[s] for s in swaps) == ["approved", "cancelled"], status


async def test_swaps_handing_two_places_to_one_colleague_at_once_give_them_one(
    app, client, world
) -> None:
    sup = world.auth("supervisor")
    (first, first_auth), (second, second_auth), (colleague, mate) = await _operators(app, client, 3)
    morning = await _shift(client, world, "sang")
    rounds = []
    for days in range(2, 5):
        day = str(site_today() + timedelta(days=days))
        swaps = [
            await _accepted(
                client, await _place(client, world, day, morning["id"], user), colleague, mate, h
            )
            for user, h in ((first, first_auth), (second, second_auth))
        ]
        rounds.append((day, swaps))
    answers = await asyncio.gather(
        *(
            client.post(f"/api/v1/swaps/{swap}/approve", headers=sup)
            for _, swaps in rounds
            for swap in swaps
        )
    )
    texts = [a.text for a in answers]
    for i, (day, _) in enumerate(rounds):
        pair = answers[2 * i : 2 * i + 2]
        assert sorted(a.status_code for a in pair) == [200, 409], texts
        lost = next(a for a in pair if a.status_code == 409)
        assert lost.json()["field"] == "swap_id", lost.text
        holders = await _holders(client, world, day, morning["id"])
        assert colleague in holders and len(holders) == 2, holders


async def test_operators_filling_a_shift_at_once_never_pass_its_places(app, client, world) -> None:
    r = await client.put(
        "/api/v1/shifts",
        json={"code": "nho", "name": "Ca nhỏ", "starts_at": "09:00", "hours": 4, "operators": 2},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    shift_id = r.json()["id"]
    people = await _operators(app, client, 6)
    for days in (2, 3):
        day = str(site_today() + timedelta(days=days))
        answers = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/roster",
                    json={"day": day, "shift_id": shift_id, "user_id": user_id},
                    headers=headers,
                )
                for user_id, headers in people
            )
        )
        codes = sorted(a.status_code for a in answers)
        assert codes == [201, 201, 409, 409, 409, 409], [a.text for a in answers]
        for refused in (a for a in answers if a.status_code == 409):
            assert refused.json()["field"] == "shift_id", refused.text
        assert len(await _holders(client, world, day, shift_id)) == 2
