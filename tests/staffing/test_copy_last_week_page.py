"""The staffing page copies last week into the week shown (the current one, or a later
one), as `POST /api/v1/roster/copy-week` does: only the places not there yet, and not
on shifts already over; the page then says what was copied and skipped. A lead's form:
its token checked, a refusal next to the form."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from hotline.staffing.models import RosterEntry
from tests.conftest import site_today
from tests.dashboard.helpers import sign_in
from tests.staffing.test_pages import csrf_of
from tests.staffing.test_roster import _shift
from tests.staffing.test_roster_rules import _me

pytestmark = pytest.mark.anyio


async def test_a_lead_copies_last_week_into_the_current_week(app, client, world) -> None:
    operator = await _me(client, world, "operator")
    night = await _shift(client, world, "dem")
    today = site_today()
    monday = today - timedelta(days=today.weekday())
    async with app.state.hotline.unit_of_work() as session:
        # Tonight's night shift, a week before: tonight's has not ended, whatever the hour.
        session.add(
            RosterEntry(day=today - timedelta(days=7), shift_id=night["id"], user_id=operator)
        )
    await sign_in(client, "supervisor")
    page = (await client.get("/staffing")).text
    form = re.search(r'<form[^>]*id="copy-last-form".*?</form>', page, re.S)
    assert form, "no form copying last week into this one"
    assert f'name="week" value="{monday}"' in form.group(0)
    r = await client.post(
        "/staffing/roster/copy-last-week",
        data={"csrf": csrf_of(page), "week": str(monday)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    address = urlsplit(r.headers["location"])
    query = {k: v[0] for k, v in parse_qs(address.query).items()}
    assert query["date"] == str(monday) and query["done"] == "roster_copy"
    assert query["copied"] == "1"
    shown = (await client.get(f"{address.path}?{address.query}")).text
    assert "Đã chép 1 lượt trực từ tuần trước sang tuần này." in shown
    r = await client.get(
        "/api/v1/roster", params={"from": str(today), "to": str(today)},
        headers=world.auth("supervisor"),
    )  # fmt: skip
    tonight = next(s for s in r.json()["shifts"] if s["code"] == "dem")
    assert [p["user_id"] for p in tonight["people"]] == [operator]


async def test_copying_into_a_week_over_is_refused_next_to_the_form(client, world) -> None:
    await sign_in(client, "supervisor")
    monday = site_today() - timedelta(days=site_today().weekday())
    gone = monday - timedelta(days=14)
    page = (await client.get(f"/staffing?date={gone}")).text
    assert 'id="copy-last-form"' not in page  # a week over offers no copy into it
    r = await client.post(
        "/staffing/roster/copy-last-week", data={"csrf": csrf_of(page), "week": str(gone)}
    )
    assert r.status_code == 422
    assert re.search(r'id="copy-last-error"[^>]*>Tuần nhận lịch đã qua', r.text), r.text[-3000:]
    r = await client.post(
        "/staffing/roster/copy-last-week", data={"csrf": "forged", "week": str(monday)}
    )
    assert r.status_code == 400 and "Phiên làm việc đã hết hạn" in r.text
    r = await client.post(
        "/staffing/roster/copy-last-week", data={"csrf": csrf_of(page), "week": "hôm qua"}
    )
    assert r.status_code == 422
    assert re.search(r'id="copy-last-error"[^>]*>Ngày không hợp lệ', r.text)
