"""Group commit for case intake on PostgreSQL: reports arriving together are written together.

In a surge most of PostgreSQL's work per intake is not the rows themselves but the
statement around them: starting the executor for a plan of seven CTEs, opening every index
of `case`, the commit. `IntakeWriter` keeps a few connections ("lanes"); a report that finds
a lane free starts it at once, and the lane takes what has queued by then: usually just that
report, written by the one-row statement of `intake_pg`. While every lane is busy, new
reports queue, and the next free lane writes all of them (up to `max_batch`) in one
statement, `BATCH_SQL`, that does for each row exactly what the one-row statement does.
Measured on the benchmark box: PostgreSQL CPU per report 0.42 ms alone, 0.15 ms in batches
of 8 (bench/FINDINGS.md).

Nothing is answered before its batch has committed, so "never lose a report" holds as
before. A batch is one statement and so commits or fails whole. When the server refuses it,
its reports are written again one by one, so a single bad one fails only its own request.
When the connection is lost instead, the batch may have committed before its answer was
lost: then the reports found written are answered as written and the others fail, and
nothing is written twice.

One difference from the one-row statement remains, shared with it for a single report: if
another process registers a new number meanwhile and its contact has no name, a name brought
by the batch is not written to that contact.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import asyncpg
import structlog

from hotline.cases import intake_pg
from hotline.cases.intake_pg import Written

log = structlog.get_logger(__name__)

# Statement parameters (intake_pg.statement_params keys) in BATCH_SQL's $1..$20 order.
COLUMNS = (
    "e164",
    "name",
    "code",
    "channel",
    "category",
    "urgent",
    "priority",
    "description",
    "ward_code",
    "address",
    "lat",
    "long",
    "public",
    "contact_id",
    "actor_id",
    "search",
    "event_data",
    "now",
    "day",
    "hour",
)

# The one-row statement's rules (intake_pg._CTES), per row: a report whose tracking code is
# taken writes nothing; a known number gives its contact (a name fills an empty one); a new
# number gets one new contact, however many rows of the batch bring it, and a concurrent
# registration of it wins (ON CONFLICT DO UPDATE returns the owner; ours is then dropped
# by the caller); each case gets its timeline entry and report increment.
BATCH_SQL = """
WITH input AS (
    SELECT * FROM unnest(
        $1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[],
        $6::boolean[], $7::varchar[], $8::text[], $9::varchar[], $10::varchar[],
        $11::float8[], $12::float8[], $13::boolean[], $14::bigint[], $15::bigint[],
        $16::text[], $17::jsonb[], $18::timestamptz[], $19::date[], $20::smallint[]
    ) WITH ORDINALITY AS t(
        e164, name, code, channel, category, urgent, priority, description, ward_code,
        address, lat, long, public, contact_id, actor_id, search, event_data, at, day, hour, n
    )
    WHERE NOT EXISTS (SELECT 1 FROM "case" c WHERE c.code = t.code)
), existing AS (
    SELECT p.e164, p.contact_id AS id FROM contact_phone p
    WHERE p.e164 IN (SELECT e164 FROM input WHERE e164 IS NOT NULL)
), named AS (
    UPDATE contact c SET name = x.name
    FROM (
        SELECT DISTINCT ON (e.id) e.id, i.name FROM existing e JOIN input i USING (e164)
        WHERE i.name <> '' ORDER BY e.id, i.n
    ) x
    WHERE c.id = x.id AND c.name = ''
), fresh AS (
    SELECT f.e164, f.name, f.at, nextval(pg_get_serial_sequence('contact', 'id')) AS id
    FROM (
        -- As when the number's reports come one by one: the contact is made by the first
        -- and named by the first that gives a name.
        SELECT i.e164,
               (array_agg(i.name ORDER BY i.name = '', i.n))[1] AS name,
               (array_agg(i.at ORDER BY i.n))[1] AS at
        FROM input i
        WHERE i.e164 IS NOT NULL AND i.e164 NOT IN (SELECT e164 FROM existing)
        GROUP BY i.e164
    ) f
), new_contact AS (
    INSERT INTO contact (id, name, address, note, created_at)
    SELECT f.id, f.name, '', '', f.at FROM fresh f
    RETURNING id
), new_phone AS (
    -- Numbers in a fixed order, so two batches sharing new numbers cannot deadlock.
    INSERT INTO contact_phone (e164, contact_id)
    SELECT e164, id FROM fresh ORDER BY e164
    ON CONFLICT (e164) DO UPDATE SET contact_id = contact_phone.contact_id
    RETURNING e164, contact_id
), new_case AS (
    INSERT INTO "case" (
        code, channel, category_code, urgent, priority, status, description, ward_code,
        address, lat, long, public, contact_id, created_by_id, ever_forwarded, search_text,
        created_at, updated_at
    )
    SELECT i.code, i.channel, i.category, i.urgent, i.priority, 'new', i.description,
           i.ward_code, i.address, i.lat, i.long, i.public,
           COALESCE(e.id, p.contact_id, i.contact_id), i.actor_id, false, i.search, i.at, i.at
    FROM input i LEFT JOIN existing e USING (e164) LEFT JOIN new_phone p USING (e164)
    ORDER BY i.n
    ON CONFLICT (code) DO NOTHING
    RETURNING id, code, contact_id
), event AS (
    INSERT INTO case_event (case_id, kind, actor_id, to_status, data, at)
    SELECT c.id, 'created', i.actor_id, 'new', i.event_data, i.at
    FROM new_case c JOIN input i USING (code)
), counter AS (
    -- Appended, not upserted: see reports/models.py (case_counter_delta).
    INSERT INTO case_counter_delta (day, hour, category_code, channel, created, forwarded, urgent)
    SELECT i.day, i.hour, COALESCE(i.category, ''), i.channel, 1, 0, i.urgent::int
    FROM new_case c JOIN input i USING (code)
)
SELECT code, id, contact_id FROM new_case
UNION ALL
SELECT NULL, id, NULL FROM new_contact
"""


class IntakeWriter:
    """Writes intake statements on a pool, batching what arrives while every lane is busy.

    One per web process (web/state.py). `lanes` is how many statements run at once; each
    lane holds one pool connection while it writes, so more lanes than connections would
    only queue for them.
    """

    def __init__(self, pool: asyncpg.Pool, *, lanes: int, max_batch: int) -> None:
        self.pool = pool
        self.lanes = lanes
        self.max_batch = max_batch
        self._queue: deque[tuple[dict[str, Any], asyncio.Future[Written]]] = deque()
        self._busy = 0
        self._tasks: set[asyncio.Task[None]] = set()
        # Statements sent so far (one-row and batches): with reports written, how well
        # reports are being grouped.
        self.statements = 0

    async def insert(self, params: dict[str, Any]) -> Written:
        """Write one report (`intake_pg.statement_params`) and return once it is committed."""
        future: asyncio.Future[Written] = asyncio.get_running_loop().create_future()
        # Read the outcome even if the request has gone away, so that a failure is not
        # also reported as "exception never retrieved".
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._queue.append((params, future))
        if self._busy < self.lanes:
            self._busy += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # Shielded: a request that goes away must not cancel a write its batch still makes.
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Finish what is queued (app shutdown, before the pool closes)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _drain(self) -> None:
        try:
            while self._queue:
                count = min(len(self._queue), self.max_batch)
                batch = [self._queue.popleft() for _ in range(count)]
                try:
                    await self._write(batch)
                except BaseException as exc:
                    # Cancelled (shutdown): nobody may be left waiting.
                    for _, future in batch:
                        _settle(future, exc)
                    raise
        finally:
            # In the same step as the last look at the queue, not in a done callback: a
            # report queued in between would find every lane counted busy and wait for
            # the next report to start one. (A lane cancelled before it starts, which only
            # loop shutdown does, stays counted.)
            self._busy -= 1

    async def _write(self, batch: list[tuple[dict[str, Any], asyncio.Future[Written]]]) -> None:
        try:
            async with self.pool.acquire() as conn:
                self.statements += 1
                if len(batch) == 1:
                    results = [await intake_pg.insert_one(conn, batch[0][0])]
                else:
                    results = await _write_batch(conn, [params for params, _ in batch])
        except Exception as exc:
            if not _refused(exc):
                # The connection went away: the statement may have committed before its
                # answer was lost. Writing again could record each report twice.
                await self._settle_unknown(batch, exc)
            elif len(batch) > 1:
                # The server refused the statement, so nothing of the batch was written.
                # Row by row, so that only the report at fault (if any) fails.
                log.warning("intake_batch_retried_row_by_row", size=len(batch), error=str(exc))
                for item in batch:
                    await self._write([item])
            else:
                _settle(batch[0][1], exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _settle_unknown(
        self, batch: list[tuple[dict[str, Any], asyncio.Future[Written]]], exc: Exception
    ) -> None:
        """Answer the reports found committed; fail the others with the original error."""
        found: dict[str, tuple[int, int | None]] = {}
        try:
            async with self.pool.acquire() as conn:
                rows = await conn.fetch(_FIND_WRITTEN, [params["code"] for params, _ in batch])
        except Exception as again:
            log.error("intake_outcome_unknown", size=len(batch), error=str(again))
            rows = []
        by_code = {params["code"]: params for params, _ in batch}
        for code, case_id, contact_id, created_by_id, created_at in rows:
            params = by_code[code]
            # Ours, not another report that drew the same code meanwhile.
            if created_by_id == params["actor_id"] and created_at == params["now"]:
                found[code] = (case_id, contact_id)
        log.warning("intake_connection_lost", size=len(batch), found=len(found), error=str(exc))
        for params, future in batch:
            if future.done():
                continue
            if params["code"] in found:
                future.set_result(found[params["code"]])
            else:
                future.set_exception(exc)


_FIND_WRITTEN = (
    'SELECT code, id, contact_id, created_by_id, created_at FROM "case"'
    " WHERE code = ANY($1::varchar[])"
)


def _refused(exc: Exception) -> bool:
    """Whether the server refused the statement, so that certainly nothing was committed.

    Not so when the connection failed or the server was shutting down (SQLSTATE classes 08
    and 57P): the statement may have committed before its answer was lost."""
    if not isinstance(exc, asyncpg.PostgresError):
        return False
    if isinstance(exc, asyncpg.PostgresConnectionError):
        return False
    return not str(exc.sqlstate or "").startswith(("08", "57P"))


def _settle(future: asyncio.Future[Written], exc: BaseException) -> None:
    if future.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(exc)


async def _write_batch(conn: asyncpg.Connection, rows: list[dict[str, Any]]) -> list[Written]:
    # Two reports drawing the same tracking code at once: the second is answered "code
    # taken" without being sent (its caller draws again), as the statement would, but
    # without joining its timeline entry to the first one's case.
    sent: dict[str, dict[str, Any]] = {}
    for row in rows:
        sent.setdefault(row["code"], row)
    columns = [[row[name] for row in sent.values()] for name in COLUMNS]
    records = await conn.fetch(BATCH_SQL, *columns)
    written: dict[str, tuple[int, int | None]] = {}
    new_contacts: list[int] = []
    for code, record_id, contact_id in records:
        if code is None:
            new_contacts.append(record_id)
        else:
            written[code] = (record_id, contact_id)
    used = {contact_id for _, contact_id in written.values()}
    # Lost a race for a new number (or its reports' codes were taken meanwhile).
    await intake_pg.drop_orphan_contacts(conn, [c for c in new_contacts if c not in used])
    return [written.get(row["code"]) if sent[row["code"]] is row else None for row in rows]
