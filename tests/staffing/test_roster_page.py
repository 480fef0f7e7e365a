"""The lead's roster editing on the staffing page, over HTTP as a browser posts it: people
placed picked by name (call takers and approved volunteers, with their places and leave
shown), a place removed, a week copied with its report, off-shift leave, someone else
clocked out and a shift template changed. Each form calls the API's service: mistakes
come back next to their field in Vietnamese, a post without the form token changes
nothing, and an operator posting a lead's form is refused by the service."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from hotline.staffing.models import RosterEntry
from tests.conftest import site_today
from tests.dashboard.helpers import sign_in
from tests.staffing.test_pages import _user_ids, csrf_of
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me, _volunteer

pytestmark = pytest.mark.anyio


async def _places(client: Any, world: Any, day: Any) -> list[tuple[str, int | None, int | None]]:
    r = await client.get(
        "/api/v1/roster",
        params={"from": str(day), "to": str(day)},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    return [
        (s["code"], p["user_id"], p["volunteer_id"])
        for s in r.json()["shifts"]
        for p in s["people"]
    ]


async def _approved_volunteer(client: Any, world: Any) -> int:
    volunteer = await _volunteer(client, world, "0912 555 777")
    r = await client.post(
        f"/api/v1/volunteers/{volunteer}/approve", json={}, headers=world.auth("supervisor")
    )
    assert r.status_code == 200, r.text
    return volunteer


async def test_a_lead_places_people_picked_by_name_and_takes_a_place_off(
    app, client, world
) -> None:
    ids = await _user_ids(client, world)
    officer = await _me(client, world, "officer")
    volunteer = await _approved_volunteer(client, world)
    morning = await _shift(client, world, "sang")
    tomorrow = site_today() + timedelta(days=1)
    await sign_in(client, "supervisor")
    page = (await client.get(f"/staffing?date={tomorrow}")).text
    # Everyone who may be placed is listed by name; nobody has to know an id.
    person = re.search(r'<select id="roster-person"(.*?)</select>', page, re.S)
    assert person, page[:300]
    assert f'value="u{ids["operator"]}"' in person.group(1)
    assert f'value="v{volunteer}"' in person.group(1) and "Hà Văn Tú" in person.group(1)
    assert f'value="u{officer}"' not in person.group(1)  # not a call taker
    form = {
        "csrf": csrf_of(page),
        "day": str(tomorrow),
        "shift_id": str(morning["id"]),
        "week": str(tomorrow),
    }
    r = await client.post(
        "/staffing/roster", data={**form, "person": f"u{ids['operator']}"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert r.headers["location"] == (
        f"/staffing?date={tomorrow}&done=roster_assign&shift={morning['id']}#roster"
    )
    r = await client.post(
        "/staffing/roster", data={**form, "person": f"v{volunteer}"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert sorted(await _places(client, world, tomorrow), key=str) == sorted(
        [("sang", ids["operator"], None), ("sang", None, volunteer)], key=str
    )
    # The list now says where each is placed; the same person again is refused next to
    # the person field, the week and the choice kept.
    page = (await client.get(f"/staffing?date={tomorrow}")).text
    option = re.search(rf'<option value="u{ids["operator"]}"[^>]*>([^<]*)<', page)
    assert option and "1 ca tuần này" in option.group(1)
    r = await client.post("/staffing/roster", data={**form, "person": f"u{ids['operator']}"})
    assert r.status_code == 409
    assert re.search(r'id="roster-person-error"[^>]*>Người này đã có trong ca<', r.text)
    assert re.search(rf'<option value="u{ids["operator"]}"[^>]*selected', r.text)
    # Nobody picked: said next to the list, before any service.
    r = await client.post("/staffing/roster", data={**form, "person": ""})
    assert r.status_code == 422
    assert re.search(r'id="roster-person-error"[^>]*>Chọn một người trong danh sách<', r.text)
    # Taking the volunteer's place off, from the button on the place.
    entry = re.search(
        r'<li data-entry="(\d+)"><span class="who">Hà Văn Tú'
        r'.*?action="/staffing/roster/(\d+)/remove"',
        page,
        re.S,
    )
    assert entry and entry.group(1) == entry.group(2)
    r = await client.post(
        f"/staffing/roster/{entry.group(1)}/remove",
        data={"csrf": form["csrf"], "week": str(tomorrow)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/staffing?date={tomorrow}&done=roster_remove#roster"
    assert await _places(client, world, tomorrow) == [("sang", ids["operator"], None)]


async def test_an_ended_place_keeps_its_record_and_has_no_remove_button(app, client, world) -> None:
    ids = await _user_ids(client, world)
    morning = await _shift(client, world, "sang")
    before = site_today() - timedelta(days=2)
    async with app.state.hotline.unit_of_work() as session:
        entry = RosterEntry(day=before, shift_id=morning["id"], user_id=ids["operator"])
        session.add(entry)
        await session.flush()
        entry_id = entry.id
    await sign_in(client, "supervisor")
    page = (await client.get(f"/staffing?date={before}")).text
    assert f'<li data-entry="{entry_id}">' in page
    assert f"/staffing/roster/{entry_id}/remove" not in page
    # Posted anyway: the service's refusal above the week it was on.
    r = await client.post(
        f"/staffing/roster/{entry_id}/remove", data={"csrf": csrf_of(page), "week": str(before)}
    )
    assert r.status_code == 422
    assert re.search(r'id="roster-grid-error"[^>]*>Ca sáng ngày [0-9/]+ đã kết thúc', r.text)
    assert f'<li data-entry="{entry_id}">' in r.text
    assert await _places(client, world, before) == [("sang", ids["operator"], None)]


async def test_a_lead_copies_the_week_shown_onto_the_next_and_reads_what_was_skipped(
    app, client, world
) -> None:
    ids = await _user_ids(client, world)
    officer = await _me(client, world, "officer")
    morning, evening = await _shift(client, world, "sang"), await _shift(client, world, "chieu")
    monday = site_today() - timedelta(days=site_today().weekday()) + timedelta(days=7)
    async with app.state.hotline.unit_of_work() as session:
        for day, shift in ((monday, morning), (monday + timedelta(days=1), evening)):
            session.add(RosterEntry(day=day, shift_id=shift["id"], user_id=ids["operator"]))
        # Already in the week after: kept, not doubled.
        session.add(
            RosterEntry(
                day=monday + timedelta(days=7), shift_id=morning["id"], user_id=ids["operator"]
            )
        )
        # Someone since made an officer: not copied.
        session.add(RosterEntry(day=monday, shift_id=evening["id"], user_id=officer))
    await sign_in(client, "supervisor")
    page = (await client.get(f"/staffing?date={monday}")).text
    assert f'name="source" value="{monday}"' in page
    r = await client.post(
        "/staffing/roster/copy-week",
        data={"csrf": csrf_of(page), "source": str(monday)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    address = urlsplit(r.headers["location"])
    query = {k: v[0] for k, v in parse_qs(address.query).items()}
    assert query == {
        "date": str(monday + timedelta(days=7)),
        "done": "roster_copy",
        "copied": "1",
        "already": "1",
        "ended": "0",
        "not_rosterable": "1",
        "same_person": "0",
    }
    shown = (await client.get(f"{address.path}?{address.query}")).text
    report = re.search(r'<div id="copy-report"[^>]*>(.*?)</div>', shown, re.S)
    assert report
    text = " ".join(re.sub(r"<[^>]+>", " ", report.group(1)).split())
    assert "Đã chép 1 lượt trực từ tuần trước sang tuần này." in text
    assert "Bỏ qua 2 lượt:" in text and "1 lượt đã có sẵn trong tuần này" in text
    assert "1 lượt của người không còn được xếp ca" in text
    assert sorted(await _places(client, world, monday + timedelta(days=8))) == [
        ("chieu", ids["operator"], None)
    ]
    # The week after a week already copied: nothing doubled, everything said skipped.
    r = await client.post(
        "/staffing/roster/copy-week",
        data={"csrf": csrf_of(page), "source": str(monday)},
        follow_redirects=False,
    )
    assert "copied=0&already=2" in r.headers["location"]


async def test_off_shift_leave_clocking_someone_out_and_a_shift_template_from_the_page(
    app, client, world
) -> None:
    ids = await _user_ids(client, world)
    officer = await _me(client, world, "officer")
    morning = await _shift(client, world, "sang")
    sup = world.auth("supervisor")
    await sign_in(client, "supervisor")
    page = (await client.get("/staffing")).text
    csrf = csrf_of(page)
    leave = re.search(r'<select id="leave-user_id"(.*?)</select>', page, re.S)
    assert leave and f'value="{ids["operator"]}"' in leave.group(1)
    # Mistakes next to their field: a number not typed as one, a leave without reason.
    r = await client.post(
        "/staffing/leave", data={"csrf": csrf, "user_id": str(ids["operator"]), "minutes": "ba"}
    )
    assert r.status_code == 422
    assert re.search(r'id="leave-minutes-error"[^>]*>Cần nhập một số<', r.text)
    assert 'value="ba" aria-invalid="true"' in r.text
    r = await client.post(
        "/staffing/leave", data={"csrf": csrf, "user_id": str(ids["operator"]), "minutes": "60"}
    )
    assert r.status_code == 422
    assert re.search(r'id="leave-reason-error"[^>]*>Cần lý do cho phép làm ngoài ca<', r.text)
    r = await client.post(
        "/staffing/leave",
        data={"csrf": csrf, "user_id": str(officer), "minutes": "60", "reason": "Thiếu"},
    )
    assert r.status_code == 422 and 'id="leave-user_id-error"' in r.text
    r = await client.post(
        "/staffing/leave",
        data={
            "csrf": csrf,
            "user_id": str(ids["operator"]),
            "minutes": "60",
            "reason": "Thiếu người ca chiều",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == (
        "/staffing?done=attendance_leave#attendance"
    )
    # With the leave the operator clocks in; the lead sees them and clocks them out.
    r = await client.post("/api/v1/shifts/clock/in", headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    page = (await client.get("/staffing")).text
    row = re.search(rf'<tr data-user="{ids["operator"]}">(.*?)</tr>', page, re.S)
    assert row and "Thiếu người ca chiều" in row.group(1)
    assert f"/staffing/attendance/{ids['operator']}/clock-out" in row.group(1)
    r = await client.post(
        f"/staffing/attendance/{ids['operator']}/clock-out",
        data={"csrf": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    agent = (await client.get("/api/v1/agents/me", headers=world.auth("operator"))).json()
    assert agent["status"] == "away"
    # Twice: the service's refusal on top of the card.
    r = await client.post(f"/staffing/attendance/{ids['operator']}/clock-out", data={"csrf": csrf})
    assert r.status_code == 409
    assert re.search(r'id="attendance-error"[^>]*>Người này chưa vào ca<', r.text)
    r = await client.post(
        f"/staffing/attendance/{ids['operator']}/end-leave",
        data={"csrf": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert f'<tr data-user="{ids["operator"]}">' not in (await client.get("/staffing")).text
    # A shift template: a wrong start named next to it, then saved.
    key = f"shift-{morning['id']}"
    shift_form = {"csrf": csrf, "name": "Ca sáng", "starts_at": "25:00", "hours": "8"}
    r = await client.post(
        f"/staffing/shifts/{morning['id']}", data={**shift_form, "operators": "6"}
    )
    assert r.status_code == 422
    assert re.search(rf'id="{key}-starts_at-error"[^>]*>Giờ bắt đầu ca viết dạng', r.text)
    assert 'value="25:00" aria-invalid="true"' in r.text
    r = await client.post(
        f"/staffing/shifts/{morning['id']}",
        data={**shift_form, "name": "Ca sớm", "starts_at": "05:30", "operators": "4"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/staffing?done=shifts_save#shifts"
    saved = next(
        s
        for s in (await client.get("/api/v1/shifts", headers=sup)).json()
        if s["id"] == morning["id"]
    )
    assert (saved["name"], saved["starts_at"][:5], saved["hours"], saved["operators"]) == (
        "Ca sớm",
        "05:30",
        8,
        4,
    )


async def test_the_new_forms_need_their_token_and_refuse_an_operator(app, client, world) -> None:
    ids = await _user_ids(client, world)
    morning = await _shift(client, world, "sang")
    tomorrow = site_today() + timedelta(days=1)
    async with app.state.hotline.unit_of_work() as session:
        entry = RosterEntry(day=tomorrow, shift_id=morning["id"], user_id=ids["supervisor"])
        session.add(entry)
        await session.flush()
        entry_id = entry.id
    posts = [
        ("/staffing/roster", {"day": str(tomorrow), "shift_id": str(morning["id"]),
                              "person": f"u{ids['supervisor']}"}),
        (f"/staffing/roster/{entry_id}/remove", {}),
        ("/staffing/roster/copy-week", {"source": str(tomorrow)}),
        ("/staffing/leave", {"user_id": str(ids["operator"]), "minutes": "60", "reason": "x"}),
        (f"/staffing/attendance/{ids['operator']}/clock-out", {}),
        (f"/staffing/attendance/{ids['operator']}/end-leave", {}),
        (f"/staffing/shifts/{morning['id']}",
         {"name": "Ca X", "starts_at": "07:00", "hours": "8", "operators": "1"}),
    ]  # fmt: skip
    sup = world.auth("supervisor")
    shifts_before = (await client.get("/api/v1/shifts", headers=sup)).json()
    week = (tomorrow, tomorrow + timedelta(days=14))

    async def unchanged() -> None:
        assert (await client.get("/api/v1/shifts", headers=sup)).json() == shifts_before
        r = await client.get(
            "/api/v1/roster", params={"from": str(week[0]), "to": str(week[1])}, headers=sup
        )
        people = [(s["day"], p["user_id"]) for s in r.json()["shifts"] for p in s["people"]]
        assert people == [(str(tomorrow), ids["supervisor"])]

    await sign_in(client, "supervisor")
    for path, data in posts:
        r = await client.post(path, data={**data, "csrf": "forged"})
        assert r.status_code == 400, path
        assert "Phiên làm việc đã hết hạn" in r.text, path
    await unchanged()
    await sign_in(client, "operator")
    csrf = csrf_of((await client.get("/staffing")).text)
    for path, data in posts:
        r = await client.post(path, data={**data, "csrf": csrf})
        assert r.status_code == 403, (path, r.text[:300])
        assert "trưởng ca" in r.text.lower(), path
    await unchanged()
