"""Every reporter of a repeated request gets the answer, however the case became a duplicate:
merged by a supervisor, marked one by one, merged while the primary is being answered, or
answered again after a reopening."""

from __future__ import annotations

import anyio
import pytest
from sqlalchemy import select

from hotline.auth.service import SYSTEM
from hotline.duplicates.merge import merge_cases
from hotline.jobs.models import Job
from tests.cases.helpers import act, assert_problem, create, events, get, ok
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio
ANSWER = "Công an phường đã giải tán nhóm tụ tập"


async def _cases(client, world, n: int) -> list[str]:
    codes = []
    for i in range(n):
        body = new_case_body(
            description=f"Nhiều người tụ tập đánh bài ở ngõ 45 Kim Mã, lần báo {i}",
            contact={"name": f"Người báo {i}", "phone": f"09876543{i:02d}"},
        )
        r = await client.post("/api/v1/cases", json=body, headers=world.auth("operator"))
        assert r.status_code == 201, r.text
        codes.append(r.json()["code"])
    return codes


async def _mark(client, world, code: str, original: str) -> dict:
    return await ok(client, world, "operator", code, "duplicate", {"original_code": original})


async def _notify_jobs(app) -> list[Job]:
    async with app.state.hotline.sessionmaker() as s:
        return list((await s.scalars(select(Job).where(Job.kind == "notify_reporter"))).all())


async def test_marking_a_case_that_has_duplicates_repoints_them_so_their_reporters_get_the_answer(
    app, client, world
):
    a, b, c = await _cases(client, world, 3)
    await _mark(client, world, c, b)
    await _mark(client, world, b, a)
    assert (await get(client, world, c))["duplicate_of"] == a
    assert "duplicate_repointed" in [e["kind"] for e in await events(client, world, c)]
    await ok(client, world, "operator", a, "resolve", {"answer": ANSWER})
    assert (await get(client, world, c))["answer"] == ANSWER
    assert len(await _notify_jobs(app)) == 2


async def test_marking_a_case_duplicate_of_an_answered_one_shares_the_answer_at_once(
    app, client, world
):
    primary, late = await _cases(client, world, 2)
    await ok(client, world, "operator", primary, "resolve", {"answer": ANSWER})
    await _mark(client, world, late, primary)
    assert (await get(client, world, late))["answer"] == ANSWER
    assert len(await _notify_jobs(app)) == 1


async def test_marking_duplicate_of_an_unknown_case_names_original_code(client, world):
    (code,) = await _cases(client, world, 1)
    r = await act(client, world, "operator", code, "duplicate", {"original_code": "ZZZZ-ZZZZ"})
    assert_problem(r, 404, "original_code")
    assert (await get(client, world, code))["status"] == "new"


async def test_a_primary_reopened_and_answered_again_notifies_its_reporters_again(
    app, client, world
):
    primary, dup = await _cases(client, world, 2)
    await _mark(client, world, dup, primary)
    await ok(client, world, "operator", primary, "resolve", {"answer": ANSWER})
    assert len(await _notify_jobs(app)) == 1
    await ok(client, world, "operator", primary, "reopen", {"reason": "Nhóm tụ tập quay lại"})
    # The same words, a second round: the reporter must hear that it was handled again.
    await ok(client, world, "operator", primary, "resolve", {"answer": ANSWER})
    assert len(await _notify_jobs(app)) == 2
    shared = [e for e in await events(client, world, primary) if e["kind"] == "answer_shared"]
    assert [e["data"]["notifications"] for e in shared] == [1, 1]


async def _merge(client, world, primary: str, dups: list[str]) -> dict:
    r = await client.post(
        "/api/v1/duplicates/merge",
        json={"primary": primary, "duplicates": dups},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_merging_into_an_answered_primary_counts_only_notifications_really_queued(
    app, client, world
):
    primary, dup = await _cases(client, world, 2)
    await ok(client, world, "operator", primary, "resolve", {"answer": ANSWER})
    assert (await _merge(client, world, primary, [dup]))["notifications"] == 1
    # The reporter calls again; the new case is merged within the same round of answers.
    await ok(client, world, "operator", dup, "reopen", {"reason": "Gọi lại hỏi kết quả"})
    assert (await _merge(client, world, primary, [dup]))["notifications"] == 0
    assert len(await _notify_jobs(app)) == 1
    shared = [e for e in await events(client, world, primary) if e["kind"] == "answer_shared"]
    assert [e["data"]["notifications"] for e in shared] == [1, 0]


async def test_a_merge_and_a_concurrent_resolve_of_the_primary_lose_no_answer(app, client, world):
    primary, dup = await _cases(client, world, 2)
    state = app.state.hotline
    async with state.sessionmaker() as session:
        await merge_cases(session, actor=SYSTEM, primary_code=primary, duplicate_codes=[dup])
        resolved: list[int] = []

        async def resolve() -> None:
            r = await act(client, world, "operator", primary, "resolve", {"answer": ANSWER})
            resolved.append(r.status_code)

        async with anyio.create_task_group() as tg:
            tg.start_soon(resolve)
            # Give the resolve every chance to finish before the merge commits: it must wait
            # for the merge (or fail), never answer a primary whose duplicates it cannot see.
            await anyio.sleep(1.5)
            await session.commit()
    assert resolved == [200]
    assert (await get(client, world, dup))["answer"] == ANSWER
    assert len(await _notify_jobs(app)) == 1


async def test_a_unit_officer_refused_marking_a_duplicate_is_told_so_in_vietnamese(client, world):
    primary, dup = await _cases(client, world, 2)
    for code in (primary, dup):
        await ok(client, world, "operator", code, "forward", {"unit_id": world.units["ward_a"]})
    r = await act(client, world, "officer", dup, "duplicate", {"original_code": primary})
    body = assert_problem(r, 403)
    assert "đánh dấu trùng" in body["detail"] and "duplicate" not in body["detail"]
    assert (await get(client, world, dup))["status"] == "forwarded"


async def test_a_duplicate_reopened_while_the_primary_is_answered_keeps_its_own_record(
    app, client, world
):
    from hotline.cases.access import get_case_for
    from hotline.cases.workflow import reopen_case

    primary, dup = await _cases(client, world, 2)
    await _mark(client, world, dup, primary)
    resolved: list[int] = []
    async with app.state.hotline.sessionmaker() as session:
        case = await get_case_for(session, SYSTEM, dup)
        await reopen_case(session, actor=SYSTEM, case=case, reason="Người dân gọi lại")

        async def resolve() -> None:
            r = await act(client, world, "operator", primary, "resolve", {"answer": ANSWER})
            resolved.append(r.status_code)

        async with anyio.create_task_group() as tg:
            tg.start_soon(resolve)
            await anyio.sleep(1.5)  # the answer reaches the duplicate's row, held by the reopen
            await session.commit()
    assert resolved == [200]
    reopened = await get(client, world, dup)
    assert reopened["status"] == "in_progress" and reopened["answer"] is None
    assert await _notify_jobs(app) == []


async def test_an_address_with_no_words_is_not_the_same_address_as_an_empty_one(client, world):
    text = "Nhiều người tụ tập đánh bài ở ngõ 45 Kim Mã"
    code = (await create(client, world, description=text, address=""))["code"]
    body = {
        "text": "Nhiều người tụ tập đánh bài ở ngõ 45 Kim Mã",
        "ward_code": "00004",
        "address": " - ",
    }
    r = await client.post(
        "/api/v1/cases/duplicates/suggest", json=body, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    (found,) = r.json()
    assert found["code"] == code
    assert "same_address" not in found["reasons"]
