"""The forecast says which history it stands on: the window, the days of it with calls,
and, for a new line with no history or under a week of it, plainly what it falls back to
(API and page)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import site_today
from tests.dashboard.helpers import sign_in
from tests.staffing.test_forecast import _history, pattern

pytestmark = pytest.mark.anyio


async def test_a_new_line_without_history_is_told_and_staffed_by_the_shift_templates(
    client, world
) -> None:
    target = site_today() + timedelta(days=1)
    sup = world.auth("supervisor")
    body = (await client.get(f"/api/v1/staffing/forecast?date={target}", headers=sup)).json()
    history = body["history"]
    assert history["days"] == 0 and history["enough"] is False
    assert history["basis"] == "shift_templates" and history["weeks"] == 8
    assert history["to"] == str(site_today() - timedelta(days=1))
    assert history["from"] == str(site_today() - timedelta(weeks=8))
    assert "Chưa có lịch sử cuộc gọi" in history["note"] and "mẫu ca" in history["note"]
    # The default shifts ask 6 people each: every half-hour needs 6.
    assert {s["agents_needed"] for s in body["slots"]} == {6}
    await sign_in(client, "supervisor")
    page = (await client.get(f"/staffing?date={target}")).text
    assert 'id="forecast-history" class="notice warn">Chưa có lịch sử cuộc gọi' in page


async def test_the_forecast_states_the_weeks_of_history_it_used(app, client, world) -> None:
    today = site_today()
    await _history(app, today - timedelta(days=21), 21)
    target = today + timedelta(days=1)
    sup = world.auth("supervisor")
    history = (await client.get(f"/api/v1/staffing/forecast?date={target}", headers=sup)).json()[
        "history"
    ]
    assert (history["days"], history["basis"], history["trend"]) == (21, "same_weekday", True)
    assert history["enough"] is True
    assert "Dùng 21 ngày (3.0 tuần) lịch sử cuộc gọi" in history["note"]


async def test_under_a_week_of_history_every_day_stands_in_and_it_says_so(
    app, client, world
) -> None:
    today = site_today()
    await _history(app, today - timedelta(days=3), 3)
    target = today + timedelta(days=1)
    sup = world.auth("supervisor")
    history = (await client.get(f"/api/v1/staffing/forecast?date={target}", headers=sup)).json()[
        "history"
    ]
    assert (history["days"], history["basis"], history["enough"]) == (3, "all_days", False)
    assert history["note"].startswith("Chỉ có 3 ngày lịch sử cuộc gọi")


async def test_under_a_week_of_history_every_day_stands_in_even_for_a_weekday_it_has(
    app, client, world
) -> None:
    today = site_today()
    history_days = [today - timedelta(days=i) for i in (3, 2, 1)]
    await _history(app, history_days[0], 3)
    # Four days on: the same weekday as the first day of history, which is not all of it.
    target = today + timedelta(days=4)
    assert target.weekday() == history_days[0].weekday()
    sup = world.auth("supervisor")
    slots = (await client.get(f"/api/v1/staffing/forecast?date={target}", headers=sup)).json()[
        "slots"
    ]
    for i, s in enumerate(slots):
        assert s["calls"] == pytest.approx(sum(pattern(d, i) for d in history_days) / 3), i
