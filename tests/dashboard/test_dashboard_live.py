"""The dashboard's live fragment (/dashboard/live), fetched again by every connected
dashboard after each event: one computation is shared while nothing happens, and a page
is never answered with figures older than the newest event it has received."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import event, func, select

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
        if "FROM event" not in statement:
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
    app, client, world
) -> None:
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
