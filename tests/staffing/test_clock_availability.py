"""Availability on the line is tied to the clock: saying "available" clocks an operator in
on a place running now (or a supervisor's leave) and is refused, naming `status`, with
neither; away is a break (the clock row stays open); clocking out leaves them away. With
nobody rostered on the line, the queue rings only people clocked in or on leave. Each
clock-in is a row of its own (a leave given again after one expired, a later shift), and
a shift retired while it runs keeps ringing its people to its end."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from hotline.agents.service import set_status
from hotline.db import utcnow
from hotline.staffing.models import RingOverride, ShiftClock
from hotline.staffing.service import ringable
from tests.dashboard.helpers import sign_in
from tests.staffing.test_pages import csrf_of
from tests.staffing.test_retired_shift import _body
from tests.staffing.test_roster_rules import _me, _running_shift

pytestmark = pytest.mark.anyio


async def _rings(app: Any) -> frozenset[int] | None:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        return await ringable(session, now=utcnow())


async def _rows(app: Any, user_id: int) -> list[ShiftClock]:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        stmt = select(ShiftClock).where(ShiftClock.user_id == user_id).order_by(ShiftClock.id)
        return list((await session.scalars(stmt)).all())


async def _status(client: Any, headers: dict[str, str], status: str) -> Any:
    return await client.put("/api/v1/agents/me/status", json={"status": status}, headers=headers)


async def _place(client: Any, world: Any, user_id: int) -> int:
    day, shift = await _running_shift(client, world)
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": shift["id"], "user_id": user_id},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    return int(shift["id"])


async def test_available_off_the_roster_is_refused_naming_why(app, client, world) -> None:
    op, sup = world.auth("operator"), world.auth("supervisor")
    operator = await _me(client, world, "operator")
    r = await _status(client, op, "available")
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "status"
    assert "không có tên trong ca trực" in r.json()["detail"]
    assert "cần trưởng ca cho phép" in r.json()["detail"]
    assert (await client.get("/api/v1/agents/me", headers=op)).json()["status"] == "away"
    assert await _rows(app, operator) == []
    # Busy is being on the line too; away (a break, or simply not at work) always works.
    assert (await _status(client, op, "busy")).status_code == 409
    assert (await _status(client, op, "away")).status_code == 200
    # A supervisor off the roster is told to clock in with a reason.
    r = await _status(client, sup, "available")
    assert r.status_code == 409 and r.json()["field"] == "status", r.text
    assert "ghi lý do" in r.json()["detail"]

    # The console's button without JavaScript: the staffing page says why, by its clock form.
    await sign_in(client, "operator")
    board = await client.get("/")
    r = await client.post(
        "/agent-status", data={"status": "available", "csrf": csrf_of(board.text)}
    )
    assert r.status_code == 409
    assert re.search(r'id="clock-error"[^>]*>Bạn không có tên trong ca trực', r.text)


async def test_available_clocks_in_and_away_is_a_break(app, client, world) -> None:
    op = world.auth("operator")
    operator = await _me(client, world, "operator")
    await _place(client, world, operator)
    r = await _status(client, op, "available")
    assert r.status_code == 200 and r.json()["status"] == "available", r.text
    [row] = await _rows(app, operator)
    assert row.out_at is None and row.override_by is None
    rings = await _rings(app)
    assert rings is not None and operator in rings
    # A break: away keeps the row open; back from it, the same row goes on.
    assert (await _status(client, op, "away")).status_code == 200
    assert (await _status(client, op, "available")).status_code == 200
    assert [(r.id, r.out_at) for r in await _rows(app, operator)] == [(row.id, None)]
    # Clocking out ends the row and leaves them away; available again is a new clock-in.
    r = await client.post("/api/v1/shifts/clock/out", headers=op)
    assert r.status_code == 200, r.text
    assert (await client.get("/api/v1/agents/me", headers=op)).json()["status"] == "away"
    assert (await _status(client, op, "available")).status_code == 200
    first, second = await _rows(app, operator)
    assert first.id == row.id and first.out_at is not None and second.out_at is None


async def test_with_nobody_rostered_only_people_at_work_are_rung(app, client, world) -> None:
    sup = world.auth("supervisor")
    operator, supervisor = (
        await _me(client, world, "operator"),
        await _me(client, world, "supervisor"),
    )
    # Available on the board from before, never clocked in: not rung.
    async with app.state.hotline.unit_of_work() as session:
        await set_status(session, user_id=operator, status="available")
    assert await _rings(app) == frozenset()
    # A supervisor clocked in on their stated reason is at work: rung, and only them.
    r = await client.post("/api/v1/shifts/clock/in", json={"reason": "Trực thay"}, headers=sup)
    assert r.status_code == 200, r.text
    assert await _rings(app) == frozenset({supervisor})
    # A supervisor's leave for the operator lets them in too.
    r = await client.put(
        "/api/v1/roster/off-shift",
        json={"user_id": operator, "minutes": 30, "reason": "Thiếu người"},
        headers=sup,
    )
    assert r.status_code == 200, r.text
    assert await _rings(app) == frozenset({supervisor, operator})


async def test_a_leave_given_again_after_it_expired_opens_a_new_clock_row(
    app, client, world
) -> None:
    op, sup = world.auth("operator"), world.auth("supervisor")
    operator = await _me(client, world, "operator")
    leave = {"user_id": operator, "minutes": 30, "reason": "Thiếu người"}
    r = await client.put("/api/v1/roster/off-shift", json=leave, headers=sup)
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/shifts/clock/in", headers=op)
    assert r.status_code == 200, r.text
    [(first, _)] = [(row.id, row.in_at) for row in await _rows(app, operator)]
    # The leave runs out (as if given 40 minutes ago), the row left open.
    expired = utcnow() - timedelta(minutes=10)
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(
            update(RingOverride).where(RingOverride.user_id == operator).values(until=expired)
        )
        await session.execute(
            update(ShiftClock)
            .where(ShiftClock.id == first)
            .values(in_at=expired - timedelta(minutes=20))
        )
    r = await client.put(
        "/api/v1/roster/off-shift", json=leave | {"reason": "Lại thiếu người"}, headers=sup
    )
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/shifts/clock/in", headers=op)
    assert r.status_code == 200, r.text
    assert r.json()["override_reason"] == "Lại thiếu người"
    old, new = await _rows(app, operator)
    # The old row ended when its leave did.
    assert old.id == first and old.out_at == expired and new.out_at is None


async def test_a_row_left_open_from_an_earlier_shift_is_not_carried_on(app, client, world) -> None:
    op = world.auth("operator")
    operator = await _me(client, world, "operator")
    await _place(client, world, operator)
    r = await client.post("/api/v1/shifts/clock/in", headers=op)
    assert r.status_code == 200, r.text
    [first] = [row.id for row in await _rows(app, operator)]
    # As if opened yesterday and never closed: today's shift is a clock-in of its own.
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(
            update(ShiftClock)
            .where(ShiftClock.id == first)
            .values(in_at=utcnow() - timedelta(days=1, hours=2))
        )
    r = await client.post("/api/v1/shifts/clock/in", headers=op)
    assert r.status_code == 200, r.text
    old, new = await _rows(app, operator)
    assert old.id == first and old.out_at is not None and new.out_at is None


async def test_a_shift_retired_while_it_runs_keeps_ringing_its_people(app, client, world) -> None:
    op, sup = world.auth("operator"), world.auth("supervisor")
    operator = await _me(client, world, "operator")
    await _place(client, world, operator)
    assert (await _status(client, op, "available")).status_code == 200
    _, shift = await _running_shift(client, world)
    r = await client.put("/api/v1/shifts", json=_body(shift, False), headers=sup)
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    rings = await _rings(app)
    assert rings is not None and operator in rings
    # Out and back in (a break taken by clocking out): the running place still lets them in.
    assert (await client.post("/api/v1/shifts/clock/out", headers=op)).status_code == 200
    r = await client.post("/api/v1/shifts/clock/in", headers=op)
    assert r.status_code == 200, r.text
    assert r.json()["override_by"] is None


async def test_the_lead_sees_who_is_on_a_break(app, client, world) -> None:
    op = world.auth("operator")
    operator = await _me(client, world, "operator")
    await _place(client, world, operator)
    assert (await _status(client, op, "available")).status_code == 200
    assert (await _status(client, op, "away")).status_code == 200
    await sign_in(client, "supervisor")
    page = (await client.get("/staffing")).text
    row = re.search(rf'<tr data-user="{operator}">.*?</tr>', page, re.S)
    assert row is not None and "Đang nghỉ từ" in row.group(0), page[-3000:]
