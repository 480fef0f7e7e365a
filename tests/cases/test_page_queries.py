"""The inbox and the case page run as many SQL statements for 50 rows as for 5."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from tests.cases.helpers import create, forward, ok
from tests.cases.test_pages import signed_in  # noqa: F401 (fixture)

pytestmark = pytest.mark.anyio
FEED = re.compile(r"\bFROM event\b")


@contextmanager
def counting(app: Any) -> Iterator[list[str]]:
    """The statements the app's engine runs inside the block."""
    engine = app.state.hotline.engine.sync_engine
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        # The app's live-event feed polls the event log on its own schedule: not the page's.
        if not FEED.search(statement):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def _forwarded(client, world, n: int) -> list[str]:
    codes = []
    for _ in range(n):
        case = await create(client, world)
        await forward(client, world, case["code"])
        codes.append(case["code"])
    return codes


async def test_the_inbox_query_count_does_not_grow_with_its_rows(
    app,
    client,
    world,
    signed_in,  # noqa: F811
):
    await _forwarded(client, world, 5)
    async with signed_in("officer") as c:
        # Once first: what a first page view does once (a session touch, per-process caches
        # filled) is not what grows with the rows.
        await c.get("/inbox")
        with counting(app) as few:
            r = await c.get("/inbox")
        assert r.status_code == 200 and r.text.count('class="accept"') == 5
        await _forwarded(client, world, 45)
        with counting(app) as many:
            r = await c.get("/inbox")
        assert r.status_code == 200 and r.text.count('class="accept"') == 50
    assert len(many) == len(few), "\n".join(s[:90] for s in many)


async def test_the_case_page_query_count_does_not_grow_with_its_timeline(
    app,
    client,
    world,
    signed_in,  # noqa: F811
):
    case = await create(client, world)
    code = case["code"]
    for _ in range(5):
        await ok(client, world, "operator", code, "take")
    async with signed_in("operator") as c:
        await c.get(f"/cases/{code}")  # as above
        with counting(app) as few:
            r = await c.get(f"/cases/{code}")
        assert r.status_code == 200 and r.text.count("kind-taken") == 5
        for _ in range(45):
            await ok(client, world, "operator", code, "take")
        with counting(app) as many:
            r = await c.get(f"/cases/{code}")
        assert r.status_code == 200 and r.text.count("kind-taken") == 50
    assert len(many) == len(few), "\n".join(s[:90] for s in many)
