"""The worker's sweep ends a clock-in whose shift (or leave) is over and nobody clocked out:
the clock row closes when its shift ended, and its person, away, is not counted on the line
when rostered again until they say they are available."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from hotline.db import utcnow
from hotline.staffing.checks import shift_span
from hotline.staffing.jobs import sweeps
from hotline.staffing.models import RosterEntry, ShiftClock, ShiftTemplate
from hotline.staffing.service import ringable
from tests.conftest import SITE_TZ
from tests.staffing.test_roster_rules import _me, _running_shift

pytestmark = pytest.mark.anyio


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


async def _sweep(app, settings) -> None:
    """One round of the staffing sweeps, each in its own transaction, as the worker runs
    them."""
    for sweep in sweeps(settings):
        async with app.state.hotline.unit_of_work() as session:
            await sweep(session)


async def _status(client, world) -> str:
    r = await client.get("/api/v1/agents/me", headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    return str(r.json()["status"])


async def _rings(app) -> frozenset[int]:
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        return await ringable(session, now=utcnow())


async def _place(client, world, day, shift_id: int, user_id: int) -> int:
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": shift_id, "user_id": user_id},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def test_a_clock_in_left_open_past_its_shift_is_ended_by_the_sweep(
    app, client, world, settings
) -> None:
    op = world.auth("operator")
    operator = await _me(client, world, "operator")
    day, shift = await _running_shift(client, world)
    entry = await _place(client, world, day, shift["id"], operator)
    r = await client.put("/api/v1/agents/me/status", json={"status": "available"}, headers=op)
    assert r.status_code == 200, r.text
    # The sweep leaves a clock-in its shift still holds alone.
    await _sweep(app, settings)
    assert await _status(client, world) == "available"
    assert operator in await _rings(app)

    # A day passes: the shift worked was yesterday's, and nobody clocked out.
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(
            update(RosterEntry).where(RosterEntry.id == entry).values(day=day - timedelta(days=1))
        )
        row = await session.scalar(select(ShiftClock).where(ShiftClock.user_id == operator))
        assert row is not None
        row.in_at = _aware(row.in_at) - timedelta(days=1)
        template = await session.get(ShiftTemplate, shift["id"])
        assert template is not None
        ended = shift_span(template, day - timedelta(days=1), SITE_TZ)[1]

    await _sweep(app, settings)
    assert await _status(client, world) == "away"
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        rows = (
            await session.scalars(select(ShiftClock).where(ShiftClock.user_id == operator))
        ).all()
    assert len(rows) == 1 and rows[0].out_at is not None
    assert _aware(rows[0].out_at) == ended

    # Rostered again on today's shift, they are not on the line until they say so: nobody
    # rostered is, so the queue rings whoever is at work (nobody here), not them.
    await _place(client, world, day, shift["id"], operator)
    assert operator not in await _rings(app)
    r = await client.put("/api/v1/agents/me/status", json={"status": "available"}, headers=op)
    assert r.status_code == 200, r.text
    assert operator in await _rings(app)
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        rows = (
            await session.scalars(
                select(ShiftClock).where(ShiftClock.user_id == operator).order_by(ShiftClock.id)
            )
        ).all()
    assert [row.out_at is None for row in rows] == [False, True]
