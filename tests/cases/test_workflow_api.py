"""A case's life through the HTTP API: take, forward, accept, return, resolve, close, ..."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.cases.helpers import act, assert_problem, create, events, forward, get, ok
from tests.conftest import site_today

pytestmark = pytest.mark.anyio


async def _forward_hours(client, world, category: str) -> int:
    r = await client.get("/api/v1/categories", headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    return next(c["forward_hours"] for c in r.json() if c["code"] == category)


async def test_operator_takes_new_case_and_becomes_assignee(client, world):
    case = await create(client, world)
    taken = await ok(client, world, "operator", case["code"], "take")
    assert taken["status"] == "in_progress"
    assert taken["assignee_id"] is not None
    assert (await get(client, world, case["code"]))["status"] == "in_progress"


async def test_forward_creates_assignment_due_after_category_forward_hours(client, world):
    case = await create(client, world)
    await ok(client, world, "operator", case["code"], "take")
    before = datetime.now(UTC)
    assignment = await forward(client, world, case["code"], note="Xin phường hỗ trợ gạo")
    after = datetime.now(UTC)
    hours = await _forward_hours(client, world, "ho_tro_kho_khan")
    assert assignment["unit_id"] == world.units["ward_a"]
    assert assignment["status"] == "pending"
    assert assignment["note"] == "Xin phường hỗ trợ gạo"
    due = datetime.fromisoformat(assignment["due_at"])
    assert before + timedelta(hours=hours) <= due + timedelta(seconds=1)
    assert due <= after + timedelta(hours=hours) + timedelta(seconds=1)
    detail = await get(client, world, case["code"])
    assert detail["status"] == "forwarded"
    assert detail["ever_forwarded"] is True
    assert [a["unit_id"] for a in detail["assignments"]] == [world.units["ward_a"]]


async def test_full_life_forward_accept_resolve_close_reopen(client, world):
    code = (await create(client, world))["code"]
    await ok(client, world, "operator", code, "take")
    await forward(client, world, code)
    accepted = await ok(client, world, "officer", code, "accept")
    assert accepted["status"] == "accepted"
    resolved = await ok(client, world, "officer", code, "resolve", {"answer": "Đã trao 20kg gạo"})
    assert resolved["status"] == "resolved"
    assert resolved["answer"] == "Đã trao 20kg gạo"
    assert resolved["resolved_at"] is not None
    detail = await get(client, world, code)
    assert detail["answer"] == "Đã trao 20kg gạo"
    assert detail["assignments"][0]["status"] == "resolved"
    closed = await ok(client, world, "operator", code, "close", {"note": "Đã báo người dân"})
    assert closed["status"] == "closed"
    assert closed["closed_at"] is not None
    reopened = await ok(client, world, "operator", code, "reopen", {"reason": "Chưa nhận được"})
    assert reopened["status"] == "in_progress"
    assert reopened["closed_at"] is None


async def test_reject_requires_reason(client, world):
    code = (await create(client, world))["code"]
    r = await act(client, world, "operator", code, "reject", {})
    assert_problem(r, 422, "reason")
    r = await act(client, world, "operator", code, "reject", {"reason": "   "})
    assert_problem(r, 422, "reason")
    assert (await get(client, world, code))["status"] == "new"
    rejected = await ok(client, world, "operator", code, "reject", {"reason": "Gọi quấy rối"})
    assert rejected["status"] == "rejected"


async def test_reopen_requires_reason(client, world):
    code = (await create(client, world))["code"]
    await ok(client, world, "operator", code, "reject", {"reason": "Gọi quấy rối"})
    assert_problem(await act(client, world, "operator", code, "reopen", {}), 422, "reason")
    assert (await get(client, world, code))["status"] == "rejected"


async def test_duplicate_links_case_to_original(client, world):
    original = (await create(client, world))["code"]
    copy = (await create(client, world))["code"]
    marked = await ok(client, world, "operator", copy, "duplicate", {"original_code": original})
    assert marked["status"] == "duplicate"
    assert marked["duplicate_of"] == original
    assert (await get(client, world, copy))["duplicate_of"] == original
    assert (await get(client, world, original))["duplicates"] == [copy]


async def test_duplicate_of_itself_is_refused(client, world):
    code = (await create(client, world))["code"]
    r = await act(client, world, "operator", code, "duplicate", {"original_code": code})
    assert_problem(r, 422, "original_code")
    assert (await get(client, world, code))["status"] == "new"


async def test_duplicate_of_a_duplicate_links_to_the_root(client, world):
    root = (await create(client, world))["code"]
    second = (await create(client, world))["code"]
    third = (await create(client, world))["code"]
    await ok(client, world, "operator", second, "duplicate", {"original_code": root})
    marked = await ok(client, world, "operator", third, "duplicate", {"original_code": second})
    assert marked["duplicate_of"] == root
    assert sorted((await get(client, world, root))["duplicates"]) == sorted([second, third])


async def test_unit_return_with_reason_goes_back_to_hotline(client, world):
    code = (await create(client, world))["code"]
    await ok(client, world, "operator", code, "take")
    await forward(client, world, code)
    assert_problem(await act(client, world, "officer", code, "return", {}), 422, "reason")
    returned = await ok(client, world, "officer", code, "return", {"reason": "Không thuộc phường"})
    assert returned["status"] == "in_progress"
    detail = await get(client, world, code)
    assert detail["assignments"][0]["status"] == "returned"
    assert detail["assignments"][0]["return_reason"] == "Không thuộc phường"
    # The unit no longer holds it: it can no longer see it, let alone act on it.
    r = await act(client, world, "officer", code, "accept")
    assert_problem(r, 404)


async def test_two_units_case_resolved_only_when_both_resolved(client, world):
    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")
    await forward(client, world, code, "ward_b")
    await ok(client, world, "officer", code, "accept")
    first = await ok(client, world, "officer", code, "resolve", {"answer": "Phường A đã hỗ trợ"})
    assert first["status"] != "resolved"
    assert first["status"] == "forwarded"
    assert (await get(client, world, code))["resolved_at"] is None
    second = await ok(client, world, "outsider", code, "resolve", {"answer": "Phường B đã hỗ trợ"})
    assert second["status"] == "resolved"
    assert "Phường A đã hỗ trợ" in second["answer"]
    assert "Phường B đã hỗ trợ" in second["answer"]


async def test_two_units_one_returns_one_resolves_case_is_resolved(client, world):
    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")
    await forward(client, world, code, "ward_b")
    await ok(client, world, "officer", code, "resolve", {"answer": "Phường A đã hỗ trợ"})
    returned = await ok(client, world, "outsider", code, "return", {"reason": "Không thuộc B"})
    assert returned["status"] == "resolved"
    detail = await get(client, world, code)
    assert detail["status"] == "resolved"
    assert detail["answer"] == "Phường A đã hỗ trợ"
    assert detail["resolved_at"] is not None


async def test_two_units_one_resolves_after_other_returned_is_resolved(client, world):
    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")
    await forward(client, world, code, "ward_b")
    returned = await ok(client, world, "outsider", code, "return", {"reason": "Không thuộc B"})
    assert returned["status"] == "forwarded"
    resolved = await ok(client, world, "officer", code, "resolve", {"answer": "Phường A xong"})
    assert resolved["status"] == "resolved"
    assert resolved["answer"] == "Phường A xong"


async def test_forward_again_after_reopen_return_goes_back_to_hotline(client, world):
    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")
    await ok(client, world, "officer", code, "resolve", {"answer": "Đã hỗ trợ lần 1"})
    await ok(client, world, "operator", code, "close")
    await ok(client, world, "operator", code, "reopen", {"reason": "Người dân báo chưa nhận"})
    await forward(client, world, code, "ward_b")
    returned = await ok(client, world, "outsider", code, "return", {"reason": "Không thuộc B"})
    # The old, finished forwarding of the previous round does not resolve the reopened case.
    assert returned["status"] == "in_progress"


async def test_resolve_after_reopen_keeps_only_the_new_answer(client, world):
    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")
    await ok(client, world, "officer", code, "resolve", {"answer": "Lần 1"})
    await ok(client, world, "operator", code, "reopen", {"reason": "Chưa đủ"})
    await forward(client, world, code, "ward_b")
    resolved = await ok(client, world, "outsider", code, "resolve", {"answer": "Lần 2"})
    assert resolved["status"] == "resolved"
    assert resolved["answer"] == "Lần 2"


async def test_forward_without_category_is_422_on_category(client, world):
    code = (await create(client, world))["code"]
    # Intake always has a category (given or triage's): an operator clears it by hand.
    r = await client.patch(
        f"/api/v1/cases/{code}", json={"category": None}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    r = await act(client, world, "operator", code, "forward", {"unit_id": world.units["ward_a"]})
    assert_problem(r, 422, "category")
    detail = await get(client, world, code)
    assert detail["status"] == "new"
    assert detail["assignments"] == []


async def test_forward_to_unknown_unit_is_422_on_unit_id(client, world):
    code = (await create(client, world))["code"]
    r = await act(client, world, "operator", code, "forward", {"unit_id": 987654})
    assert_problem(r, 422, "unit_id")
    detail = await get(client, world, code)
    assert detail["status"] == "new"
    assert detail["assignments"] == []


async def test_forward_twice_to_same_unit_is_conflict(client, world):
    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")
    r = await act(client, world, "operator", code, "forward", {"unit_id": world.units["ward_a"]})
    assert_problem(r, 409, "unit_id")
    assert len((await get(client, world, code))["assignments"]) == 1


async def test_hotline_answers_directly_counts_as_handled_directly(client, world):
    code = (await create(client, world))["code"]
    resolved = await ok(client, world, "operator", code, "resolve", {"answer": "Hướng dẫn đăng ký"})
    assert resolved["status"] == "resolved"
    assert resolved["answer"] == "Hướng dẫn đăng ký"
    assert resolved["ever_forwarded"] is False
    forwarded = (await create(client, world))["code"]
    await forward(client, world, forwarded)
    today = site_today()
    r = await client.get(
        "/api/v1/reports/summary",
        params={"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["handling"] == {"handled_directly": 1, "forwarded": 1}


async def test_resolve_without_answer_is_422_on_answer(client, world):
    code = (await create(client, world))["code"]
    assert_problem(await act(client, world, "operator", code, "resolve", {}), 422, "answer")
    assert (await get(client, world, code))["status"] == "new"


@pytest.mark.parametrize(
    ("setup", "who", "verb", "body", "status"),
    [
        ([], "operator", "close", None, 409),
        ([], "operator", "accept", None, 409),
        ([("operator", "forward")], "operator", "accept", None, 403),
        ([("operator", "forward")], "operator", "take", None, 409),
        ([("operator", "forward")], "officer", "close", None, 403),
        ([("operator", "forward")], "officer", "reject", {"reason": "x"}, 403),
        ([("operator", "forward")], "operator", "reject", {"reason": "x"}, 409),
        ([("operator", "forward"), ("officer", "accept")], "officer", "accept", None, 409),
        ([("operator", "reject")], "operator", "take", None, 409),
        ([("operator", "reject")], "operator", "resolve", {"answer": "x"}, 409),
        ([], "operator", "reopen", {"reason": "x"}, 409),
        ([("operator", "resolve")], "operator", "forward", "unit", 409),
    ],
)
async def test_illegal_action_is_refused_and_changes_nothing(
    client, world, setup, who, verb, body, status
):
    code = (await create(client, world))["code"]
    bodies = {
        "forward": {"unit_id": world.units["ward_a"]},
        "reject": {"reason": "Spam"},
        "resolve": {"answer": "Trả lời"},
    }
    for actor, step in setup:
        await ok(client, world, actor, code, step, bodies.get(step))
    if body == "unit":
        body = {"unit_id": world.units["ward_b"]}
    before = await get(client, world, code)
    before_events = await events(client, world, code)
    r = await act(client, world, who, code, verb, body)
    problem = assert_problem(r, status)
    assert problem["detail"]
    assert await get(client, world, code) == before
    assert await events(client, world, code) == before_events
