"""Group commit for the providers' webhooks on PostgreSQL: events arriving together are
stored together.

Under load most of a webhook's cost is the statement around its row, on both sides: the
pool handing out a connection, the round trip, starting the executor for a plan of CTEs,
the commit. `HookWriter` keeps a few lanes (as case intake's `IntakeWriter` does, in
cases/intake_batch.py): an event that finds a lane free is written at once with
`hooks_sql.STORE_SQL`; while every lane is busy, events queue, and the next free lane writes
all of them (up to `max_batch`) in one statement, `BATCH_SQL`, that does for each what
`STORE_SQL` does for one. The same event delivered several times into one batch is written
once; the other deliveries are answered as repeats.

Nothing is answered before its statement has committed, so "nothing lost after a 200"
holds as before. A batch is one statement and so commits or fails whole. When the server
refuses it, its events are written again one by one, so a single bad one fails only its
own delivery. When the connection is lost instead, every delivery of the batch fails (a
5xx): the provider delivers again, and an event that had been stored is then answered as a
repeat.

Locks are taken in one order by every statement, so that batches never deadlock with each
other nor with single events: first the citizens' open conversations, by channel and
citizen (`FOR UPDATE`), then the messages' unique keys, each under its conversation's lock.
"""

from __future__ import annotations

import asyncio
from typing import Any, NamedTuple

import asyncpg
import structlog

from hotline.channels.hooks_sql import ECHOES_SQL, STORE_SQL
from hotline.group_commit import GroupWriter, settle

log = structlog.get_logger(__name__)


class Stored(NamedTuple):
    """What storing one event found: the new message's id (None if nothing was written),
    the citizen's open conversation (None if unknown: a new citizen), and whether the
    event was stored before."""

    message_id: int | None
    conversation_id: int | None
    seen: bool


# `STORE_SQL` over arrays, one element per event ($1 .. $14 as there, each an array).
BATCH_SQL = """
WITH input AS (
    SELECT * FROM unnest(
        $1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
        $7::text[], $8::text[], $9::float8[], $10::float8[], $11::text[], $12::boolean[],
        $13::timestamptz[], $14::timestamptz[]
    ) WITH ORDINALITY AS t(
        channel_id, identity_channel, user_id, event_id, kind, text, subject, attachments,
        lat, long, source, automatic, at, now, n
    )
), conv AS (
    -- Each event's lookups by unique key, row by row (LATERAL ... LIMIT 1): a plan kept
    -- from when the tables were small must not scan them whole once they are large. The
    -- open conversations are locked in one order, by citizen (`ordered`).
    SELECT ordered.n, found.id
    FROM (SELECT * FROM input ORDER BY channel_id, user_id) ordered
    CROSS JOIN LATERAL (
        SELECT c.id FROM conversation c
        WHERE c.channel_id = ordered.channel_id AND c.external_user_id = ordered.user_id
          AND c.status = 'open' AND c.audience = 'citizen'  -- never a staff notice
          AND EXISTS (
              SELECT 1 FROM contact_identity i
              WHERE i.channel = ordered.identity_channel AND i.external_id = ordered.user_id
          )
        LIMIT 1
        FOR UPDATE OF c
    ) found
), seen AS (
    SELECT input.n FROM input
    CROSS JOIN LATERAL (
        SELECT 1 FROM message m
        WHERE m.channel_id = input.channel_id AND m.event_id = input.event_id
        LIMIT 1
    ) stored
), msg AS (
    INSERT INTO message (
        channel_id, conversation_id, direction, kind, text, subject, event_id, attachments,
        lat, long, status, attempts, source, automatic, created_at
    )
    SELECT input.channel_id, conv.id, 'in', input.kind, input.text, input.subject,
           input.event_id, input.attachments::jsonb, input.lat, input.long, 'received', 0,
           input.source, input.automatic, input.at
    FROM input JOIN conv ON conv.n = input.n
    WHERE NOT EXISTS (SELECT 1 FROM seen WHERE seen.n = input.n)
    ORDER BY input.n
    ON CONFLICT (channel_id, event_id) DO NOTHING
    RETURNING id, channel_id, conversation_id, event_id, created_at
), touched AS (
    UPDATE conversation c
    SET last_message_at = GREATEST(c.last_message_at, m.at),
        last_inbound_at = GREATEST(c.last_inbound_at, m.at),
        following = true
    FROM (
        SELECT conversation_id, max(created_at) AS at FROM msg GROUP BY conversation_id
    ) m
    -- The keys' values as an index condition too: a kept plan made on small tables must
    -- not walk the conversations to join them (tests/channels/test_hook_plan.py).
    WHERE c.id = m.conversation_id AND c.id = ANY (ARRAY(SELECT conversation_id FROM msg))
), logged AS (
    -- The live events, committed with the messages (hotline/events.py).
    INSERT INTO event (at, kind, case_code, unit_ids, data)
    SELECT input.now, 'conversation.message', NULL, '[]'::jsonb,
           jsonb_build_object(
               'conversation_id', msg.conversation_id, 'channel_id', msg.channel_id,
               'message_id', msg.id, 'direction', 'in'
           )
    FROM msg JOIN input ON input.channel_id = msg.channel_id AND input.event_id = msg.event_id
    ORDER BY msg.id
), queued AS (
    -- A citizen's own text is read by triage after it is stored (channels/inbound.py).
    INSERT INTO job (kind, payload, key, status, run_at, attempts, max_attempts, created_at)
    SELECT 'channel_message_in', jsonb_build_object('message_id', msg.id),
           'channel_message_in:' || msg.id, 'queued', input.now, 0, 5, input.now
    FROM msg JOIN input ON input.channel_id = msg.channel_id AND input.event_id = msg.event_id
    WHERE NOT input.automatic AND btrim(input.text) <> ''
    ON CONFLICT (key) DO NOTHING
)
SELECT input.n, msg.id AS message_id,
       (SELECT conv.id FROM conv WHERE conv.n = input.n) AS conversation_id,
       EXISTS (SELECT 1 FROM seen WHERE seen.n = input.n) AS seen
FROM input
LEFT JOIN msg ON msg.channel_id = input.channel_id AND msg.event_id = input.event_id
ORDER BY input.n
"""

