"""The case timeline: every change is an event with who, from/to status and why; append-only."""

from __future__ import annotations

import pytest

from tests.cases.helpers import act, create, events, forward, ok

pytestmark = pytest.mark.anyio


async def _user_id(client, world, who: str) -> int:
    r = await client.get("/api/v1/users/me", headers=world.auth(who))
    assert r.status_code == 200, r.text
    return r.json()["id"]


class Timeline:
    """Checks that each step adds exactly the expected events and keeps the older ones intact."""

    def __init__(self, client, world, code: str) -> None:
        self.client, self.world, self.code = client, world, code
        self.seen: list[dict] = []

    async def step(self, count: int = 1) -> list[dict]:
        now = await events(self.client, self.world, self.code)
        assert now[: len(self.seen)] == self.seen, "older timeline entries were rewritten"
        added = now[len(self.seen) :]
        assert len(added) == count, added
        self.seen = now
        return added


async def test_every_step_appends_event_with_actor_status_and_reason(client, world):
    operator = await _user_id(client, world, "operator")
    officer = await _user_id(client, world, "officer")
    code = (await create(client, world))["code"]
    tl = Timeline(client, world, code)

    (created,) = await tl.step()
    assert (created["kind"], created["actor_id"]) == ("created", operator)
    assert (created["from_status"], created["to_status"]) == (None, "new")

    await ok(client, world, "operator", code, "take")
    (taken,) = await tl.step()
    assert (taken["kind"], taken["actor_id"]) == ("taken", operator)
    assert (taken["from_status"], taken["to_status"]) == ("new", "in_progress")

    await forward(client, world, code, "ward_a", note="Nhờ phường xác minh")
    (fwd,) = await tl.step()
    assert (fwd["kind"], fwd["actor_id"], fwd["unit_id"]) == (
        "forwarded",
        operator,
        world.units["ward_a"],
    )
    assert (fwd["from_status"], fwd["to_status"]) == ("in_progress", "forwarded")
    assert fwd["reason"] == "Nhờ phường xác minh"

    await ok(client, world, "officer", code, "accept")
    (acc,) = await tl.step()
    assert (acc["kind"], acc["actor_id"]) == ("accepted", officer)
    assert (acc["from_status"], acc["to_status"]) == ("forwarded", "accepted")

    await ok(client, world, "officer", code, "return", {"reason": "Địa chỉ thuộc phường khác"})
    (ret,) = await tl.step()
    assert (ret["kind"], ret["actor_id"]) == ("returned", officer)
    assert (ret["from_status"], ret["to_status"]) == ("accepted", "in_progress")
    assert ret["reason"] == "Địa chỉ thuộc phường khác"

    await ok(client, world, "operator", code, "resolve", {"answer": "Đã hướng dẫn"})
    (res,) = await tl.step()
    assert (res["kind"], res["actor_id"]) == ("resolved", operator)
    assert (res["from_status"], res["to_status"]) == ("in_progress", "resolved")
    assert res["data"]["answer"] == "Đã hướng dẫn"

    await ok(client, world, "operator", code, "close", {"note": "Đã gọi lại báo"})
    (closed,) = await tl.step()
    assert (closed["kind"], closed["from_status"], closed["to_status"]) == (
        "closed",
        "resolved",
        "closed",
    )
    assert closed["reason"] == "Đã gọi lại báo"

    await ok(client, world, "supervisor", code, "reopen", {"reason": "Người dân gọi lại"})
    (reopened,) = await tl.step()
    assert reopened["kind"] == "reopened"
    assert reopened["actor_id"] == await _user_id(client, world, "supervisor")
    assert (reopened["from_status"], reopened["to_status"]) == ("closed", "in_progress")
    assert reopened["reason"] == "Người dân gọi lại"

    await ok(client, world, "operator", code, "reject", {"reason": "Trùng nội dung, quấy rối"})
    (rej,) = await tl.step()
    assert (rej["kind"], rej["from_status"], rej["to_status"]) == (
        "rejected",
        "in_progress",
        "rejected",
    )
    assert rej["reason"] == "Trùng nội dung, quấy rối"

    ids = [e["id"] for e in tl.seen]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    ats = [e["at"] for e in tl.seen]
    assert ats == sorted(ats)


async def test_edit_appends_event_with_old_and_new_values(client, world):
    code = (await create(client, world))["code"]
    tl = Timeline(client, world, code)
    await tl.step()
    r = await client.patch(
        f"/api/v1/cases/{code}",
        json={"urgent": True, "address": "Số 1 Tràng Tiền"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 200, r.text
    (upd,) = await tl.step()
    assert upd["kind"] == "updated"
    assert upd["actor_id"] == await _user_id(client, world, "operator")
    assert upd["data"]["changes"]["urgent"] == {"from": False, "to": True}
    assert upd["data"]["changes"]["address"] == {
        "from": "Số 12 ngõ 45 Kim Mã",
        "to": "Số 1 Tràng Tiền",
    }
    # An edit that changes nothing is not a change.
    r = await client.patch(
        f"/api/v1/cases/{code}", json={"urgent": True}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    await tl.step(count=0)


async def test_duplicate_writes_events_on_both_cases(client, world):
    original = (await create(client, world))["code"]
    copy = (await create(client, world))["code"]
    tl_orig = Timeline(client, world, original)
    tl_copy = Timeline(client, world, copy)
    await tl_orig.step()
    await tl_copy.step()
    await ok(client, world, "operator", copy, "duplicate", {"original_code": original})
    (marked,) = await tl_copy.step()
    assert (marked["kind"], marked["from_status"], marked["to_status"]) == (
        "marked_duplicate",
        "new",
        "duplicate",
    )
    assert marked["data"]["original"] == original
    (linked,) = await tl_orig.step()
    assert linked["kind"] == "duplicate_linked"
    assert linked["data"]["duplicate"] == copy


async def test_refused_actions_leave_no_event(client, world):
    code = (await create(client, world))["code"]
    tl = Timeline(client, world, code)
    await tl.step()
    assert (await act(client, world, "operator", code, "close")).status_code == 409
    assert (await act(client, world, "operator", code, "reject", {})).status_code == 422
    assert (await act(client, world, "officer", code, "accept")).status_code == 404
    await tl.step(count=0)
