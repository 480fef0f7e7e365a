"""The intake statement's cached plan on PostgreSQL (cases/intake_pg.py, PLAN_SETTINGS).

The intake connections keep one plan per connection instead of planning every statement.
A cached plan is made for any data, possibly on a new site's empty tables, so it must look
every row up by index whatever the tables' sizes were when it was made.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from hotline.auth.models import User
from hotline.cases import intake_pg
from tests.conftest import new_case_body

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

PLAN = "intake_plan_test"
NO_REPORTS = ", ".join(["NULL"] * len(intake_pg.COLUMNS))


def table_scans(plan: list[str]) -> list[tuple[str, str]]:
    """(scan line, the line under it) for every scan that reads a table or an index."""
    lines = [line.strip() for line in plan]
    scans = []
    for i, line in enumerate(lines):
        node = line.removeprefix("->  ")
        if "Scan" in node and not node.startswith(("CTE Scan", "Function Scan", "Subquery Scan")):
            scans.append((node, lines[i + 1] if i + 1 < len(lines) else ""))
    return scans


def assert_looks_up_by_index(plan: list[str]) -> None:
    scans = table_scans(plan)
    tables = {
        node.split(" on ")[1].split()[0].strip('"')
        for node, _ in scans
        if "Heap" in node or "using" in node
    }
    # The tables the statement reads rows of (the rest it only inserts into).
    assert {"case", "contact", "contact_phone"} <= tables, plan
    for node, under in scans:
        if node.startswith("Bitmap Heap Scan"):
            # Its rows come from the Bitmap Index Scan under it, checked as the others.
            assert under.startswith("Recheck Cond:"), (node, under)
            continue
        assert node.startswith(
            ("Index Scan using", "Index Only Scan using", "Bitmap Index Scan on")
        ), node
        assert under.startswith("Index Cond:"), (node, under)


def report(i: int, actor_id: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "e164": f"+8491{i:07d}",
        "name": f"Người {i}",
        "code": f"PLAN{i:06d}",
        "channel": "phone",
        "category": "ho_tro_kho_khan",
        "urgent": False,
        "priority": "normal",
        "description": f"Yêu cầu số {i}",
        "ward_code": "00004",
        "address": "Số 1 Kim Mã",
        "lat": None,
        "long": None,
        "public": False,
        "contact_id": None,
        "actor_id": actor_id,
        "search": f"yeu cau so {i}",
        "event_data": "{}",
        "now": now,
        "day": now.date(),
        "hour": 9,
        "live": "{}",
    }


async def test_api_intake_runs_on_one_cached_plan(app, client, world):
    state = app.state.hotline
    for i in range(6):
        body = new_case_body(contact={"name": "Lan", "phone": f"091200000{i}"}, urgent=False)
        r = await client.post("/api/v1/cases", json=body, headers=world.auth("operator"))
        assert r.status_code == 201, r.text
    pool = await state.autocommit_pool()
    generic = custom = 0
    # Every connection of the pool, held at once: prepared statements are per connection.
    conns = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        for conn in conns:
            for row in await conn.fetch(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE '%INSERT INTO case_counter_delta%'"
                " AND statement NOT LIKE '%pg_prepared_statements%'"
            ):
                generic += row["generic_plans"]
                custom += row["custom_plans"]
    finally:
        for conn in conns:
            await pool.release(conn)
    # (The first report may have gone through a unit of work: see open_case_autocommit.)
    statements = (await state.intake_writer()).statements
    assert statements >= 5
    assert (generic, custom) == (statements, 0)


async def test_plan_made_on_empty_tables_looks_rows_up_by_index(app, client, world):
    state = app.state.hotline
    pool = await state.autocommit_pool()
    async with state.sessionmaker() as s:
        actor_id = await s.scalar(select(User.id).where(User.username == "operator"))
    assert actor_id is not None
    async with pool.acquire() as conn:
        assert await conn.fetchval('SELECT count(*) FROM "case"') == 0
        # Known to be empty (as analysed), the case most tempting for a plan to scan them.
        await conn.execute('ANALYZE "case", contact, contact_phone')
        await conn.execute(f"PREPARE {PLAN} AS {intake_pg.ASYNCPG_SQL}")
        try:
            # Its first run makes the plan, on empty tables.
            await conn.execute(f"EXECUTE {PLAN}({NO_REPORTS})")
            made_empty = [r[0] for r in await conn.fetch(f"EXPLAIN EXECUTE {PLAN}({NO_REPORTS})")]
            assert_looks_up_by_index(made_empty)

            # The tables grow (reports, a contact each); the kept plan still goes by index.
            rows = [report(i, actor_id) for i in range(3000)]
            for start in range(0, len(rows), 100):
                written = await intake_pg.write_rows(conn, rows[start : start + 100])
                assert all(w is not None for w in written)
            grown = [r[0] for r in await conn.fetch(f"EXPLAIN EXECUTE {PLAN}({NO_REPORTS})")]
            assert_looks_up_by_index(grown)
        finally:
            await conn.execute(f"DEALLOCATE {PLAN}")
    # A report whose number is known and whose code is taken, through the same statement.
    async with pool.acquire() as conn:
        again = [report(5, actor_id), {**report(5, actor_id), "code": "PLANNEW001"}]
        written = await intake_pg.write_rows(conn, again)
        assert written[0] is None
        assert written[1] is not None
        known = await conn.fetchval(
            "SELECT contact_id FROM contact_phone WHERE e164 = $1", report(5, actor_id)["e164"]
        )
        assert written[1][1] == known
