"""Surge mode's figures count the calls offered to the operator queue as the forecast does:
incoming calls only (not the callbacks the line dials), finished ones, not the calls that
came outside opening hours; the mean handle time reads the same calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from hotline.calls.models import Call
from hotline.db import utcnow
from hotline.staffing.surge import expected_wait_seconds, figures

pytestmark = pytest.mark.anyio


def _call(
    ago: int, outcome: str, *, direction: str = "inbound", ended: bool = True, talk: int = 0
) -> dict[str, Any]:
    at = utcnow() - timedelta(minutes=ago)
    answered = outcome == "answered"
    return {
        "line": "1022",
        "caller": "",
        "started_at": at,
        "answered_at": at + timedelta(seconds=5) if answered else None,
        "ended_at": at + timedelta(seconds=5 + talk) if ended else None,
        "menu_path": "4",
        "branch": "operator",
        "queue_wait_seconds": 5,
        "talk_seconds": talk,
        "outcome": outcome,
        "direction": direction,
    }


async def test_callbacks_calls_in_progress_and_after_hours_calls_are_not_offered_calls(
    app, client, world
) -> None:
    rows = [
        _call(3, "abandoned_queue"),
        _call(4, "abandoned_queue"),
        _call(5, "answered", talk=100),
    ]
    # Six callbacks the line dialled and answered, one answered call still in progress and
    # one call outside opening hours: none is a call offered to the queue.
    rows += [_call(2, "answered", direction="outbound", talk=60) for _ in range(6)]
    rows += [_call(1, "answered", ended=False), _call(6, "outside_hours")]
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(insert(Call), rows)
    body = (await client.get("/api/v1/surge", headers=world.auth("supervisor"))).json()
    assert body["figures"]["offered_15min"] == 3
    assert body["figures"]["abandoned_15min"] == 2
    assert body["figures"]["abandonment"] == round(2 / 3, 3)
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        f = await figures(session, now=utcnow())
    assert (f.offered_15min, f.abandoned_15min) == (3, 2)

    # In surge mode a newcomer's expected wait uses the mean talk time of the same calls:
    # the one finished incoming answered call (100 s), nobody waiting, no operator on.
    r = await client.put("/api/v1/surge", json={"active": True}, headers=world.auth("supervisor"))
    assert r.status_code == 200, r.text
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        assert await expected_wait_seconds(session, now=utcnow()) == 100
