"""The console's case list fragment (`/console/cases`) and the API's `?mine=true`."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hotline.cases.models import CaseAssignment
from hotline.db import utcnow
from tests.auth.test_auth import _csrf_of
from tests.conftest import PASSWORD, new_case_body

pytestmark = pytest.mark.anyio


async def _sign_in(client, username: str = "operator") -> None:  # type: ignore[no-untyped-def]
    page = await client.get("/login")
    r = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": _csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303


async def _cases(client, world) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Three cases: hardship on Zalo (ward A), an urgent emergency by phone (ward B), and one
    the operator has taken."""
    op = world.auth("operator")
    hardship = await client.post(
        "/api/v1/cases", json=new_case_body(channel="zalo", ward_code="00004"), headers=op
    )
    emergency = await client.post(
        "/api/v1/cases",
        json=new_case_body(
            description="Mẹ tôi khó thở, SpO2 90%",
            category="cap_cuu",
            urgent=True,
            ward_code="00008",
        ),
        headers=op,
    )
    taken = await client.post(
        "/api/v1/cases", json=new_case_body(description="Hỏi về giấy đi đường"), headers=op
    )
    r = await client.post(f"/api/v1/cases/{taken.json()['code']}/take", headers=op)
    assert r.status_code == 200, r.text
    return {
        "hardship": hardship.json()["code"],
        "emergency": emergency.json()["code"],
        "taken": taken.json()["code"],
    }


def _codes(html: str) -> set[str]:
    import re

    return set(re.findall(r'data-code="([^"]+)"', html))


async def test_the_list_shows_new_cases_mine_and_the_filtered_ones(client, world):
    codes = await _cases(client, world)
    assert (await client.get("/console/cases")).status_code == 401
    await _sign_in(client)

    new = await client.get("/console/cases")
    assert _codes(new.text) == {codes["hardship"], codes["emergency"]}
    assert f'class="row-urgent" data-code="{codes["emergency"]}"' in new.text
    mine = await client.get("/console/cases", params={"view": "mine"})
    assert _codes(mine.text) == {codes["taken"]}
    zalo = await client.get("/console/cases", params={"view": "all", "channel": "zalo"})
    assert _codes(zalo.text) == {codes["hardship"]}
    ward = await client.get("/console/cases", params={"view": "all", "ward": "00008"})
    assert _codes(ward.text) == {codes["emergency"]}
    emergencies = await client.get("/console/cases", params={"category": "cap_cuu"})
    assert _codes(emergencies.text) == {codes["emergency"]}
    held = await client.get("/console/cases", params={"view": "all", "status": "in_progress"})
    assert _codes(held.text) == {codes["taken"]}
    assert "Đang xử lý" in held.text
    # The page itself starts with the same list.
    board = await client.get("/")
    assert _codes(board.text) == {codes["hardship"], codes["emergency"]}


