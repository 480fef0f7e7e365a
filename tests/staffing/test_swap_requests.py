"""Swap requests: who filed one is recorded, a colleague already on the shift is refused
at once, the reason holds no hidden characters, and a waiting request can be withdrawn by
its holder or whoever filed it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import site_today
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me

pytestmark = pytest.mark.anyio


async def _place(client: Any, world: Any, user_id: int, code: str = "sang") -> int:
    shift = await _shift(client, world, code)
    r = await client.post(
        "/api/v1/roster",
        json={
            "day": str(site_today() + timedelta(days=2)),
            "shift_id": shift["id"],
            "user_id": user_id,
        },
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def test_a_swap_filed_by_a_supervisor_records_who_filed_it(client, world) -> None:
    operator = await _me(client, world, "operator")
    supervisor = await _me(client, world, "supervisor")
    entry = await _place(client, world, operator)
    r = await client.post(
        f"/api/v1/roster/{entry}/swaps",
        json={"to_user_id": supervisor},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    assert (r.json()["requested_by"], r.json()["filed_by"]) == (operator, supervisor)


async def test_a_swap_to_a_colleague_already_on_the_shift_is_refused_at_once(client, world) -> None:
    operator = await _me(client, world, "operator")
    supervisor = await _me(client, world, "supervisor")
    entry = await _place(client, world, operator)
    await _place(client, world, supervisor)
    r = await client.post(
        f"/api/v1/roster/{entry}/swaps",
        json={"to_user_id": supervisor},
        headers=world.auth("operator"),
    )
    assert r.status_code == 409 and r.json()["field"] == "to_user_id", r.text
    listed = (await client.get("/api/v1/swaps", headers=world.auth("operator"))).json()
    assert listed["items"] == []


async def test_a_swap_reason_with_hidden_characters_is_refused(client, world) -> None:
    operator = await _me(client, world, "operator")
    supervisor = await _me(client, world, "supervisor")
    entry = await _place(client, world, operator)
    r = await client.post(
        f"/api/v1/roster/{entry}/swaps",
        json={"to_user_id": supervisor, "reason": "Ốm \u202egnột"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 422 and r.json()["field"] == "reason", r.text
    assert "U+202E" in r.json()["detail"]


async def test_the_requester_withdraws_a_waiting_swap(client, world) -> None:
    op, sup = world.auth("operator"), world.auth("supervisor")
    operator = await _me(client, world, "operator")
    supervisor = await _me(client, world, "supervisor")
    entry = await _place(client, world, operator)
    r = await client.post(
        f"/api/v1/roster/{entry}/swaps", json={"to_user_id": supervisor}, headers=op
    )
    assert r.status_code == 201, r.text
    swap = r.json()["id"]
    # Only its holder (or whoever filed it) takes it back: the admin, who did neither, is
    # answered as if it did not exist.
    r = await client.post(f"/api/v1/swaps/{swap}/withdraw", headers=world.auth("admin"))
    assert r.status_code == 404 and r.json()["field"] == "swap_id", r.text
    r = await client.post(f"/api/v1/swaps/{swap}/withdraw", headers=op)
    assert r.status_code == 200 and r.json()["status"] == "withdrawn", r.text
    r = await client.post(f"/api/v1/swaps/{swap}/withdraw", headers=op)
    assert r.status_code == 409 and r.json()["field"] == "swap_id", r.text
    r = await client.post(f"/api/v1/swaps/{swap}/approve", headers=sup)
    assert r.status_code == 409 and r.json()["field"] == "swap_id", r.text
    # Withdrawn, it no longer stands in the way of the same request again.
    r = await client.post(
        f"/api/v1/roster/{entry}/swaps", json={"to_user_id": supervisor}, headers=op
    )
    assert r.status_code == 201, r.text