Params = tuple[Any, ...]
_Item = tuple[Params, "asyncio.Future[Stored]"]


class HookWriter(GroupWriter[Params, Stored]):
    """Writes webhooks' events on a pool, batching what arrives while every lane is busy
    (hotline/group_commit.py). `echoes` looks up echoes of the account's own sends."""

    def __init__(self, pool: asyncpg.Pool, *, lanes: int, max_batch: int) -> None:
        super().__init__(pool, lanes=lanes, max_batch=max_batch)
        self.echoes = EchoLookup(pool, lanes=ECHO_LANES, max_batch=max_batch)
        # The units' numbers and until when (time.monotonic) they are trusted (inbox_pg.py).
        self.unit_numbers: tuple[float, list[str]] = (0.0, [])

    async def close(self) -> None:
        await self.echoes.close()
        await super().close()

    async def store(self, params: Params) -> Stored:
        """Store one event (`STORE_SQL`'s parameters) and return once it is committed."""
        return await self.submit(params)

    async def _write(self, batch: list[_Item]) -> None:
        # The same event twice in one batch: written once, the others answered as repeats.
        first: dict[tuple[int, str], int] = {}
        unique: list[_Item] = []
        repeats: list[tuple[int, asyncio.Future[Stored]]] = []
        for params, future in batch:
            key = (params[0], params[3])
            if key in first:
                repeats.append((first[key], future))
            else:
                first[key] = len(unique)
                unique.append((params, future))
        results: list[Stored | None]
        try:
            async with self.pool.acquire() as conn:
                self.statements += 1
                written = await _write_rows(conn, [params for params, _ in unique])
        except Exception as exc:
            if len(unique) > 1 and _refused(exc):
                # Nothing of the batch was written: one by one, so that only the event at
                # fault (if any) fails.
                log.warning("hooks_batch_retried_row_by_row", size=len(unique), error=str(exc))
                for item in unique:
                    await self._write([item])
                results = [item[1].result() if _ok(item[1]) else None for item in unique]
            else:
                for _, future in unique:
                    settle(future, exc)
                results = [None] * len(unique)
        else:
            for (_, future), result in zip(unique, written, strict=True):
                if not future.done():
                    future.set_result(result)
            results = list(written)
        for index, future in repeats:
            outcome = results[index]
            if future.done():
                continue
            if outcome is None:
                settle(future, _failed(unique[index][1]))
            else:
                future.set_result(
                    Stored(None, outcome.conversation_id, outcome.seen or bool(outcome.message_id))
                )


async def _write_rows(conn: asyncpg.Connection, rows: list[Params]) -> list[Stored]:
    if len(rows) == 1:
        row = await conn.fetchrow(STORE_SQL, *rows[0])
        assert row is not None
        return [Stored(row["message_id"], row["conversation_id"], row["seen"])]
    columns = [list(column) for column in zip(*rows, strict=True)]
    records = await conn.fetch(BATCH_SQL, *columns)
    return [Stored(r["message_id"], r["conversation_id"], r["seen"]) for r in records]


def _ok(future: asyncio.Future[Stored]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None


def _failed(future: asyncio.Future[Stored]) -> BaseException:
    if future.cancelled():
        return asyncio.CancelledError()
    return future.exception() or RuntimeError("not stored")


def _refused(exc: Exception) -> bool:
    """Whether the server refused the statement, so that certainly nothing was committed
    (not so when the connection failed or the server was shutting down)."""
    if not isinstance(exc, asyncpg.PostgresError):
        return False
    if isinstance(exc, asyncpg.PostgresConnectionError):
        return False
    return not str(exc.sqlstate or "").startswith(("08", "57P"))


# Lanes (pool connections) of the echo lookups: one statement answers a whole queue of them.
ECHO_LANES = 2
Echo = tuple[int, str]  # channel id, event id


class EchoLookup(GroupWriter[Echo, bool]):
    """Whether an echo is of a send already recorded (or repeats an event already stored),
    for the echoes arriving together in one statement (`ECHOES_SQL`). It only reads: a
    failed lookup leaves the echo to the portable path."""

    async def known(self, channel_id: int, event_id: str) -> bool:
        return await self.submit((channel_id, event_id))

    async def _write(self, batch: list[tuple[Echo, asyncio.Future[bool]]]) -> None:
        try:
            async with self.pool.acquire() as conn:
                self.statements += 1
                rows = await conn.fetch(
                    ECHOES_SQL, [e[0] for e, _ in batch], [e[1] for e, _ in batch]
                )
        except Exception as exc:
            for _, future in batch:
                settle(future, exc)
            return
        known = {r["n"] for r in rows}
        for n, (_, future) in enumerate(batch, start=1):
            if not future.done():
                future.set_result(n in known)