async def test_overdue_cases_stand_out_and_have_their_view(app, client, world):
    codes = await _cases(client, world)
    r = await client.post(
        f"/api/v1/cases/{codes['hardship']}/forward",
        json={"unit_id": world.units["ward_a"], "deadline_hours": 1},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(update(CaseAssignment).values(due_at=utcnow() - timedelta(hours=1)))
    await _sign_in(client)
    overdue = await client.get("/console/cases", params={"view": "overdue"})
    assert _codes(overdue.text) == {codes["hardship"]} and "Quá hạn" in overdue.text
    every = await client.get("/console/cases", params={"view": "all"})
    assert f'class=" row-overdue" data-code="{codes["hardship"]}"' in every.text
    assert every.text.count("row-overdue") == 1


async def test_mine_in_the_api_is_the_cases_the_caller_holds(client, world):
    codes = await _cases(client, world)
    mine = await client.get("/api/v1/cases?mine=true", headers=world.auth("operator"))
    assert [c["code"] for c in mine.json()["items"]] == [codes["taken"]]
    theirs = await client.get("/api/v1/cases?mine=true", headers=world.auth("supervisor"))
    assert theirs.json()["items"] == []
    everyone = await client.get("/api/v1/cases", headers=world.auth("operator"))
    assert len(everyone.json()["items"]) == 3


async def test_an_english_page_has_english_filters(client, world):
    await _sign_in(client)
    page = await client.get("/")
    csrf = _csrf_of(page.text)
    r = await client.post("/lang", data={"lang": "en", "csrf": csrf}, follow_redirects=False)
    assert r.status_code in (302, 303), r.text
    english = await client.get("/")
    assert "Keyboard shortcuts" in english.text and 'data-t-lost="Connection lost' in english.text


async def test_the_console_opens_the_list_a_link_names_and_keeps_it_on_refresh(client, world):
    cases = await _cases(client, world)
    await _sign_in(client)
    page = await client.get("/", params={"urgent": "true", "status": ["new", "in_progress"]})
    assert _codes(page.text) == {cases["emergency"]}
    # The names the form has no control for are hidden fields of the list's form, so the
    # live refresh (the form's query) lists the same; the view is "all", not "new".
    assert '<input type="hidden" name="urgent" value="true" data-linked>' in page.text
    assert page.text.count('<input type="hidden" name="status" value="') == 2
    assert '<option value="all" selected>' in page.text
    assert 'id="linked"' in page.text and 'href="/">Bỏ lọc</a>' in page.text
    rows = await client.get(
        "/console/cases",
        params={"view": "all", "status": ["", "new", "in_progress"], "urgent": "true"},
    )
    assert _codes(rows.text) == {cases["emergency"]}
    # The form's own filters come back chosen.
    page = await client.get("/", params={"channel": "zalo", "ward": "00004"})
    assert _codes(page.text) == {cases["hardship"]}
    assert '<option value="zalo" selected>' in page.text
    assert 'value="Phường Ba Đình"' in page.text


async def test_a_link_the_console_cannot_read_says_what_it_left_out(client, world):
    cases = await _cases(client, world)
    await _sign_in(client)
    page = await client.get("/", params={"urgent": "maybe", "hour": "25", "channel": "zalo"})
    assert page.status_code == 200
    assert _codes(page.text) == {cases["hardship"]}
    error = page.text.split('id="list-error"')[1].split("</p>")[0]
    assert "(urgent=maybe): chỉ nhận true hoặc false" in error
    assert "(hour=25): chỉ nhận giờ từ 0 đến 23" in error
    # Understood, but refused by the list itself: the message, and the default list.
    page = await client.get("/", params={"hour": "9"})
    error = page.text.split('id="list-error"')[1].split("</p>")[0]
    assert "Lọc theo giờ cần có ngày bắt đầu và ngày kết thúc" in error
    assert _codes(page.text) == {cases["hardship"], cases["emergency"]}
    page = await client.get("/", params={"unit": "999999"})
    assert "(unit=999999)" in page.text.split('id="list-error"')[1].split("</p>")[0]
    rows = await client.get("/console/cases", params={"held": "true"})
    assert 'class="error" role="alert"' in rows.text


async def test_a_long_list_says_its_count_and_loads_the_next_page(app, client, world) -> None:
    from hotline.cases.models import Case

    op = world.auth("operator")
    for n in range(60):
        r = await client.post(
            "/api/v1/cases", json=new_case_body(description=f"Yêu cầu số {n}"), headers=op
        )
        assert r.status_code == 201, r.text
    # Distinct times, so that the cursor's order is the order they came in.
    async with app.state.hotline.unit_of_work() as session:
        for n, case in enumerate((await session.scalars(select(Case).order_by(Case.id))).all()):
            case.created_at = utcnow() - timedelta(minutes=60 - n)
    await _sign_in(client, "supervisor")
    first = await client.get("/console/cases", params={"view": "all"})
    assert len(_codes(first.text)) == 50
    assert "Đang hiện 50 trên 60 yêu cầu" in first.text
    cursor = re.search(r'class="load-more" data-cursor="([^"]+)"', first.text)
    assert cursor and ">Xem thêm</button>" in first.text
    rest = await client.get(
        "/console/cases", params={"view": "all", "cursor": cursor.group(1), "shown": "50"}
    )
    assert len(_codes(rest.text)) == 10 and not _codes(rest.text) & _codes(first.text)
    assert "Đang hiện 60 trên 60 yêu cầu" in rest.text and "load-more" not in rest.text
    # A live refresh after "Xem thêm" keeps every row shown.
    refreshed = await client.get("/console/cases", params={"view": "all", "limit": "60"})
    assert _codes(refreshed.text) == _codes(first.text) | _codes(rest.text)
    # The board opened from a figure says the count too.
    board = await client.get("/", params={"status": "new"})
    assert "Đang hiện 50 trên 60 yêu cầu" in board.text
    client.cookies.set("lang", "en")
    english = await client.get("/console/cases", params={"view": "all"})
    assert "Showing 50 of 60 requests" in english.text and ">Show more</button>" in english.text


def _filter_errors(html: str) -> dict[str, str]:
    """The list's errors by the address name they are about."""
    import html as entities

    error = html.split('id="list-error"')[1].split("</p>")[0]
    found = re.findall(r'<span data-filter="([^"]+)">([^<]*)</span>', error)
    return {name: entities.unescape(text) for name, text in found}


async def test_every_filter_the_console_cannot_read_is_named_with_its_value(client, world):
    """Each value left out says which filter, what it said and why; the list still opens,
    selected by what could be read and by nothing else."""
    cases = await _cases(client, world)
    await _sign_in(client)
    address = {
        "status": "bogus",
        "from": "not-a-date",
        "to": "2026-13-01",
        "category": "khong_co",
        "ward": "zzzzz",
        "unit": "999999",
        "overdue": "maybe",
        "channel": "fax",
    }
    page = await client.get("/", params=address)
    assert page.status_code == 200
    errors = _filter_errors(page.text)
    assert errors == {
        "status": "Bỏ qua bộ lọc Trạng thái (status=bogus): không có giá trị này.",
        "from": "Bỏ qua bộ lọc Từ ngày (from=not-a-date): không phải ngày dạng YYYY-MM-DD.",
        "to": "Bỏ qua bộ lọc Đến ngày (to=2026-13-01): không phải ngày dạng YYYY-MM-DD.",
        "category": "Bỏ qua bộ lọc Lĩnh vực (category=khong_co): không có giá trị này.",
        "ward": "Bỏ qua bộ lọc Phường, xã (ward=zzzzz): không có giá trị này.",
        "unit": "Bỏ qua bộ lọc Đơn vị (unit=999999): không có giá trị này.",
        "overdue": "Bỏ qua bộ lọc Quá hạn (overdue=maybe): chỉ nhận true hoặc false.",
        "channel": "Bỏ qua bộ lọc Kênh (channel=fax): không có giá trị này.",
    }
    # Unfiltered by all of them: the new cases nobody holds.
    assert _codes(page.text) == {cases["hardship"], cases["emergency"]}
    # Nothing refused is carried into the list's refreshes.
    assert "data-linked" not in page.text
    assert 'name="ward" value=""' in page.text

    client.cookies.set("lang", "en")
    page = await client.get("/", params={"status": "bogus", "from": "not-a-date"})
    assert _filter_errors(page.text) == {
        "status": "Ignored the Status filter (status=bogus): no such value.",
        "from": "Ignored the From filter (from=not-a-date): not a date written YYYY-MM-DD.",
    }


async def test_a_period_that_ends_before_it_starts_is_named_not_an_empty_list(client, world):
    cases = await _cases(client, world)
    await _sign_in(client)
    today = utcnow().date()
    later, earlier = (
        (today + timedelta(days=1)).isoformat(),
        (today - timedelta(days=1)).isoformat(),
    )
    page = await client.get("/", params={"from": later, "to": earlier, "channel": "zalo"})
    assert page.status_code == 200
    assert _filter_errors(page.text) == {
        "from": "Bỏ qua bộ lọc ngày: Khoảng ngày ngược: "
        f"từ ngày (from) {later} sau đến ngày (to) {earlier}."
    }
    # The list is the one the rest of the address names (channel), not an empty one.
    assert _codes(page.text) == {cases["hardship"]}
    assert 'name="from"' not in page.text and 'name="to"' not in page.text
    client.cookies.set("lang", "en")
    page = await client.get("/", params={"from": later, "to": earlier})
    assert _filter_errors(page.text)["from"] == (
        f"Ignored the date filter: The dates are the wrong way round: from {later} is after "
        f"to {earlier}."
    )
    # The same day at both ends is a period, not a mistake.
    page = await client.get("/", params={"from": today.isoformat(), "to": today.isoformat()})
    assert 'id="list-error"' not in page.text


async def test_the_api_names_the_filter_it_cannot_read(client, world):
    await _cases(client, world)
    op = world.auth("operator")
    r = await client.get(
        "/api/v1/cases", params={"from": "2026-05-02", "to": "2026-05-01"}, headers=op
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["field"] == "from"
    assert "2026-05-02" in problem["detail"] and "2026-05-01" in problem["detail"]
    client.cookies.set("lang", "en")
    r = await client.get("/api/v1/cases", params={"status": "bogus"}, headers=op)
    assert r.status_code == 422 and r.json()["field"] == "status"
    assert r.json()["detail"] == "Invalid status: bogus"
    r = await client.get("/api/v1/cases", params={"channel": "fax"}, headers=op)
    assert r.json()["field"] == "channel" and "fax" in r.json()["detail"]
    r = await client.get("/api/v1/cases", params={"from": "not-a-date"}, headers=op)
    assert r.status_code == 422 and r.json()["field"] == "from"


async def test_a_nul_in_the_lists_address_is_named_and_left_out(client, world):
    """A NUL no column holds, in a filter of the address: left out and named like any value
    the list cannot read; the page still opens (and its rows' refresh too)."""
    cases = await _cases(client, world)
    await _sign_in(client)
    page = await client.get("/?view=all&ward=%00&channel=w%00eb&cursor=%00")
    assert page.status_code == 200, page.text[:300]
    assert _filter_errors(page.text) == {
        "ward": "Bỏ qua bộ lọc Phường, xã (ward=): có ký tự NUL (\\x00).",
        "channel": "Bỏ qua bộ lọc Kênh (channel=web): có ký tự NUL (\\x00).",
    }
    assert cases["hardship"] in _codes(page.text)
    rows = await client.get("/console/cases?view=all&status=%00&cursor=%00&limit=%00")
    assert rows.status_code == 200 and "data-code" not in rows.text
    client.cookies.set("lang", "en")
    page = await client.get("/?view=%00&ward=%00")
    assert _filter_errors(page.text) == {
        "ward": "Ignored the Ward or commune filter (ward=): holds a NUL character (\\x00).",
    }
