"""The webhooks' statements keep one plan per connection on PostgreSQL (web/state.py's
hooks pool, as case intake's: cases/intake_pg.py PLAN_SETTINGS).

A batch's statement (channels/hooks_batch.py) was planned afresh for each batch, its
arrays' sizes making every custom plan look cheaper than the generic one. A kept plan
is made for any data, possibly on a new site's empty tables, so it must look every row up
by index whatever the tables' sizes were when it was made."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from hotline.channels.hooks_batch import BATCH_SQL
from hotline.channels.hooks_sql import CITIZEN_SQL, ECHOES_SQL, STORE_SQL
from tests.cases.test_intake_plan import table_scans
from tests.channels.zalo_helpers import deliver, make_channel, variant

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


def _params(channel: int, user: str, event: str) -> tuple[Any, ...]:
    now = datetime.now(UTC)
    values = (channel, "zalo", user, event, "text", "xin chào", None, "[]", None, None)
    return (*values, "citizen", False, now, now)


async def _plans(pool: Any, sql: str) -> tuple[int, int]:
    generic = custom = 0
    # Every connection of the pool, held at once: prepared statements are per connection.
    conns = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        for conn in conns:
            for row in await conn.fetch(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement = $1",
                sql,
            ):
                generic += row["generic_plans"]
                custom += row["custom_plans"]
    finally:
        for conn in conns:
            await pool.release(conn)
    return generic, custom


async def test_batches_of_webhooks_run_on_one_cached_plan(app, client, world, zalo):
    state = app.state.hotline
    channel = await make_channel(client, world, zalo.url)
    users = [f"u{i}" for i in range(8)]
    # Counted from here: a new citizen's event goes through the writer first too.
    writer = await state.hooks_writer()
    statements = writer.statements
    for user in users:
        body = variant("user_send_text", msg_id=f"{user}-0", text="Đèn hỏng", sender={"id": user})
        assert (await deliver(client, channel, body)).status_code == 200
    for round_ in range(1, 8):
        stored = await asyncio.gather(
            *(writer.store(_params(channel, user, f"{user}-{round_}")) for user in users)
        )
        assert all(s.message_id is not None for s in stored)
    batches = await _plans(writer.pool, BATCH_SQL)
    singles = await _plans(writer.pool, STORE_SQL)
    assert (batches[1], singles[1]) == (0, 0)
    assert batches[0] + singles[0] == writer.statements - statements >= 7


def _assert_looks_up_by_index(plan: list[str], tables: set[str]) -> None:
    scans = table_scans(plan)
    read = {
        node.split(" on ")[1].split()[0].strip('"')
        for node, _ in scans
        if "Heap" in node or "using" in node
    }
    assert tables <= read, plan
    for node, under in scans:
        if node.startswith("Bitmap Heap Scan"):
            assert under.startswith("Recheck Cond:"), (node, under)
            continue
        assert node.startswith(
            ("Index Scan using", "Index Only Scan using", "Bitmap Index Scan on")
        ), node
        assert under.startswith("Index Cond:"), (node, under)


async def test_the_hooks_plans_made_on_empty_tables_look_rows_up_by_index(app, client, world, zalo):
    state = app.state.hotline
    channel = await make_channel(client, world, zalo.url)
    pool = await state.hooks_pool()
    now = "'2026-12-06T09:00:00Z'::timestamptz"
    one = f"{channel}, 'zalo', 'u1', 'e1', 'text', 'x', NULL, '[]', NULL, NULL, 'citizen', false"
    many = ", ".join(
        f"ARRAY[{v}, {v}]"
        for v in (
            f"{channel}::bigint",
            "'zalo'",
            "'u1'",
            "'e1'",
            "'text'",
            "'x'",
            "NULL::text",
            "'[]'",
            "NULL::float8",
            "NULL::float8",
            "'citizen'",
            "false",
            now,
            now,
        )
    )
    cases = [
        (STORE_SQL, f"{one}, {now}, {now}", {"conversation", "message"}),
        (
            CITIZEN_SQL,
            f"{one}, {now}, {now}, 'Lan', ARRAY['+84912345678']",
            {"conversation", "contact_identity", "contact_phone", "message"},
        ),
        (BATCH_SQL, many, {"conversation", "message"}),
        (ECHOES_SQL, f"ARRAY[{channel}::bigint, {channel}], ARRAY['e1', 'e2']", {"message"}),
    ]
    async with pool.acquire() as conn:
        await conn.execute("ANALYZE conversation, contact_identity, contact_phone, message")
        assert await conn.fetchval("SELECT count(*) FROM message") == 0
        for i, (sql, args, tables) in enumerate(cases):
            name = f"hook_plan_{i}"
            await conn.execute(f"PREPARE {name} AS {sql}")
            try:
                tr = conn.transaction()
                await tr.start()
                try:
                    plan = [r[0] for r in await conn.fetch(f"EXPLAIN EXECUTE {name}({args})")]
                finally:
                    await tr.rollback()
                _assert_looks_up_by_index(plan, tables)
            finally:
                await conn.execute(f"DEALLOCATE {name}")
