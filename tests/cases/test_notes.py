"""Notes on a case through the API: internal notes and replies to the citizen, who may add
which, their checks, their live events, and that they never make an action stale."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hotline.auth.models import Role
from hotline.auth.service import Actor
from hotline.cases import notes, workflow
from hotline.cases.access import get_case_for
from hotline.web.sse import visible
from tests.cases.helpers import API, act, assert_problem, create, events, forward, get, ok
from tests.cases.test_events_sse import _drain
from tests.conftest import live_events

pytestmark = pytest.mark.anyio


async def note(client, world, who: str, code: str, text: Any, visibility: str | None = None):
    body: dict[str, Any] = {"text": text}
    if visibility is not None:
        body["visibility"] = visibility
    return await client.post(f"{API}/{code}/notes", json=body, headers=world.auth(who))


async def test_staff_add_an_internal_note_and_a_reply_each_its_own_timeline_entry(client, world):
    code = (await create(client, world))["code"]
    r = await note(client, world, "operator", code, "  Đã gọi lại, máy bận.\n", "internal")
    assert r.status_code == 201, r.text
    internal = r.json()
    assert internal["case"] == code and internal["visibility"] == "internal"
    assert internal["text"] == "Đã gọi lại, máy bận." and internal["author"] == "operator"
    assert internal["unit_id"] is None and internal["at"]
    r = await note(client, world, "supervisor", code, "Tổng đài đã chuyển phường xử lý.", "reply")
    assert r.status_code == 201, r.text
    reply = r.json()
    assert reply["visibility"] == "reply" and reply["author"] == "supervisor"
    # Left out, the visibility is the safe one: a note no citizen reads.
    r = await note(client, world, "admin", code, "Theo dõi thêm")
    assert r.status_code == 201 and r.json()["visibility"] == "internal"

    timeline = await events(client, world, code)
    kinds = [(e["kind"], e["reason"], e["data"].get("answer")) for e in timeline[1:]]
    assert kinds == [
        ("note", "Đã gọi lại, máy bận.", None),
        ("reply", None, "Tổng đài đã chuyển phường xử lý."),
        ("note", "Theo dõi thêm", None),
    ]
    assert [e["id"] for e in timeline[1:]] == [internal["id"], reply["id"], r.json()["id"]]
    detail = await get(client, world, code)
    assert detail["status"] == "new" and detail["answer"] is None  # a note changes no case


async def test_note_text_is_required_trimmed_and_at_most_4000_characters(client, world):
    code = (await create(client, world))["code"]
    for text in ("", "   \n\t "):
        body = assert_problem(await note(client, world, "operator", code, text), 422, "text")
        assert body["detail"] == "Nhập nội dung ghi chú"
    long = "a" * 4001
    body = assert_problem(await note(client, world, "operator", code, long, "reply"), 422, "text")
    assert "4000" in body["detail"]
    r = await note(client, world, "operator", code, "  " + "b" * 4000 + "  ", "reply")
    assert r.status_code == 201 and r.json()["text"] == "b" * 4000
    missing = await client.post(
        f"{API}/{code}/notes", json={"visibility": "internal"}, headers=world.auth("operator")
    )
    assert_problem(missing, 422, "text")
    assert_problem(await note(client, world, "operator", code, "x", "public"), 422, "visibility")
    assert_problem(await note(client, world, "operator", "ZZZZ-ZZZZ", "x"), 404, "code")
    assert len(await events(client, world, code)) == 2  # created + the one good note


async def test_a_unit_notes_only_while_it_holds_the_case_and_never_replies(client, world):
    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")
    r = await note(client, world, "officer", code, "Cán bộ phường sẽ đến chiều nay.", "internal")
    assert r.status_code == 201, r.text
    assert r.json()["unit_id"] == world.units["ward_a"]
    refused = await note(client, world, "colleague", code, "Phường sẽ đến ạ", "reply")
    body = assert_problem(refused, 403, "visibility")
    assert "Giải quyết" in body["detail"]
    # Another unit, and a doctor, do not see the case at all: the same 404 as no case.
    for who in ("outsider", "doctor"):
        assert_problem(await note(client, world, who, code, "x", "internal"), 404, "code")
    # Once its answer stands the unit still reads the case but no longer works it.
    await ok(client, world, "officer", code, "resolve", {"answer": "Đã hỗ trợ 20 kg gạo."})
    assert (await get(client, world, code, who="officer"))["status"] == "resolved"
    body = assert_problem(await note(client, world, "officer", code, "x"), 403, "visibility")
    assert "không còn giữ" in body["detail"]


async def test_every_role_through_the_api_reply_to_citizens_is_the_hotlines(client, world):
    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")
    answers = {
        who: (await note(client, world, who, code, f"Trả lời của {who}", "reply")).status_code
        for who in ("admin", "supervisor", "operator", "officer", "colleague", "outsider", "doctor")
    }
    assert answers == {
        "admin": 201,
        "supervisor": 201,
        "operator": 201,
        "officer": 403,
        "colleague": 403,
        "outsider": 404,
        "doctor": 404,
    }


async def test_notes_and_replies_are_allowed_on_a_closed_case_and_leave_it_closed(client, world):
    code = (await create(client, world))["code"]
    await ok(client, world, "operator", code, "resolve", {"answer": "Đã hướng dẫn."})
    await ok(client, world, "operator", code, "close")
    before = await get(client, world, code)
    for visibility in ("internal", "reply"):
        r = await note(client, world, "operator", code, "Người dân gọi lại hỏi thêm", visibility)
        assert r.status_code == 201, r.text
    after = await get(client, world, code)
    assert after["status"] == "closed" and after["answer"] == "Đã hướng dẫn."
    assert after["updated_at"] == before["updated_at"] and after["version"] == before["version"]


async def test_a_note_does_not_make_an_action_prepared_before_it_stale(client, world):
    code = (await create(client, world))["code"]
    seen = (await get(client, world, code))["version"]
    # A colleague writes a note and a reply while the operator decides.
    assert (await note(client, world, "supervisor", code, "Ưu tiên ca này")).status_code == 201
    assert (await note(client, world, "admin", code, "Đã ghi nhận", "reply")).status_code == 201
    assert (await get(client, world, code))["version"] == seen
    taken = await act(client, world, "operator", code, "take", {"expected_version": seen})
    assert taken.status_code == 200, taken.text
    # A real change still does: the view from before the take is stale now.
    stale = await act(
        client, world, "supervisor", code, "reject", {"reason": "x", "expected_version": seen}
    )
    assert_problem(stale, 409, "expected_version")


async def test_a_note_is_a_live_event_for_whoever_sees_the_case(app, client, world):
    code = (await create(client, world))["code"]
    await forward(client, world, code, "ward_a")
    async with live_events(app) as queue:
        assert (
            await note(client, world, "operator", code, "Nhắc phường", "internal")
        ).status_code == 201
        assert (
            await note(client, world, "operator", code, "Đã chuyển", "reply")
        ).status_code == 201
        got = await _drain(app, queue)
    assert [e.kind for e in got] == ["case.note", "case.reply"]
    assert all(e.case_code == code and e.unit_ids == (world.units["ward_a"],) for e in got)
    # The note's text is not pushed: the page reads the timeline, which checks access.
    assert "Nhắc phường" not in str(got[0].data)
    officer = Actor(
        user_id=None, username="o", role=Role.UNIT_OFFICER, unit_id=world.units["ward_a"]
    )
    outsider = Actor(
        user_id=None, username="x", role=Role.UNIT_OFFICER, unit_id=world.units["ward_b"]
    )
    assert all(visible(officer, e) and not visible(outsider, e) for e in got)


async def test_a_note_committed_alongside_a_concurrent_action_neither_blocks_nor_fails(
    app, client, world, database_url
):
    """Two transactions at once (PostgreSQL: SQLite has one writer at a time): a note
    written but not yet committed while an action checks the version it was prepared on."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs concurrent writers (PostgreSQL)")
    code = (await create(client, world))["code"]
    seen = (await get(client, world, code))["version"]
    state = app.state.hotline
    staff = Actor(user_id=None, username="lead", role=Role.SUPERVISOR)
    operator = Actor(user_id=None, username="op", role=Role.OPERATOR)
    written, acted = asyncio.Event(), asyncio.Event()

    async def write_note() -> None:
        async with state.unit_of_work() as session:
            await notes.add_note(
                session, actor=staff, code=code, text="Ghi chú", visibility="internal"
            )
            written.set()
            await asyncio.wait_for(acted.wait(), 10)  # still open while the action runs

    async def take() -> None:
        await asyncio.wait_for(written.wait(), 10)
        async with state.unit_of_work() as session:
            case = await get_case_for(session, operator, code)
            await workflow.take_case(session, actor=operator, case=case, expected_version=seen)
        acted.set()

    await asyncio.wait_for(asyncio.gather(write_note(), take()), 20)
    detail = await get(client, world, code)
    assert detail["status"] == "in_progress"
    assert [e["kind"] for e in await events(client, world, code)] == ["created", "note", "taken"]
