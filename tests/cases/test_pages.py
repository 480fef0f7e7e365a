"""The case page and the unit inbox over HTTP, signed in with the page cookie."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hotline.cases.versions import STALE
from hotline.contacts.models import PersonalDataRead
from tests.auth.test_auth import _csrf_of
from tests.cases.helpers import create, forward, get, ok
from tests.conftest import PASSWORD, SITE_TZ

pytestmark = pytest.mark.anyio

Pages = Callable[[str], Any]


@pytest.fixture
def signed_in(app: Any) -> Callable[[str], Any]:
    """A browser-like client (its own cookie jar) signed in as one of the world's users."""

    @asynccontextmanager
    async def open_as(who: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            page = await c.get("/login")
            r = await c.post(
                "/login",
                data={"username": who, "password": PASSWORD, "csrf": _csrf_of(page.text)},
            )
            assert r.status_code in (200, 303), r.text
            yield c

    return open_as


def version_in(html: str, code: str | None = None) -> str:
    """The expected_version of the first form (of the case `code`'s row in the inbox)."""
    if code is not None:
        html = html[html.index(f'id="row-{code}"') :]
    match = re.search(r'name="expected_version" value="(\d+)"', html)
    assert match, html
    return match.group(1)


def csrf_in(html: str) -> str:
    return _csrf_of(html)


async def post_action(c: httpx.AsyncClient, code: str, action: str, page: str, **fields: Any):
    data = {"csrf": csrf_in(page), "expected_version": version_in(page, fields.pop("row", None))}
    data.update(fields)
    return await c.post(f"/cases/{code}/act/{action}", data=data)


async def test_unit_officer_lands_on_the_inbox_accepts_and_resolves(client, world, signed_in):
    case = await create(client, world)
    await forward(client, world, case["code"])
    async with signed_in("officer") as c:
        start = await c.get("/", follow_redirects=False)
        assert start.status_code == 303 and start.headers["location"] == "/inbox"
        inbox = await c.get("/inbox")
        assert inbox.status_code == 200
        assert case["code"] in inbox.text
        assert re.search(r'id="count-pending"><b>1</b>', inbox.text)
        r = await post_action(c, case["code"], "accept", inbox.text, row=case["code"], next="inbox")
        assert r.status_code == 303 and r.headers["location"] == "/inbox?done=accept"
        inbox = await c.get("/inbox")
        assert re.search(r'id="count-accepted"><b>1</b>', inbox.text)
        assert (await get(client, world, case["code"]))["status"] == "accepted"
        r = await post_action(
            c,
            case["code"],
            "resolve",
            inbox.text,
            row=case["code"],
            next="inbox",
            answer="Phường đã mang 20 kg gạo đến nhà bà Lan.",
        )
        assert r.status_code == 303, r.text
        inbox = await c.get("/inbox")
        assert case["code"] not in inbox.text
    detail = await get(client, world, case["code"])
    assert detail["status"] == "resolved"
    assert detail["answer"] == "Phường đã mang 20 kg gạo đến nhà bà Lan."


async def test_an_officer_of_another_unit_gets_404_and_an_empty_inbox(client, world, signed_in):
    case = await create(client, world)
    await forward(client, world, case["code"])
    async with signed_in("officer") as own:
        page = (await own.get(f"/cases/{case['code']}")).text
    async with signed_in("outsider") as c:
        hidden = await c.get(f"/cases/{case['code']}")
        assert hidden.status_code == 404 and "Không tìm thấy yêu cầu" in hidden.text
        assert "hết gạo" not in hidden.text and "Nguyễn Thị Lan" not in hidden.text
        assert (await c.get(f"/cases/{case['code']}/timeline")).status_code == 404
        r = await c.post(
            f"/cases/{case['code']}/act/accept",
            data={"csrf": csrf_in((await c.get("/inbox")).text), "expected_version": "1"},
        )
        assert r.status_code == 404
        inbox = await c.get("/inbox")
        assert case["code"] not in inbox.text
        assert re.search(r'id="count-pending"><b>0</b>', inbox.text)
    assert "Tiếp nhận" in page
    assert (await get(client, world, case["code"]))["status"] == "forwarded"


async def test_return_needs_a_reason_shown_next_to_it_and_keeps_nothing_half_done(
    client, world, signed_in
):
    case = await create(client, world)
    await forward(client, world, case["code"])
    async with signed_in("officer") as c:
        page = (await c.get(f"/cases/{case['code']}")).text
        r = await post_action(c, case["code"], "return", page, reason="   ")
        assert r.status_code == 422
        assert 'id="reason-error"' in r.text and "Cần nêu lý do" in r.text
        assert (await get(client, world, case["code"]))["status"] == "forwarded"
        r = await post_action(c, case["code"], "return", page, reason="Không thuộc địa bàn")
        assert r.status_code == 303
    detail = await get(client, world, case["code"])
    assert detail["status"] == "in_progress"
    assert detail["assignments"][0]["return_reason"] == "Không thuộc địa bàn"


async def test_a_stale_action_on_the_page_is_refused_with_a_clear_message(client, world, signed_in):
    case = await create(client, world)
    await forward(client, world, case["code"])
    async with signed_in("officer") as c:
        page = (await c.get(f"/cases/{case['code']}")).text
        # A colleague of the same unit accepts it meanwhile (through the API).
        await ok(client, world, "colleague", case["code"], "accept")
        r = await post_action(c, case["code"], "resolve", page, answer="Đã xử lý xong")
        assert r.status_code == 409
        assert STALE in r.text and 'id="stale"' in r.text
        assert "Đã xử lý xong" in r.text  # what was typed is kept
        assert (await get(client, world, case["code"]))["status"] == "accepted"
        # The reloaded page carries the new version: the same action now goes through.
        page = (await c.get(f"/cases/{case['code']}")).text
        r = await post_action(c, case["code"], "resolve", page, answer="Đã xử lý xong")
        assert r.status_code == 303
    assert (await get(client, world, case["code"]))["status"] == "resolved"


async def test_a_stale_action_through_the_api_is_a_409(client, world):
    case = await create(client, world)
    before = (await get(client, world, case["code"]))["version"]
    await ok(client, world, "operator", case["code"], "take")
    r = await client.post(
        f"/api/v1/cases/{case['code']}/resolve",
        json={"answer": "Xong", "expected_version": before},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "stale_version" and r.json()["detail"] == STALE
    now = (await get(client, world, case["code"]))["version"]
    assert now > before
    r = await client.post(
        f"/api/v1/cases/{case['code']}/resolve",
        json={"answer": "Xong", "expected_version": now},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text


async def test_the_api_lists_the_actions_the_user_may_take(client, world):
    case = await create(client, world)
    assert (await get(client, world, case["code"]))["actions"] == [
        "duplicate",
        "forward",
        "reject",
        "resolve",
        "take",
    ]
    await forward(client, world, case["code"])
    assert (await get(client, world, case["code"], who="officer"))["actions"] == [
        "accept",
        "resolve",
        "return",
    ]
    assert (await get(client, world, case["code"]))["actions"] == ["forward"]


async def test_operator_forwards_to_two_units_and_sees_the_deadlines(client, world, signed_in):
    case = await create(client, world)
    async with signed_in("operator") as c:
        page = (await c.get(f"/cases/{case['code']}")).text
        data = {
            "csrf": csrf_in(page),
            "expected_version": version_in(page),
            "unit_id": [str(world.units["ward_a"]), str(world.units["ward_b"])],
            "deadline_hours": "24",
            "note": "Xác minh giúp",
        }
        r = await c.post(f"/cases/{case['code']}/act/forward", data=data)
        assert r.status_code == 303, r.text
        page = (await c.get(r.headers["location"])).text
        assert "UBND Phường Ba Đình" in page and "UBND Phường Ngọc Hà" in page
        assert page.count("Chờ tiếp nhận") >= 2
    detail = await get(client, world, case["code"])
    # The deadline in the site's local time, in the table and on the timeline.
    due = datetime.fromisoformat(detail["assignments"][0]["due_at"]).astimezone(SITE_TZ)
    shown = due.strftime("%d/%m/%Y %H:%M")
    assert (
        shown in page[: page.index('id="timeline"')]
        and shown in page[page.index('id="timeline"') :]
    )
    assert sorted(a["unit_id"] for a in detail["assignments"]) == sorted(
        [world.units["ward_a"], world.units["ward_b"]]
    )


async def test_operator_rejects_reopens_and_marks_a_duplicate(client, world, signed_in):
    first = await create(client, world)
    second = await create(client, world)
    async with signed_in("operator") as c:
        page = (await c.get(f"/cases/{second['code']}")).text
        r = await post_action(c, second["code"], "reject", page, reason="Gọi nhầm")
        assert r.status_code == 303
        page = (await c.get(f"/cases/{second['code']}")).text
        assert "Gọi nhầm" in page
        r = await post_action(c, second["code"], "reopen", page, reason="Người dân gọi lại")
        assert r.status_code == 303
        page = (await c.get(f"/cases/{second['code']}")).text
        r = await post_action(c, second["code"], "duplicate", page, original_code=first["code"])
        assert r.status_code == 303, r.text
        page = (await c.get(f"/cases/{first['code']}")).text
        assert second["code"] in page
    assert (await get(client, world, second["code"]))["duplicate_of"] == first["code"]


async def test_the_form_token_is_required(client, world, signed_in):
    case = await create(client, world)
    async with signed_in("operator") as c:
        page = (await c.get(f"/cases/{case['code']}")).text
        r = await c.post(
            f"/cases/{case['code']}/act/take",
            data={"csrf": "forged", "expected_version": version_in(page)},
        )
        assert r.status_code == 422
    assert (await get(client, world, case["code"]))["status"] == "new"


async def test_the_case_page_logs_the_read_of_the_reporter(app, client, world, signed_in):
    case = await create(client, world)
    async with signed_in("operator") as c:
        page = await c.get(f"/cases/{case['code']}")
        assert "Nguyễn Thị Lan" in page.text
        assert "Tiếp nhận yêu cầu" in (await c.get(f"/cases/{case['code']}/timeline")).text
    async with app.state.hotline.unit_of_work() as session:
        rows = (await session.scalars(select(PersonalDataRead))).all()
    assert [(r.purpose, r.contact_id) for r in rows] == [("case_page", case["contact_id"])]


async def test_operator_resolves_with_a_knowledge_base_answer(client, world, signed_in):
    from tests.knowledge.helpers import published

    article = await published(
        client,
        world,
        question="Hộ gia đình hết gạo được hỗ trợ lương thực ở đâu?",
        answer="UBND phường tiếp nhận và cấp gạo hỗ trợ trong 24 giờ.",
        category="ho_tro_kho_khan",
    )
    case = await create(client, world)
    async with signed_in("operator") as c:
        page = (await c.get(f"/cases/{case['code']}")).text
        # The one-click insert: the button carries the answer for live.js to put in the box.
        assert f'data-article-id="{article["id"]}"' in page
        assert 'data-answer="UBND phường tiếp nhận và cấp gạo hỗ trợ trong 24 giờ."' in page
        r = await post_action(
            c,
            case["code"],
            "resolve",
            page,
            answer=article["answer"],
            article_id=str(article["id"]),
        )
        assert r.status_code == 303, r.text
        page = (await c.get(r.headers["location"])).text
        assert "Dùng bài hỏi đáp" in page and "Đã giải quyết." in page
    detail = await get(client, world, case["code"])
    assert detail["status"] == "resolved" and detail["answer"] == article["answer"]


async def test_a_refused_inbox_action_is_explained_in_its_row(client, world, signed_in):
    case = await create(client, world)
    await forward(client, world, case["code"])
    async with signed_in("officer") as c:
        inbox = (await c.get("/inbox")).text
        r = await post_action(
            c, case["code"], "return", inbox, row=case["code"], next="inbox", reason=""
        )
        assert r.status_code == 422
        row = r.text[r.text.index(f'id="row-{case["code"]}"') :]
        assert "Cần nêu lý do" in row and "<details open>" in row
        # A colleague accepted meanwhile: the stale accept is refused, not applied twice.
        await ok(client, world, "colleague", case["code"], "accept")
        r = await post_action(c, case["code"], "accept", inbox, row=case["code"], next="inbox")
        assert r.status_code == 409 and STALE in r.text


async def test_a_shift_lead_merges_the_suggested_duplicates_into_the_case(client, world, signed_in):
    primary = await create(client, world)
    repeats = [await create(client, world), await create(client, world)]
    async with signed_in("operator") as c:
        page = (await c.get(f"/cases/{primary['code']}")).text
        assert repeats[0]["code"] in page and 'id="merge"' not in page  # no merge right
    async with signed_in("supervisor") as c:
        page = (await c.get(f"/cases/{primary['code']}")).text
        for repeat in repeats:
            assert f'id="dup-{repeat["code"]}"' in page
        # Someone acts on the case first: the merge made on the older view is refused.
        await ok(client, world, "operator", primary["code"], "take")
        data = {
            "csrf": csrf_in(page),
            "expected_version": version_in(page),
            "duplicates": [r["code"] for r in repeats],
        }
        r = await c.post(f"/cases/{primary['code']}/merge", data=data)
        assert r.status_code == 409 and STALE in r.text
        assert (await get(client, world, repeats[0]["code"]))["status"] == "new"
        page = (await c.get(f"/cases/{primary['code']}")).text
        r = await c.post(
            f"/cases/{primary['code']}/merge", data={**data, "expected_version": version_in(page)}
        )
        assert r.status_code == 303, r.text
        page = (await c.get(r.headers["location"])).text
        assert "Đã gộp các yêu cầu trùng." in page
    for repeat in repeats:
        assert (await get(client, world, repeat["code"]))["duplicate_of"] == primary["code"]


async def test_the_inbox_is_for_unit_officers_only(client, world, signed_in):
    async with signed_in("operator") as c:
        assert (await c.get("/inbox")).status_code == 403
        assert (await c.get("/", follow_redirects=False)).status_code == 200
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=client._transport.app), base_url="http://test"
    ) as anonymous:
        r = await anonymous.get("/inbox", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"


async def test_a_long_description_does_not_keep_its_page_or_answers_from_opening(
    client, world, signed_in
):
    """A case may hold 20,000 characters, a text given to the answers' search 5,000: the
    case page and its suggested answers read the description's beginning."""
    case = await create(client, world, description="Nhà tôi bị ngập nặng " * 400)
    assert len(case["description"]) > 5000
    r = await client.get(f"/api/v1/cases/{case['code']}/articles", headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    async with signed_in("operator") as c:
        page = await c.get(f"/cases/{case['code']}")
        assert page.status_code == 200, page.text[:300]
