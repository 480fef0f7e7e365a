"""The dashboard's live fragment (/dashboard/live), fetched again by every connected
dashboard after each event: one computation is shared while nothing happens, and a page
is never answered with figures older than the newest event it has received."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import event, func, select

from hotline.dashboard import service
from hotline.events import EventRow
from tests.cases.helpers import create
from tests.dashboard.helpers import sign_in

pytestmark = pytest.mark.anyio


def received(html: str) -> str:
    match = re.search(r'data-figure="received"[^>]*><b>([^<]*)</b>', html)
    assert match, html
    return match.group(1)


async def fetch_counting(app: Any, client: Any, url: str) -> tuple[str, int]:
    """The fragment and how many statements serving it ran (the live feed's own reads of
    the event log aside)."""
    statements: list[str] = []

    def count(_conn: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        if "FROM event" not in statement and "pg_current_snapshot" not in statement:
            statements.append(statement)

    engine = app.state.hotline.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        r = await client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert r.status_code == 200, r.text
    return r.text, len(statements)


async def test_dashboards_asking_while_nothing_happens_share_one_computation(
    app, client, world, monkeypatch
) -> None:
    # However slow the machine running the test, the two requests fall within the reuse.
    monkeypatch.setattr(service, "SHARED_SECONDS", 60.0)
    await create(client, world)
    await sign_in(client, "supervisor")
    # Nothing happens from here on: the feed has read every event there is.
    await app.state.hotline.feed.sync()
    first, computed = await fetch_counting(app, client, "/dashboard/live")
    again, shared = await fetch_counting(app, client, "/dashboard/live")
    assert received(first) == received(again) == "1"
    # The second only checks who asks (the session and the user).
    assert shared < computed and shared <= 3, (shared, computed)


async def test_a_page_never_gets_figures_older_than_its_newest_event(app, client, world) -> None:
    await sign_in(client, "supervisor")
    # This process's feed stands still: its position no longer tells of new events.
    await app.state.hotline.feed.stop()
    before, _ = await fetch_counting(app, client, "/dashboard/live")
    assert received(before) == "0"
    await create(client, world)
    async with app.state.hotline.sessionmaker() as session:
        newest = await session.scalar(select(func.max(EventRow.id)))
    after, _ = await fetch_counting(app, client, f"/dashboard/live?after={newest}")
    assert received(after) == "1"


async def test_the_fragment_refuses_a_bad_position(client, world) -> None:
    await sign_in(client, "supervisor")
    r = await client.get("/dashboard/live?after=-1")
    assert r.status_code in (400, 422)


async def test_the_shared_fragment_is_each_readers_language(app, client, world) -> None:
    await sign_in(client, "supervisor")
    await app.state.hotline.feed.sync()
    assert "Tiếp nhận" in (await client.get("/dashboard/live")).text
    client.cookies.set("lang", "en")
    english = (await client.get("/dashboard/live")).text
    assert "Received" in english and "Tiếp nhận" not in english
    client.cookies.set("lang", "vi")
    assert "Tiếp nhận" in (await client.get("/dashboard/live")).text


async def test_in_a_surge_a_page_gets_the_shared_figures_that_include_its_newest_event(
    app, client, world, monkeypatch
) -> None:
    """Figures are computed once per second or so, not once per event: a page is answered
    with figures that include the newest event it has heard of, and asks again for the
    next one when it hears of it."""
    monkeypatch.setattr(service, "SHARED_SECONDS", 60.0)
    await sign_in(client, "supervisor")

    async def newest_event() -> int:
        await app.state.hotline.feed.sync()
        async with app.state.hotline.sessionmaker() as session:
            return int(await session.scalar(select(func.max(EventRow.id))) or 0)

    await create(client, world)
    first = await newest_event()
    shown, _ = await fetch_counting(app, client, f"/dashboard/live?after={first}")
    assert received(shown) == "1"
    await create(client, world)
    second = await newest_event()
    # A page that has not heard of the second case yet: the figures computed for the first.
    shown, statements = await fetch_counting(app, client, f"/dashboard/live?after={first}")
    assert received(shown) == "1" and statements <= 3
    # Once it has, it is never answered without it.
    shown, _ = await fetch_counting(app, client, f"/dashboard/live?after={second}")
    assert received(shown) == "2"
