"""Escalation of forwardings past their deadline."""

from __future__ import annotations

import asyncio
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


async def _overdue_codes(client, world) -> set[str]:
    r = await client.get(
        "/api/v1/cases", params={"overdue": "true"}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    return {c["code"] for c in r.json()["items"]}


async def _page_overdue(client, world, code: str) -> bool:
    return any(a["overdue"] for a in (await get(client, world, code))["assignments"])


async def test_case_page_overdue_list_and_sweep_agree(app, client, world):
    """One definition of overdue: what the case page shows, `?overdue=true` lists and the
    worker's sweep escalates are the same forwardings, before and after the sweep."""
    late_pending = (await create(client, world))["code"]
    late_accepted = (await create(client, world))["code"]
    finished_late = (await create(client, world))["code"]
    returned_late = (await create(client, world))["code"]
    on_time = (await create(client, world))["code"]
    ids = {}
    for code in (late_pending, late_accepted, finished_late, returned_late, on_time):
        ids[code] = (await forward(client, world, code, "ward_a", deadline_hours=1))["id"]
    await ok(client, world, "officer", late_accepted, "accept")
    for code in (late_pending, late_accepted, finished_late, returned_late):
        await _make_late(app, ids[code])

    # finished_late and returned_late are escalated while still open, then finished late.
    assert await _mark(app) == 4
    await ok(client, world, "officer", finished_late, "resolve", {"answer": "Đã xử lý"})
    await ok(client, world, "officer", returned_late, "return", {"reason": "Không thuộc phường"})

    expected = {late_pending, late_accepted}
    listed = await _overdue_codes(client, world)
    on_page = {
        c
        for c in (late_pending, late_accepted, finished_late, returned_late, on_time)
        if await _page_overdue(client, world, c)
    }
    assert on_page == expected
    assert listed == expected
    # The finished one keeps when it was escalated, without being overdue any more.
    finished = (await get(client, world, finished_late))["assignments"][0]
    assert finished["overdue"] is False and finished["overdue_at"] is not None

    # A forwarding that falls late after the sweep: page and list call it overdue at once,
    # and the next sweep escalates exactly it.
    fresh = (await create(client, world))["code"]
    fresh_id = (await forward(client, world, fresh, "ward_b", deadline_hours=1))["id"]
    await _make_late(app, fresh_id)
    assert await _page_overdue(client, world, fresh)
    assert fresh in await _overdue_codes(client, world)
    assert await _mark(app) == 1
    assert [e["kind"] for e in await events(client, world, fresh)].count("overdue") == 1
    assert await _overdue_codes(client, world) == expected | {fresh}


async def test_two_sweeps_at_once_flag_and_count_a_late_forwarding_once(
    app, client, world, settings
):
    # `hotline worker --processes 2` runs the sweep in each process: one that finds the
    # forwarding while the other holds it must not flag, count and log it a second time.
    if not settings.effective_database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: the second sweep starts after the first commits")
    late = (await create(client, world))["code"]
    assignment = await forward(client, world, late, "ward_a", deadline_hours=1)
    await _make_late(app, assignment["id"])
    before = sum(u["overdue"] for u in (await _summary_units(client, world)).values())
    async with app.state.hotline.unit_of_work() as first:
        assert await mark_overdue(first) == 1
        second = asyncio.create_task(_mark(app))  # runs while the first is uncommitted
        await asyncio.sleep(0.5)
    assert await second == 0
    kinds = [e["kind"] for e in await events(client, world, late)]
    assert kinds.count("overdue") == 1
    after = sum(u["overdue"] for u in (await _summary_units(client, world)).values())
    assert after == before + 1
