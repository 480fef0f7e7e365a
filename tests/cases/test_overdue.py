"""Escalation of forwardings past their deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hotline.cases.deadlines import mark_overdue
from hotline.cases.models import CaseAssignment
from hotline.db import utcnow
from tests.cases.helpers import create, events, forward, get, ok
from tests.conftest import live_events, site_today

pytestmark = pytest.mark.anyio


async def _make_late(app, assignment_id: int) -> None:
    async with app.state.hotline.sessionmaker() as session, session.begin():
        await session.execute(
            update(CaseAssignment)
            .where(CaseAssignment.id == assignment_id)
            .values(due_at=utcnow() - timedelta(hours=3))
        )


async def _mark(app) -> int:
    async with app.state.hotline.unit_of_work() as session:
        return await mark_overdue(session)


async def _summary_units(client, world) -> dict[str, dict]:
    today = site_today()
    r = await client.get(
        "/api/v1/reports/summary",
        params={"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    return {row["unit"]: row for row in r.json()["units"]}


async def test_mark_overdue_flags_past_due_forwarding_once(app, client, world):
    late = (await create(client, world))["code"]
    on_time = (await create(client, world))["code"]
    late_assignment = await forward(client, world, late, "ward_a", deadline_hours=1)
    await forward(client, world, on_time, "ward_b", deadline_hours=1)
    await _make_late(app, late_assignment["id"])

    assert await _mark(app) == 1
    assert await _mark(app) == 0

    kinds = [e["kind"] for e in await events(client, world, late)]
    assert kinds.count("overdue") == 1
    overdue_event = next(e for e in await events(client, world, late) if e["kind"] == "overdue")
    assert overdue_event["unit_id"] == world.units["ward_a"]
    assert overdue_event["actor_id"] is None
    assert "overdue" not in [e["kind"] for e in await events(client, world, on_time)]

    detail = await get(client, world, late)
    assert detail["assignments"][0]["overdue"] is True
    assert (await get(client, world, on_time))["assignments"][0]["overdue"] is False
    async with app.state.hotline.sessionmaker() as session:
        flagged = await session.scalar(
            select(CaseAssignment.overdue_at).where(CaseAssignment.id == late_assignment["id"])
        )
    assert flagged is not None

    units = await _summary_units(client, world)
    assert units["UB-00004"]["overdue"] == 1
    assert units["UB-00004"]["received"] == 1
    assert units["UB-00008"]["overdue"] == 0


async def test_mark_overdue_ignores_finished_forwardings(app, client, world):
    code = (await create(client, world))["code"]
    assignment = await forward(client, world, code, "ward_a", deadline_hours=1)
    await ok(client, world, "officer", code, "resolve", {"answer": "Đã xử lý"})
    await _make_late(app, assignment["id"])
    assert await _mark(app) == 0
    assert "overdue" not in [e["kind"] for e in await events(client, world, code)]
    assert (await _summary_units(client, world))["UB-00004"]["overdue"] == 0


async def test_mark_overdue_publishes_escalation_event_for_the_unit(app, client, world):
    code = (await create(client, world))["code"]
    assignment = await forward(client, world, code, "ward_a", deadline_hours=1)
    await _make_late(app, assignment["id"])
    async with live_events(app) as queue:
        assert await _mark(app) == 1
        await app.state.hotline.feed.sync()
        got = []
        while not queue.empty():
            got.append(queue.get_nowait())
    assert [(e.kind, e.case_code) for e in got] == [("case.overdue", code)]
    assert world.units["ward_a"] in got[0].unit_ids
