"""Every figure of the dashboard opens the list behind it: the case list at the figure's link
lists exactly as many cases as the figure says, in the API and on the console the link opens.
And the charts come as a fragment of their own, for the page to swap in live."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hotline.cases.models import Case, CaseAssignment
from hotline.db import utcnow
from hotline.reports.counters import count_case
from tests.cases.helpers import create, forward
from tests.dashboard.helpers import sign_in

pytestmark = pytest.mark.anyio
FIGURE_LINK = re.compile(r'<a [^>]*href="/\?([^"]*)"[^>]*data-count="(\d+)"')


async def _two_days_earlier(app, code: str) -> None:
    """Move a case two days back, its report counters with it (as if it came then)."""
    async with app.state.hotline.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.code == code))
        assert case is not None
        then = case.created_at - timedelta(days=2)
        common = {"category_code": case.category_code, "channel": case.channel.value}
        await count_case(session, created_at=case.created_at, created=-1, **common)
        await count_case(session, created_at=then, created=1, **common)
        await session.execute(update(Case).where(Case.id == case.id).values(created_at=then))


async def test_every_figure_links_to_a_list_of_exactly_its_cases(app, client, world) -> None:
    await create(client, world, urgent=True)
    await create(client, world, category="tu_van_suc_khoe", channel="zalo")
    late = (await create(client, world))["code"]
    held = (await create(client, world, ward_code="00008"))["code"]
    assignment = await forward(client, world, late, "ward_a", deadline_hours=1)
    await forward(client, world, late, "ward_b")
    await forward(client, world, held, "ward_b")
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(
            update(CaseAssignment)
            .where(CaseAssignment.id == assignment["id"])
            .values(due_at=utcnow() - timedelta(hours=2))
        )
    for _ in range(2):  # the hourly average's week
        await _two_days_earlier(app, (await create(client, world))["code"])
    await sign_in(client, "supervisor")
    page = await client.get("/dashboard")
    assert page.status_code == 200
    links = [(html.unescape(q), int(n)) for q, n in FIGURE_LINK.findall(page.text)]
    # Counters, 24 hours and their averages, categories, channels, two units' backlogs.
    assert len(links) >= 5 + 48 + 2 + 2 + 4
    nonzero = [q for q, n in links if n]
    assert any("hour=" in q and "to=" in q for q in nonzero)
    for query, count in links:
        if not count and "hour=" in query:
            continue  # the empty hours: one check of them below is enough
        listed = await client.get(
            f"/api/v1/cases?{query}&limit=200", headers=world.auth("supervisor")
        )
        assert listed.status_code == 200, (query, listed.text)
        assert len(listed.json()["items"]) == count, query
        console = await client.get(f"/?{query}")
        assert console.status_code == 200, query
        assert console.text.count('data-code="') == count, query
    empty = next(q for q, n in links if "hour=" in q and not n)
    assert (await client.get(f"/?{empty}")).text.count('data-code="') == 0


async def test_the_charts_come_as_a_fragment_that_follows_the_cases(client, world) -> None:
    await sign_in(client, "supervisor")
    before = await client.get("/dashboard/charts")
    assert before.status_code == 200 and "<html" not in before.text
    assert 'id="charts"' in before.text and "Chưa có yêu cầu nào hôm nay." in before.text
    await create(client, world, channel="zalo")
    after = await client.get("/dashboard/charts")
    day = re.search(r'data-day="([^"]+)"', after.text)
    assert day
    assert f"/?from={day.group(1)}&amp;to={day.group(1)}&amp;channel=zalo" in after.text
    await sign_in(client, "operator")
    assert (await client.get("/dashboard/charts")).status_code == 403
