"""The supervisors' dashboard (/dashboard): the figures are the services', for those who
supervise the floor only."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, update

from hotline.auth.service import actor_for_token
from hotline.cases.models import CaseAssignment
from hotline.dashboard import service
from hotline.db import utcnow
from tests.cases.helpers import create, forward
from tests.conftest import new_case_body
from tests.dashboard.helpers import sign_in

pytestmark = pytest.mark.anyio


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{re.escape(name)}"[^>]*><b>([^<]*)</b>', html)
    assert match, name
    return match.group(1)


async def live_of(app: Any, token: str) -> service.Live:
    state = app.state.hotline
    async with state.unit_of_work(read_only=True) as session:
        actor = await actor_for_token(session, token=token)
        return await service.live_figures(session, actor=actor, now=utcnow())


async def test_supervisor_sees_the_services_figures_and_each_links_to_its_list(
    app, client, world
) -> None:
    for urgent in (True, False, False):
        r = await client.post(
            "/api/v1/cases", json=new_case_body(urgent=urgent), headers=world.auth("operator")
        )
        assert r.status_code == 201, r.text
    await sign_in(client, "supervisor")
    page = await client.get("/dashboard")
    assert page.status_code == 200
    live = await live_of(app, world.tokens["supervisor"])
    c = live.counters
    assert (c.received, c.open, c.urgent) == (3, 3, 1)
    for name, value in {
        "received": c.received,
        "open": c.open,
        "forwarded": c.forwarded,
        "overdue": c.overdue,
        "urgent": c.urgent,
        "calls_offered": c.calls_offered,
        "calls_answered": c.calls_answered,
        "calls_abandoned": c.calls_abandoned,
        "callbacks_waiting": live.queue.callbacks_waiting,
        "calls_in_progress": live.queue.calls_in_progress,
    }.items():
        assert figure(page.text, name) == str(value), name
    day = c.day.isoformat()
    assert f'data-figure="urgent" href="/?from={day}&amp;to={day}&amp;urgent=true"' in page.text
    assert 'data-figure="overdue" href="/?overdue=true"' in page.text
    assert 'data-agent="operator"' in page.text and 'data-agent="supervisor"' in page.text
    # The chart of today's categories names the category and links to its list.
    assert "Hỗ trợ khó khăn" in page.text
    assert f"/?from={day}&amp;to={day}&amp;category=ho_tro_kho_khan" in page.text
    # The fragment the page's script swaps in carries the same figures.
    fragment = await client.get("/dashboard/live")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert figure(fragment.text, "received") == "3"


async def test_overdue_and_backlog_count_what_the_case_list_lists(app, client, world) -> None:
    late, on_time = [(await create(client, world))["code"] for _ in range(2)]
    late_assignment = await forward(client, world, late, "ward_a", deadline_hours=1)
    await forward(client, world, on_time, "ward_a", deadline_hours=1)
    async with app.state.hotline.sessionmaker() as session, session.begin():
        await session.execute(
            update(CaseAssignment)
            .where(CaseAssignment.id == late_assignment["id"])
            .values(due_at=utcnow() - timedelta(hours=3))
        )
    await sign_in(client, "supervisor")
    page = await client.get("/dashboard")
    listed = await client.get(
        "/api/v1/cases", params={"overdue": "true"}, headers=world.auth("supervisor")
    )
    assert [c["code"] for c in listed.json()["items"]] == [late]
    assert figure(page.text, "overdue") == "1"
    # The unit's backlog: both forwardings it holds, one of them overdue.
    unit = re.search(r'data-unit="UB-00004">(.*?)</tr>', page.text, re.S)
    assert unit, page.text
    assert re.findall(r">(\d+)</a>", unit.group(1)) == ["2", "1"]


@pytest.mark.parametrize("who", ["operator", "officer"])
async def test_those_who_do_not_supervise_the_floor_are_refused(client, world, who) -> None:
    await sign_in(client, who)
    page = await client.get("/dashboard")
    assert page.status_code == 403
    assert "giám sát viên" in page.text
    assert (await client.get("/dashboard/live")).status_code == 403
    assert 'href="/dashboard"' not in (await client.get("/login")).text


async def test_signed_out_visitors_go_to_the_sign_in_page(client) -> None:
    r = await client.get("/dashboard", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


async def test_a_duplicate_cluster_is_merged_from_the_dashboard(client, world) -> None:
    text = "Khu trọ ngõ 12 có 20 công nhân hết gạo ba ngày nay, xin hỗ trợ lương thực gấp"
    first = (await create(client, world, description=text))["code"]
    second = (await create(client, world, description=text + " ạ"))["code"]
    await sign_in(client, "operator")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', (await client.get("/")).text)
    assert csrf
    # Merging is the supervisors' (duplicates.merge): an operator's form changes nothing.
    r = await client.post(
        "/dashboard/merge",
        data={"primary": first, "duplicates": [second], "csrf": csrf.group(1)},
    )
    assert r.status_code == 403
    await sign_in(client, "supervisor")
    page = await client.get("/dashboard")
    form = re.search(r'action="/dashboard/merge".*?</form>', page.text, re.S)
    assert form, "no cluster on the dashboard"
    # The ward by its name, linking to its cases.
    assert re.search(r'<a href="/\?ward=00004">[^<0-9]+</a>', form.group(0))
    fields = re.findall(r'name="(\w+)" value="([^"]+)"', form.group(0))
    data: dict[str, Any] = {"duplicates": []}
    for name, value in fields:
        if name == "duplicates":
            data["duplicates"].append(value)
        else:
            data[name] = value
    assert {data["primary"], *data["duplicates"]} == {first, second}
    r = await client.post("/dashboard/merge", data=data, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/dashboard?merged={data['primary']}#duplicates"
    merged = data["duplicates"][0]
    case = await client.get(f"/api/v1/cases/{merged}", headers=world.auth("supervisor"))
    assert case.json()["status"] == "duplicate"
    # Merging it again is refused with the service's reason, shown on the page.
    r = await client.post("/dashboard/merge", data=data)
    assert r.status_code == 409 and 'role="alert"' in r.text and merged in r.text


async def test_the_dashboard_reads_a_fixed_number_of_queries_whatever_its_clusters(
    app, client, world
) -> None:
    """Every cluster's ward is named, and naming them costs one query, not one per ward."""
    statements: list[str] = []

    def count(_conn: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        # The live feed reads the event log on the same engine whenever it likes, and a
        # write finishing in the background (the intake's) may open its transaction while
        # the page is read: a BEGIN is not one of the page's queries.
        if (
            "FROM event" not in statement
            and "pg_current_snapshot" not in statement
            and not statement.startswith("BEGIN")
        ):
            statements.append(statement)

    async def queries_of_the_page() -> tuple[int, str]:
        statements.clear()
        page = await client.get("/dashboard")
        assert page.status_code == 200
        return len(statements), page.text

    text = "Khu trọ ngõ 12 có 20 công nhân hết gạo ba ngày nay, xin hỗ trợ lương thực gấp"
    # Ba Đình (00004), then Ngọc Hà (00008) and Giảng Võ (00025).
    wards = ["00004", "00008", "00025"]
    for _ in range(2):
        await create(client, world, description=text, ward_code=wards[0])
    await sign_in(client, "supervisor")
    event.listen(app.state.hotline.engine.sync_engine, "before_cursor_execute", count)
    try:
        one_ward, _ = await queries_of_the_page()
        for ward in wards[1:]:
            for _ in range(2):
                await create(client, world, description=text, ward_code=ward)
        three_wards, page = await queries_of_the_page()
    finally:
        event.remove(app.state.hotline.engine.sync_engine, "before_cursor_execute", count)
    for ward in wards:
        assert re.search(rf'<a href="/\?ward={ward}">[^<0-9]+</a>', page), ward
    assert three_wards == one_ward
