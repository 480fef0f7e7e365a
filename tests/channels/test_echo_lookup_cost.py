"""An echo's lookup reads a handful of index pages however many messages its channel holds.

The shared echo lookup (hooks_sql.ECHOES_SQL) and the portable path find our sends by the
channel and the provider's id. With only an index on `provider_id` and the unique one on
`(channel_id, event_id)`, PostgreSQL, without statistics of the table (never analysed:
autovacuum off, or not come round yet after a busy intake), combined the two in a
BitmapAnd: every echo read the whole channel's entries of the second index (113,533 of
them, 3-6 ms of the database's CPU an echo, after a benchmark's intake), so the outbox
slowed as the channel's messages grew. One index on `(provider_id, channel_id)` now serves
that lookup; led by the provider's id, it is never taken for the lookup by the channel and
event id (an index led by the channel was, in a plan made on one row's statistics).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from hotline.channels.hooks_sql import ECHOES_SQL
from tests.channels.zalo_helpers import deliver, make_channel, variant

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

MESSAGES = 20_000
# Pages a lookup of two ids may read: a few index levels and a heap page for each branch.
# Before the fix the lookups read the channel's whole index range (over a hundred pages).
MAX_PAGES = 30


def _pages(plan: dict[str, Any]) -> int:
    return int(plan["Shared Hit Blocks"]) + int(plan["Shared Read Blocks"])


async def _lookup_pages(conn: Any, channel: int, ids: list[str]) -> int:
    await conn.execute(f"PREPARE echo_cost AS {ECHOES_SQL}")
    try:
        pages = []
        for _ in range(7):  # past the fifth run: the kept generic plan too
            channels = ", ".join(str(channel) for _ in ids)
            events = ", ".join(f"'{i}'" for i in ids)
            raw = await conn.fetchval(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)"
                f" EXECUTE echo_cost(ARRAY[{channels}]::bigint[], ARRAY[{events}])"
            )
            pages.append(_pages(json.loads(raw)[0]["Plan"]))
        return max(pages)
    finally:
        await conn.execute("DEALLOCATE echo_cost")


async def test_an_echo_lookup_reads_a_few_pages_in_a_channel_of_many_messages(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    assert (await deliver(client, channel, variant("user_send_text"))).status_code == 200
    pool = await app.state.hotline.hooks_pool()
    async with pool.acquire() as conn:
        # Statistics from when the channel held one message, as after a sudden surge.
        await conn.execute("ANALYZE message")
        await conn.execute(
            """
            INSERT INTO message (channel_id, conversation_id, direction, kind, text, event_id,
                attachments, status, attempts, source, automatic, created_at, provider_id)
            SELECT m.channel_id, m.conversation_id, d.direction, 'text', 'x' || g,
                CASE WHEN d.direction = 'in' THEN 'ev' || g END, '[]',
                CASE WHEN d.direction = 'in' THEN 'received' ELSE 'sent' END, 0,
                'citizen', false, now(), CASE WHEN d.direction = 'out' THEN 'pid' || g END
            FROM message m, generate_series(1, $1::int) g,
                LATERAL (SELECT CASE WHEN g % 2 = 0 THEN 'in' ELSE 'out' END AS direction) d
            WHERE m.channel_id = $2
            """,
            MESSAGES,
            channel,
        )
        ids = ["pid7", "unknown-echo"]  # a recorded send's echo and one not ours
        stale = await _lookup_pages(conn, channel, ids)
        # Never analysed (autovacuum off, or not yet come round): the planner's defaults.
        await conn.execute("DELETE FROM pg_statistic WHERE starelid = 'message'::regclass")
        await conn.execute("UPDATE pg_class SET reltuples = -1 WHERE oid = 'message'::regclass")
        unknown = await _lookup_pages(conn, channel, ids)
        await conn.execute("ANALYZE message")
        fresh = await _lookup_pages(conn, channel, ids)
    assert max(stale, unknown, fresh) <= MAX_PAGES, (stale, unknown, fresh)
