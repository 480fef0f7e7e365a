"""Listing cases: filters, diacritic-insensitive search and cursor pagination."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from hotline.cases.models import CaseAssignment
from hotline.db import utcnow
from tests.cases.helpers import API, assert_problem, create, forward, ok

pytestmark = pytest.mark.anyio


async def _codes(client, world, who: str = "operator", **params) -> list[str]:
    r = await client.get(API, params=params, headers=world.auth(who))
    assert r.status_code == 200, r.text
    return [c["code"] for c in r.json()["items"]]


async def test_filter_by_status(client, world):
    new = (await create(client, world))["code"]
    taken = (await create(client, world))["code"]
    rejected = (await create(client, world))["code"]
    await ok(client, world, "operator", taken, "take")
    await ok(client, world, "operator", rejected, "reject", {"reason": "Quấy rối"})
    assert await _codes(client, world, status="new") == [new]
    assert await _codes(client, world, status="in_progress") == [taken]
    assert set(await _codes(client, world, status=["new", "rejected"])) == {new, rejected}
    assert await _codes(client, world, status="closed") == []
    assert_problem(
        await client.get(API, params={"status": "nope"}, headers=world.auth("operator")),
        422,
        "status",
    )


async def test_filter_by_category_and_channel(client, world):
    food = (await create(client, world))["code"]
    health = (await create(client, world, category="tu_van_suc_khoe", channel="zalo"))["code"]
    assert await _codes(client, world, category="ho_tro_kho_khan") == [food]
    assert await _codes(client, world, category="tu_van_suc_khoe") == [health]
    assert await _codes(client, world, channel="zalo") == [health]
    assert await _codes(client, world, channel="phone") == [food]
    assert await _codes(client, world, channel="email") == []
    assert_problem(
        await client.get(API, params={"channel": "fax"}, headers=world.auth("operator")),
        422,
        "channel",
    )


async def test_filter_by_unit_ward_and_urgent(client, world):
    a = (await create(client, world))["code"]
    b = (await create(client, world, ward_code="00008", urgent=True))["code"]
    c = (await create(client, world))["code"]
    await forward(client, world, a, "ward_a")
    await forward(client, world, b, "ward_b")
    assert await _codes(client, world, unit=world.units["ward_a"]) == [a]
    assert await _codes(client, world, unit=world.units["ward_b"]) == [b]
    assert await _codes(client, world, ward="00008") == [b]
    assert set(await _codes(client, world, ward="00004")) == {a, c}
    assert await _codes(client, world, urgent="true") == [b]
    assert set(await _codes(client, world, urgent="false")) == {a, c}


async def test_filter_overdue_finds_forwardings_past_their_deadline(app, client, world):
    late = (await create(client, world))["code"]
    on_time = (await create(client, world))["code"]
    idle = (await create(client, world))["code"]
    late_assignment = await forward(client, world, late, "ward_a", deadline_hours=1)
    await forward(client, world, on_time, "ward_a", deadline_hours=1)
    assert await _codes(client, world, overdue="true") == []
    async with app.state.hotline.sessionmaker() as session, session.begin():
        await session.execute(
            update(CaseAssignment)
            .where(CaseAssignment.id == late_assignment["id"])
            .values(due_at=utcnow() - timedelta(hours=2))
        )
    assert await _codes(client, world, overdue="true") == [late]
    assert set(await _codes(client, world, overdue="false")) == {on_time, idle}
    assert await _codes(client, world, "officer", overdue="true") == [late]
    # A finished forwarding is no longer overdue.
    await ok(client, world, "officer", late, "resolve", {"answer": "Đã xử lý"})
    assert await _codes(client, world, overdue="true") == []


async def test_filter_by_created_dates_in_site_timezone(app, client, world):
    code = (await create(client, world))["code"]
    today = datetime.now(app.state.hotline.site.timezone).date()
    day = timedelta(days=1)
    assert await _codes(client, world, **{"from": today.isoformat()}) == [code]
    assert await _codes(client, world, to=today.isoformat()) == [code]
    assert await _codes(client, world, **{"from": today.isoformat(), "to": today.isoformat()}) == [
        code
    ]
    assert await _codes(client, world, **{"from": (today + day).isoformat()}) == []
    assert await _codes(client, world, to=(today - day).isoformat()) == []


async def test_search_ignores_diacritics_and_case(client, world):
    food = (await create(client, world))["code"]
    other = (
        await create(
            client,
            world,
            description="Phản ánh tụ tập đông người không đeo khẩu trang",
            category="phan_anh_vi_pham",
            address="Công viên Thống Nhất",
            contact={"name": "Trần Văn Bình", "phone": "0987654321"},
        )
    )["code"]
    assert await _codes(client, world, q="ho tro gao") == [food]
    assert await _codes(client, world, q="HỖ TRỢ") == [food]
    assert await _codes(client, world, q="hỗ trợ gạo") == [food]
    assert await _codes(client, world, q="khau trang") == [other]
    assert await _codes(client, world, q="tran van binh") == [other]
    assert await _codes(client, world, q="ĐÔNG NGƯỜI") == [other]
    assert await _codes(client, world, q="vaccine") == []
    assert await _codes(client, world, q="gao khau") == []
    assert await _codes(client, world, q=food) == [food]


async def test_cursor_pagination_visits_every_case_once(client, world):
    created = [
        (await create(client, world, description=f"Yêu cầu số {i}"))["code"] for i in range(7)
    ]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        r = await client.get(API, params=params, headers=world.auth("operator"))
        assert r.status_code == 200, r.text
        body = r.json()
        pages += 1
        assert len(body["items"]) == (3 if pages < 3 else 1)
        seen += [c["code"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert pages < 5
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert seen == list(reversed(created))


async def test_cursor_pagination_with_exactly_one_page_has_no_next_cursor(client, world):
    for _ in range(3):
        await create(client, world)
    r = await client.get(API, params={"limit": 3}, headers=world.auth("operator"))
    assert len(r.json()["items"]) == 3
    assert r.json()["next_cursor"] is None


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor!!",
        "AAAA",
        _b64({"a": 1}),
        _b64(["yesterday", 3]),
        _b64([1, 2, 3]),
        _b64(["2026-01-01T00:00:00", 5]),
        _b64(["2026-01-01T00:00:00+00:00", "x"]),
    ],
)
async def test_bad_cursor_is_422_on_cursor(client, world, cursor):
    await create(client, world)
    r = await client.get(API, params={"cursor": cursor}, headers=world.auth("operator"))
    assert_problem(r, 422, "cursor")
