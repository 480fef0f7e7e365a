"""A withdrawn volunteer offer's places stay on the roster as the record, but they fill a
shift only where the shift was over before the withdrawal (worked as a volunteer): a shift
running when the offer was withdrawn is not filled by it, the queue no longer rings its
linked account for it, and the account may be put on that shift in its own name."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hotline.db import utcnow
from hotline.staffing.models import RosterEntry
from hotline.staffing.service import ringable
from tests.staffing.test_roster_rules import _available, _me, _running_shift
from tests.staffing.test_volunteer_withdraw import _approved

pytestmark = pytest.mark.anyio


async def _shift_day(client: Any, world: Any, day: Any, code: str) -> dict[str, Any]:
    r = await client.get(
        "/api/v1/roster",
        params={"from": str(day), "to": str(day)},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    return next(s for s in r.json()["shifts"] if s["code"] == code)


async def test_a_withdrawn_offer_fills_only_the_shifts_over_before_it(app, client, world) -> None:
    operator = await _me(client, world, "operator")
    vid = await _approved(client, world, "0912000951", operator)
    day, shift = await _running_shift(client, world)
    past = day - timedelta(days=2)
    async with app.state.hotline.unit_of_work() as session:
        session.add(RosterEntry(day=past, shift_id=shift["id"], volunteer_id=vid))
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": shift["id"], "volunteer_id": vid},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    await _available(client, world, "operator")
    assert (await _shift_day(client, world, day, shift["code"]))["reachable"] == 1

    r = await client.post(f"/api/v1/volunteers/{vid}/withdraw", headers=world.auth("supervisor"))
    assert r.status_code == 200, r.text
    assert r.json()["places_removed"] == 0  # the running shift's place stays, as the record

    running = await _shift_day(client, world, day, shift["code"])
    assert [p["volunteer_id"] for p in running["people"]] == [vid]
    assert (running["rostered"], running["reachable"]) == (0, 0)
    # Worked before the withdrawal: still the record of a filled place.
    worked = await _shift_day(client, world, past, shift["code"])
    assert (worked["rostered"], worked["reachable"]) == (1, 1)
    # The queue no longer rings the account for the withdrawn offer's place: nobody
    # rostered now is on the line, so the queue rings whoever is at work — the account
    # only as someone still clocked in (from its available on the place).
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        assert await ringable(session, now=utcnow()) == {operator}
    # The account may hold the place in its own name.
    r = await client.post(
        "/api/v1/roster",
        json={"day": str(day), "shift_id": shift["id"], "user_id": operator},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    assert (await _shift_day(client, world, day, shift["code"]))["reachable"] == 1
