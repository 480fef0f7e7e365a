"""The staffing page (/staffing) and the public volunteer form (/tinh-nguyen), through HTTP
as a browser uses them: what each shows comes from the API's services, each form calls the
API's service, refusals come from those services, mistakes are shown next to their field."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from hotline.calls.models import Call
from hotline.reports.rebuild import rebuild_counters
from hotline.staffing import volunteers
from hotline.staffing.checks import working_day
from hotline.staffing.jobs import alert_unfilled
from tests.conftest import SITE_TZ, site_today
from tests.dashboard.helpers import sign_in
from tests.staffing.test_roster_rules import _me, _running_shift, volunteer_id

pytestmark = pytest.mark.anyio

VOLUNTEER = {
    "full_name": "Trần Văn Bình",
    "phone": "0912 000 333",
    "skills": {"medical": True, "languages": ["vi", "en"], "channels": ["phone", "zalo"]},
}


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


async def _user_ids(client: Any, world: Any) -> dict[str, int]:
    agents = (await client.get("/api/v1/agents", headers=world.auth("supervisor"))).json()
    return {a["username"]: a["user_id"] for a in agents}


async def _shift_id(client: Any, world: Any, code: str) -> int:
    shifts = (await client.get("/api/v1/shifts", headers=world.auth("supervisor"))).json()
    return int(next(s["id"] for s in shifts if s["code"] == code))


def call_rows(days_back: int, shape: Callable[[int], int]) -> list[dict[str, Any]]:
    """Answered operator-queue calls on each of the last `days_back` days: `shape(slot)`
    calls in each half-hour slot (0 = 00:00-00:30) of the site's day."""
    rows = []
    today = site_today()
    for i in range(1, days_back + 1):
        day = today - timedelta(days=i)
        for slot in range(48):
            start = datetime.combine(day, time(slot // 2, 30 * (slot % 2)), tzinfo=SITE_TZ)
            for k in range(shape(slot)):
                at = (start + timedelta(seconds=20 * k + 7)).astimezone(UTC)
                rows.append(
                    {
                        "line": "1022",
                        "caller": "",
                        "started_at": at,
                        "answered_at": at + timedelta(seconds=5),
                        "ended_at": at + timedelta(seconds=245),
                        "menu_path": "4",
                        "branch": "operator",
                        "queue_wait_seconds": 5,
                        "talk_seconds": 240,
                        "outcome": "answered",
                    }
                )
    return rows


def morning_calls(slot: int) -> int:
    """10 calls a half-hour from 09:00 to 12:00, none at other times."""
    return 10 if 18 <= slot < 24 else 0


async def _calls(app: Any) -> None:
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(insert(Call), call_rows(14, morning_calls))
        await rebuild_counters(session)


async def _scene(app: Any, client: Any, world: Any) -> dict[str, Any]:
    """A volunteer waiting, the operator on the shift running now with a swap asked for,
    two weeks of calls, and the unfilled shifts announced."""
    r = await client.post("/api/v1/public/volunteers", json=VOLUNTEER)
    assert r.status_code == 202, r.text
    ids = await _user_ids(client, world)
    sup, op = world.auth("supervisor"), world.auth("operator")
    # The shift running now: a place on an ended one is refused.
    day, running = await _running_shift(client, world)
    place = {
        "day": str(day),
        "shift_id": running["id"],
        "user_id": ids["operator"],
    }
    entry = (await client.post("/api/v1/roster", json=place, headers=sup)).json()
    swap = await client.post(
        f"/api/v1/roster/{entry['id']}/swaps",
        json={"to_user_id": ids["supervisor"], "reason": "Con ốm"},
        headers=op,
    )
    assert swap.status_code == 201, swap.text
    await _calls(app)
    async with app.state.hotline.unit_of_work() as session:
        await alert_unfilled(session, ahead=timedelta(hours=48))
    return {
        "volunteer": await volunteer_id(client, world, VOLUNTEER["phone"]),
        "swap": swap.json()["id"],
        "shift_code": running["code"],
        "day": day,
        "shift_name": running["name"],
        **ids,
    }


def _column(html: str, index: int) -> list[str]:
    """One column of the forecast table, row by row."""
    table = re.search(r'<table id="forecast-table">(.*?)</table>', html, re.S)
    assert table
    rows = re.findall(r"<tr[^>]*data-slot[^>]*>(.*?)</tr>", table.group(1), re.S)
    return [
        re.sub(r"<[^>]+>", "", re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[index]).strip()
        for row in rows
    ]


async def test_a_supervisor_sees_the_forecast_surge_alerts_volunteers_roster_and_swaps(
    app, client, world
) -> None:
    scene = await _scene(app, client, world)
    await sign_in(client, "supervisor")
    page = await client.get("/staffing")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'href="/staffing">Ca trực</a>' in html  # the navigation names it
    # The week of the shift running now (a night shift after midnight on a Monday is on
    # last week's page, a supervisor's page opening on the calendar's week).
    week = (await client.get(f"/staffing?date={scene['day']}")).text
    # The forecast: the API's figures, half-hour by half-hour, gaps highlighted.
    api = (
        await client.get(
            f"/api/v1/staffing/forecast?date={site_today()}", headers=world.auth("supervisor")
        )
    ).json()
    assert _column(html, 3) == [str(s["agents_needed"]) for s in api["slots"]]
    assert _column(html, 4) == [str(s["agents_rostered"]) for s in api["slots"]]
    short = sum(1 for s in api["slots"] if s["gap"] > 0)
    assert short > 0 and html.count('<tr class="short"') == short
    assert "Erlang C" in html and "mục tiêu 80% cuộc gọi được trả lời trong 20 giây" in html
    # ×3: the API's scale=3 figures.
    tripled = (await client.get("/staffing?scale=3")).text
    api3 = (
        await client.get(
            f"/api/v1/staffing/forecast?date={site_today()}&scale=3",
            headers=world.auth("supervisor"),
        )
    ).json()
    assert _column(tripled, 3) == [str(s["agents_needed"]) for s in api3["slots"]]
    assert 'scale=3#forecast" aria-current="true"' in tripled
    # Surge mode, the unfilled shifts, the volunteer waiting, the roster, the swap.
    assert 'id="surge-state">Bình thường' in html and 'id="surge-switch">Bật chế độ quá tải' in html
    unfilled = re.search(r'id="unfilled".*?</section>', html, re.S)
    assert unfilled and "Ca chiều" in unfilled.group(0)
    assert f'data-volunteer="{scene["volunteer"]}"' in html and "Trần Văn Bình" in html
    assert "+84912000333" in html
    assert f'data-swap="{scene["swap"]}"' in html and "Con ốm" in html
    morning = re.search(rf'<tr data-shift="{scene["shift_code"]}">(.*?)</tr>', week, re.S)
    assert morning and "operator" in morning.group(1) and "1/6" in morning.group(1)


async def test_the_page_names_a_wrong_day_or_scale_next_to_its_field(client, world) -> None:
    await sign_in(client, "supervisor")
    r = await client.get("/staffing?scale=7")
    assert r.status_code == 422
    error = re.search(r'id="scale-error"[^>]*>([^<]*)<', r.text)
    assert error and error.group(1) == "Hệ số chỉ nhận 1, 2 hoặc 3"
    assert "forecast-table" in r.text  # the ×1 forecast is shown instead
    r = await client.get("/staffing?date=05/12/2026")
    assert r.status_code == 422
    assert re.search(r'id="date-error"[^>]*>Ngày không hợp lệ', r.text)
    assert 'value="05/12/2026" aria-invalid="true"' in r.text
    client.cookies.set("lang", "en")
    r = await client.get("/staffing?scale=7")
    assert "The scale is 1, 2 or 3" in r.text and "Half-hourly forecast" in r.text


async def test_the_leads_forms_call_the_services_and_a_mistake_is_shown_next_to_its_field(
    app, client, world
) -> None:
    scene = await _scene(app, client, world)
    await sign_in(client, "supervisor")
    csrf = csrf_of((await client.get("/staffing")).text)
    sup = world.auth("supervisor")
    # Surge mode on by hand, with the reason typed.
    r = await client.post(
        "/staffing/surge",
        data={"csrf": csrf, "active": "1", "reason": "Tin nóng trên truyền hình"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/staffing?done=surge_on#surge"
    body = (await client.get("/api/v1/surge", headers=sup)).json()
    assert body["active"] is True and body["manual"] is True
    assert body["history"][0]["reason"] == "Tin nóng trên truyền hình"
    page = (await client.get("/staffing?done=surge_on")).text
    assert "Đã bật chế độ quá tải." in page and "Tin nóng trên truyền hình" in page
    assert 'id="surge-switch">Tắt chế độ quá tải' in page
    # An unknown account to link: the service's message next to the field, the typed id kept.
    volunteer = scene["volunteer"]
    r = await client.post(
        f"/staffing/volunteers/{volunteer}/approve", data={"csrf": csrf, "user_id": "987654321"}
    )
    assert r.status_code == 422
    key = f"volunteer-{volunteer}-user_id"
    # (The service's wording may change; it names the id.)
    assert re.search(rf'id="{key}-error"[^>]*>[^<]*987654321[^<]*<', r.text)
    assert (
        f'<select id="{key}" name="user_id" aria-invalid="true" aria-describedby="{key}-error">'
        in r.text
    )
    # The accounts to link are picked by name and username, not typed as an id.
    assert f'<option value="{scene["operator"]}">operator (operator)</option>' in r.text
    listed = (await client.get("/api/v1/volunteers", headers=sup)).json()["items"]
    assert listed[0]["status"] == "pending"
    r = await client.post(
        f"/staffing/volunteers/{volunteer}/approve",
        data={"csrf": csrf, "user_id": str(scene["operator"])},
        follow_redirects=False,
    )
    assert r.status_code == 303
    listed = (await client.get("/api/v1/volunteers", headers=sup)).json()["items"]
    assert (listed[0]["status"], listed[0]["user_id"]) == ("approved", scene["operator"])
    # Decided meanwhile: said on top of the page, the row being gone.
    r = await client.post(f"/staffing/volunteers/{volunteer}/reject", data={"csrf": csrf})
    assert r.status_code == 409
    assert re.search(r'id="page-error"[^>]*>Đăng ký này đã được xử lý<', r.text)
    # The swap, once the colleague (the supervisor) accepted it: the place passes to them.
    r = await client.post(f"/api/v1/swaps/{scene['swap']}/accept", headers=sup)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/staffing/swaps/{scene['swap']}/approve", data={"csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    swaps = (await client.get("/api/v1/swaps", headers=sup)).json()["items"]
    assert swaps[0]["status"] == "approved"


async def test_a_form_without_its_token_changes_nothing(app, client, world) -> None:
    scene = await _scene(app, client, world)
    await sign_in(client, "supervisor")
    sup = world.auth("supervisor")
    r = await client.post("/staffing/surge", data={"active": "1", "reason": "x"})
    assert r.status_code == 400
    assert re.search(r'id="surge-error"[^>]*>Phiên làm việc đã hết hạn', r.text)
    assert (await client.get("/api/v1/surge", headers=sup)).json()["active"] is False
    r = await client.post(
        f"/staffing/volunteers/{scene['volunteer']}/approve", data={"csrf": "forged"}
    )
    assert r.status_code == 400
    assert (await client.get("/api/v1/volunteers", headers=sup)).json()["items"][0][
        "status"
    ] == "pending"
    r = await client.post(f"/staffing/swaps/{scene['swap']}/approve", data={})
    assert r.status_code == 400
    assert (await client.get("/api/v1/swaps", headers=sup)).json()["items"][0][
        "status"
    ] == "requested"
    r = await client.post("/staffing/clock/in", data={})
    assert r.status_code == 400 and re.search(r'id="clock-error"[^>]*>Phiên làm việc', r.text)
    assert "Bạn chưa vào ca." in (await client.get("/staffing")).text


async def test_an_operator_sees_their_own_week_and_is_refused_the_leads_forms(
    app, client, world
) -> None:
    scene = await _scene(app, client, world)
    await sign_in(client, "operator")
    page = await client.get("/staffing")
    assert page.status_code == 200
    html = page.text
    assert "forecast-table" not in html and "roster-table" not in html
    assert "Trần Văn Bình" not in html and "surge-form" not in html
    mine = re.search(r'<ul id="my-shifts">(.*?)</ul>', html, re.S)
    assert mine and scene["shift_name"] in mine.group(1)
    # Their own request, which they may withdraw but not decide.
    assert f'data-swap="{scene["swap"]}"' in html
    assert f"/staffing/swaps/{scene['swap']}/withdraw" in html
    assert "/approve" not in html and "/reject" not in html
    csrf = csrf_of(html)
    sup = world.auth("supervisor")
    r = await client.post("/staffing/surge", data={"csrf": csrf, "active": "1"})
    assert r.status_code == 403 and "trưởng ca" in r.text
    assert (await client.get("/api/v1/surge", headers=sup)).json()["active"] is False
    r = await client.post(f"/staffing/volunteers/{scene['volunteer']}/approve", data={"csrf": csrf})
    assert r.status_code == 403
    assert (await client.get("/api/v1/volunteers", headers=sup)).json()["items"][0][
        "status"
    ] == "pending"
    r = await client.post(f"/staffing/swaps/{scene['swap']}/approve", data={"csrf": csrf})
    assert r.status_code == 403
    assert (await client.get("/api/v1/swaps", headers=sup)).json()["items"][0][
        "status"
    ] == "requested"


@pytest.mark.parametrize("who", ["officer", "doctor"])
async def test_those_outside_the_hotline_staff_are_refused(client, world, who) -> None:
    await sign_in(client, who)
    page = await client.get("/staffing")
    assert page.status_code == 403 and "lịch trực" in page.text
    home = await client.get("/inbox" if who == "officer" else "/care")
    assert 'href="/staffing"' not in home.text
    csrf = csrf_of(home.text)
    r = await client.post("/staffing/clock/in", data={"csrf": csrf})
    assert r.status_code == 403


async def test_signed_out_visitors_go_to_the_sign_in_page(client) -> None:
    r = await client.get("/staffing", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


async def test_an_operator_clocks_in_and_out_from_the_console(client, world) -> None:
    day, shift = await _running_shift(client, world)
    r = await client.post(
        "/api/v1/roster",
        json={
            "day": str(day),
            "shift_id": shift["id"],
            "user_id": await _me(client, world, "operator"),
        },
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 201, r.text
    await sign_in(client, "operator")
    board = (await client.get("/")).text
    assert 'id="clock-state">Chưa vào ca' in board
    assert 'action="/staffing/clock/in"' in board
    csrf = csrf_of(board)
    r = await client.post(
        "/staffing/clock/in", data={"csrf": csrf, "back": "/"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    op = world.auth("operator")
    assert (await client.get("/api/v1/agents/me", headers=op)).json()["status"] == "available"
    board = (await client.get("/")).text
    assert "Trong ca từ" in board and 'id="clock-button">Hết ca' in board
    assert "Bạn đang trong ca từ" in (await client.get("/staffing")).text
    r = await client.post("/staffing/clock/out", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/staffing?done=clock_out#clock"
    assert (await client.get("/api/v1/agents/me", headers=op)).json()["status"] == "away"
    # Out twice (a second tab): the service's refusal next to the control.
    r = await client.post("/staffing/clock/out", data={"csrf": csrf})
    assert r.status_code == 409
    assert re.search(r'id="clock-error"[^>]*>Bạn chưa vào ca<', r.text)


# -- the public volunteer form ----------------------------------------------------------------


def _form(csrf: str, **values: Any) -> dict[str, Any]:
    return {
        "csrf": csrf,
        "full_name": "Lê Thị Hoa",
        "phone": "0987 654 321",
        "medical": "1",
        "languages": "vi, en",
        "channels": ["phone", "zalo"],
        "note": "Tối thứ bảy",
        "reserve": "1",
        **values,
    }


async def test_a_citizen_signs_up_to_volunteer_from_the_portal(client, world) -> None:
    page = await client.get("/tinh-nguyen")
    assert page.status_code == 200 and 'action="/tinh-nguyen"' in page.text
    # The form offers every channel the service takes, and only those.
    assert set(re.findall(r'name="channels" value="(\w+)"', page.text)) == volunteers.CHANNELS
    assert 'href="/tinh-nguyen" aria-current="page"' in page.text
    csrf = csrf_of(page.text)
    r = await client.post("/tinh-nguyen", data=_form(csrf), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/tinh-nguyen/da-gui"
    assert "Cảm ơn bạn đã đăng ký tình nguyện" in (await client.get(r.headers["location"])).text
    listed = (await client.get("/api/v1/volunteers", headers=world.auth("supervisor"))).json()[
        "items"
    ]
    assert len(listed) == 1
    v = listed[0]
    assert (v["full_name"], v["phone"], v["status"], v["reserve"]) == (
        "Lê Thị Hoa",
        "+84987654321",
        "pending",
        True,
    )
    assert v["skills"] == {
        "medical": True,
        "languages": ["en", "vi"],
        "channels": ["phone", "zalo"],
    }
    assert v["note"] == "Tối thứ bảy"
    # The same number again: answered as a new offer (nothing says it is registered),
    # and kept as an offer of its own, waiting for the number to be proved.
    r = await client.post("/tinh-nguyen", data=_form(csrf))
    assert r.status_code == 303 and r.headers["location"] == "/tinh-nguyen/da-gui"
    assert "đã đăng ký" not in r.text
    again = (await client.get("/api/v1/volunteers", headers=world.auth("supervisor"))).json()
    assert [x["id"] for x in again["items"]][1:] == [v["id"]]
    assert [x["phone_confirmed"] for x in again["items"]] == [None, None]


async def test_the_volunteer_form_shows_each_mistake_next_to_its_field_and_keeps_the_rest(
    client, world
) -> None:
    csrf = csrf_of((await client.get("/tinh-nguyen")).text)
    r = await client.post("/tinh-nguyen", data=_form(csrf, phone="0912-ABC"))
    assert r.status_code == 422
    assert re.search(r'id="phone-error"[^>]*>Số điện thoại chỉ gồm chữ số: “0912-ABC”<', r.text)
    assert 'value="0912-ABC" aria-invalid="true" aria-describedby="phone-error"' in r.text
    assert 'value="Lê Thị Hoa"' in r.text and ">Tối thứ bảy</textarea>" in r.text
    assert (
        'value="zalo" checked' in r.text
        and 'id="reserve" name="reserve" value="1" checked' in r.text
    )
    r = await client.post("/tinh-nguyen", data=_form(csrf, languages="tiếng Anh"))
    assert r.status_code == 422
    assert re.search(r'id="languages-error"[^>]*>Ngôn ngữ chưa được hỗ trợ: anh, tiếng', r.text)
    r = await client.post("/tinh-nguyen", data=_form(csrf, channels=["phone", "fax"]))
    assert r.status_code == 422 and re.search(r'id="channels-error"[^>]*>Kênh không hợp lệ', r.text)
    r = await client.post("/tinh-nguyen", data=_form(csrf, full_name="x" * 121))
    assert r.status_code == 422
    assert re.search(r'id="full_name-error"[^>]*>Chuỗi dài tối đa 120 ký tự<', r.text)
    r = await client.post("/tinh-nguyen", data=_form(csrf, full_name="Lê\x00Hoa"))
    assert r.status_code == 422 and 'value="LêHoa"' in r.text
    # Without the form token nothing is kept but what was typed.
    r = await client.post("/tinh-nguyen", data=_form("forged"))
    assert r.status_code == 400 and 'id="form-error"' in r.text and 'value="Lê Thị Hoa"' in r.text
    client.cookies.set("lang", "en")
    r = await client.post("/tinh-nguyen", data=_form(csrf, phone="0912-ABC"))
    assert "Volunteer for the 1022 hotline" in r.text
    listed = (await client.get("/api/v1/volunteers", headers=world.auth("supervisor"))).json()[
        "items"
    ]
    assert listed == []


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2026, 12, 7, 1, 30), date(2026, 12, 6)),  # Monday 01:30: Sunday's night shift
        (datetime(2026, 12, 7, 5, 59), date(2026, 12, 6)),
        (datetime(2026, 12, 7, 6, 0), date(2026, 12, 7)),  # the night shift ended at 06:00
        (datetime(2026, 12, 7, 23, 0), date(2026, 12, 7)),  # tonight's own night shift
    ],
)
async def test_the_page_opens_on_the_day_whose_shift_is_being_worked(app, local, expected):
    # A night operator at 01:30 on a Monday is on Sunday's shift: the page opens on that
    # week (the calendar's Monday would show a week they have no shift in yet).
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        at = local.replace(tzinfo=SITE_TZ)
        assert await working_day(session, at) == expected
