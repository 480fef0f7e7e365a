"""Surge mode reads the operator queue only (callers waiting for the consult doctors do not
make the operators' line overloaded), and a supervisor's switch-off holds against the sweep
even when surge mode was already off, answered the same however often it is sent."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from hotline.db import utcnow
from hotline.events import DomainEvent, record_event
from hotline.staffing.surge import SurgeRules, check_surge, surge_active

pytestmark = pytest.mark.anyio
RULES = SurgeRules(waiting=10, longest_wait=120, min_minutes=10)


def _queues_event(queues: dict[str, tuple[int, datetime]]) -> DomainEvent:
    return DomainEvent(
        kind="queue.changed",
        data={
            "instance": "line-1",
            "heartbeat_seconds": 5.0,
            "queues": {
                name: {"waiting": n, "oldest_at": oldest.isoformat()}
                for name, (n, oldest) in queues.items()
            },
        },
    )


async def _record(app: Any, queues: dict[str, tuple[int, datetime]]) -> None:
    async with app.state.hotline.unit_of_work() as session:
        record_event(session, _queues_event(queues))


async def test_a_long_wait_in_the_doctors_queue_does_not_start_the_operators_surge(
    app, client, world
) -> None:
    now = utcnow()
    # One caller has waited ten minutes for a consult doctor; the operator queue has one
    # caller who just arrived.
    await _record(
        app,
        {"doctor": (1, now - timedelta(minutes=10)), "operator": (1, now - timedelta(seconds=5))},
    )
    async with app.state.hotline.unit_of_work() as session:
        assert await check_surge(session, rules=RULES, now=utcnow()) is None
        assert not await surge_active(session)
    body = (await client.get("/api/v1/surge", headers=world.auth("supervisor"))).json()
    assert body["figures"]["waiting"] == 1
    assert body["figures"]["longest_wait_seconds"] < 60
    # Only the doctors' queue has callers: no operator-queue wait at all.
    await _record(app, {"doctor": (3, now - timedelta(minutes=10))})
    body = (await client.get("/api/v1/surge", headers=world.auth("supervisor"))).json()
    assert (body["figures"]["waiting"], body["figures"]["longest_wait_seconds"]) == (0, 0)
    # The same wait in the operator queue does.
    await _record(app, {"operator": (1, now - timedelta(minutes=10))})
    async with app.state.hotline.unit_of_work() as session:
        change = await check_surge(session, rules=RULES, now=utcnow())
        assert change is not None and change.reason == "longest_wait"


async def test_switching_off_a_surge_already_off_holds_the_sweep_off_and_answers_the_same(
    app, client, world
) -> None:
    sup = world.auth("supervisor")
    first = await client.put(
        "/api/v1/surge", json={"active": False, "reason": "Đã đủ người"}, headers=sup
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["active"] is False and body["manual"] is True
    assert body["held_until"] is not None
    [held] = body["history"]
    assert (held["active"], held["manual"], held["reason"]) == (False, True, "Đã đủ người")
    # Sent again: nothing new is recorded, the answer is the same.
    again = await client.put("/api/v1/surge", json={"active": False}, headers=sup)
    assert again.status_code == 200
    assert {k: v for k, v in again.json().items() if k != "figures"} == {
        k: v for k, v in body.items() if k != "figures"
    }
    # The queue passes a threshold: the sweep does not enter while the switch-off holds...
    await _record(app, {"operator": (12, utcnow() - timedelta(seconds=30))})
    async with app.state.hotline.unit_of_work() as session:
        assert await check_surge(session, rules=RULES, now=utcnow()) is None
        assert not await surge_active(session)
    # ...and enters once it has run out (here: a hold of no minutes).
    async with app.state.hotline.unit_of_work() as session:
        change = await check_surge(session, rules=SurgeRules(min_minutes=0), now=utcnow())
        assert change is not None and change.active and not change.manual


async def test_the_sweeps_own_exit_is_not_a_hold_but_a_supervisors_switch_off_is(
    app, client, world
) -> None:
    sup = world.auth("supervisor")
    r = await client.put("/api/v1/surge", json={"active": True}, headers=sup)
    assert r.json()["held_until"] is None  # switched on: held until switched off
    r = await client.put("/api/v1/surge", json={"active": False}, headers=sup)
    body = r.json()
    assert body["active"] is False and body["manual"] is True and body["held_until"]
    assert [h["active"] for h in body["history"]] == [False, True]
    # The same switch-off again changes nothing.
    r = await client.put("/api/v1/surge", json={"active": False}, headers=sup)
    assert [h["active"] for h in r.json()["history"]] == [False, True]
    assert r.json()["held_until"] == body["held_until"]
