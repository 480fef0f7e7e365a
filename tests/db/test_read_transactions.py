"""Reads take no write lock: on SQLite two reads run side by side and beside the writer,
while writes still queue one behind the other (db.py, AppState.unit_of_work), and the
app's reading of the event log leaves the database to another process's writes."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url

from hotline.directory.models import Unit
from tests.conftest import World

pytestmark = pytest.mark.anyio

# Generous: a read that waits on another read's lock waits for busy_timeout (30 s).
NO_WAIT = 10.0


async def test_a_read_does_not_wait_for_another_open_read(
    app: Any, client: httpx.AsyncClient, world: World
) -> None:
    state = app.state.hotline
    async with state.unit_of_work(read_only=True) as held:
        await held.execute(select(func.count()).select_from(Unit))  # the transaction is open
        r = await asyncio.wait_for(
            client.get("/api/v1/units", headers=world.auth("operator")), NO_WAIT
        )
        assert r.status_code == 200, r.text
        async with state.unit_of_work(read_only=True) as other:
            assert (await other.execute(select(func.count()).select_from(Unit))).scalar_one()


async def test_reads_pass_an_open_write_and_writes_queue_behind_it(
    app: Any, client: httpx.AsyncClient, world: World
) -> None:
    state = app.state.hotline
    body = {"code": "UB-00010", "name": "UBND Phường Mới", "type": "ward_committee"}
    async with state.unit_of_work() as writer:
        await writer.execute(text("UPDATE unit SET phone = '02400000000' WHERE code = 'UB-00004'"))
        # A read during the write sees the last committed state and does not wait for it.
        r = await asyncio.wait_for(
            client.get("/api/v1/units", headers=world.auth("operator")), NO_WAIT
        )
        assert r.status_code == 200, r.text
        assert {u["code"]: u["phone"] for u in r.json()}["UB-00004"] in (None, "")
        # A second write waits for the first instead of failing with "database is locked".
        second = asyncio.create_task(
            client.post("/api/v1/units", json=body, headers=world.auth("admin"))
        )
        await asyncio.sleep(0)
    r2 = await asyncio.wait_for(second, 60)
    assert r2.status_code == 201, r2.text
    r = await client.get("/api/v1/units", headers=world.auth("operator"))
    phones = {u["code"]: u["phone"] for u in r.json()}
    assert phones["UB-00004"] == "02400000000"
    assert "UB-00010" in phones


async def test_a_read_only_unit_refuses_to_write_on_postgresql(app: Any, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no read-only transactions")
    from sqlalchemy.exc import DBAPIError

    state = app.state.hotline
    with pytest.raises(DBAPIError, match="read-only"):
        async with state.unit_of_work(read_only=True) as session:
            await session.execute(text("UPDATE unit SET phone = '1' WHERE code = 'UB-00004'"))


async def test_another_process_writes_while_the_app_reads_its_event_log(
    app: Any, database_url: str
) -> None:
    """Operators run the CLI against a live SQLite deployment. The app polls its event log
    every second; a poll that took the write lock held it until the app's loop came back to
    finish it, and a CLI run while the loop was busy (a test's blocking subprocess call, a
    slow request) failed with "database is locked" after the 30 s busy timeout."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's reads take no lock that writers wait on")
    path = make_url(database_url).database
    assert path is not None
    state = app.state.hotline
    outcomes: list[str] = []

    def write_from_another_process(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Inside the feed's read, its transaction open; the app's loop waits meanwhile.
        if "FROM event" not in statement or outcomes:
            return
        other = sqlite3.connect(path, timeout=NO_WAIT, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            outcomes.append("written")
        except sqlite3.OperationalError as exc:
            outcomes.append(str(exc))
        finally:
            other.close()

    engine = state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", write_from_another_process)
    try:
        await state.feed.sync()
    finally:
        event.remove(engine, "before_cursor_execute", write_from_another_process)
    assert outcomes == ["written"]
