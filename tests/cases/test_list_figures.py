"""The list behind each figure of the dashboard and the report: cases of one local hour over
a period, the cases a unit still holds or has overdue, ever forwarded or not, without a
category."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import update

from hotline.cases.models import Case, CaseAssignment
from hotline.db import utcnow
from tests.cases.helpers import API, assert_problem, create, forward, ok
from tests.cases.test_list_search import _codes
from tests.conftest import SITE_TZ, site_today

pytestmark = pytest.mark.anyio


async def _created_at(app, code: str, at: datetime) -> None:
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(update(Case).where(Case.code == code).values(created_at=at))


async def test_hour_lists_the_cases_of_that_local_hour_of_each_day(app, client, world):
    today = site_today()
    yesterday = today - timedelta(days=1)
    nine = (await create(client, world))["code"]
    ten = (await create(client, world))["code"]
    nine_yesterday = (await create(client, world))["code"]
    await _created_at(app, nine, datetime.combine(today, time(9, 15), SITE_TZ))
    await _created_at(app, ten, datetime.combine(today, time(10, 0), SITE_TZ))
    await _created_at(app, nine_yesterday, datetime.combine(yesterday, time(9, 59), SITE_TZ))
    day = today.isoformat()
    assert await _codes(client, world, **{"from": day, "to": day, "hour": 9}) == [nine]
    assert await _codes(client, world, **{"from": day, "to": day, "hour": 10}) == [ten]
    week = {"from": yesterday.isoformat(), "to": day, "hour": 9}
    assert await _codes(client, world, **week) == [nine, nine_yesterday]
    for params, field in [
        ({"hour": 9}, "hour"),  # an hour of which days?
        ({"from": "2026-01-01", "to": "2026-03-01", "hour": 9}, "hour"),
        ({"from": day, "to": day, "hour": 24}, "hour"),
    ]:
        r = await client.get(API, params=params, headers=world.auth("operator"))
        assert_problem(r, 422, field)


async def test_a_units_backlog_and_its_overdue_forwardings_are_its_own(app, client, world):
    both = (await create(client, world))["code"]
    only_b = (await create(client, world, ward_code="00008"))["code"]
    late = await forward(client, world, both, "ward_a", deadline_hours=1)
    await forward(client, world, both, "ward_b")
    await forward(client, world, only_b, "ward_b")
    # Ward B gives `both` back; ward A still holds it, and its forwarding is overdue.
    await ok(client, world, "outsider", both, "return", {"reason": "Không thuộc địa bàn"})
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(
            update(CaseAssignment)
            .where(CaseAssignment.id == late["id"])
            .values(due_at=utcnow() - timedelta(hours=2))
        )
    a, b = world.units["ward_a"], world.units["ward_b"]
    assert set(await _codes(client, world, unit=b)) == {both, only_b}  # ever forwarded there
    assert await _codes(client, world, unit=b, held="true") == [only_b]
    assert await _codes(client, world, unit=b, held="false") == [both]
    assert await _codes(client, world, unit=a, held="true") == [both]
    assert await _codes(client, world, overdue="true") == [both]
    assert await _codes(client, world, unit=a, overdue="true") == [both]
    assert await _codes(client, world, unit=b, overdue="true") == []  # overdue at A, not B
    r = await client.get(API, params={"held": "true"}, headers=world.auth("operator"))
    assert_problem(r, 422, "held")


async def test_ever_forwarded_and_without_a_category(app, client, world):
    direct = (await create(client, world))["code"]
    sent = (await create(client, world))["code"]
    await forward(client, world, sent, "ward_a")
    # Given back by the unit: no longer with a unit, still forwarded once (the report's count).
    await ok(client, world, "officer", sent, "return", {"reason": "Không thuộc thẩm quyền"})
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(update(Case).where(Case.code == direct).values(category_code=None))
    assert await _codes(client, world, forwarded="true") == [sent]
    assert await _codes(client, world, forwarded="false") == [direct]
    assert await _codes(client, world, category="uncategorised") == [direct]
