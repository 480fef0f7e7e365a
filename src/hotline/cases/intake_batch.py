"""Group commit for case intake on PostgreSQL: reports arriving together are written together.

In a surge most of PostgreSQL's work per intake is not the rows themselves but the
statement around them: starting the executor for a plan of seven CTEs, opening every index
of `case`, the commit. `IntakeWriter` keeps a few connections ("lanes"); a report that finds
a lane free starts it at once, and the lane takes what has queued by then: usually just that
report, a batch of one. While every lane is busy, new reports queue, and the next free lane
writes all of them (up to `max_batch`) in one statement, `intake_pg.INTAKE_SQL`.
Measured on the benchmark box: PostgreSQL CPU per report 0.42 ms alone, 0.15 ms in batches
of 8 (bench/FINDINGS.md).

Nothing is answered before its batch has committed, so "never lose a report" holds as
before. A batch is one statement and so commits or fails whole. When the server refuses it,
its reports are written again one by one, so a single bad one fails only its own request.
When the connection is lost instead, the batch may have committed before its answer was
lost: then the reports found written are answered as written and the others fail, and
nothing is written twice.

One difference from the portable path remains: if another process registers a new number
meanwhile and its contact has no name, a name brought by the batch is not written to that
contact.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import structlog

from hotline.cases import intake_pg
from hotline.cases.intake_pg import Written
from hotline.group_commit import GroupWriter, settle

log = structlog.get_logger(__name__)


class IntakeWriter(GroupWriter[dict[str, Any], Written]):
    """Writes intake statements on a pool, batching what arrives while every lane is busy
    (hotline/group_commit.py)."""

    async def insert(self, params: dict[str, Any]) -> Written:
        """Write one report (`intake_pg.statement_params`) and return once it is committed."""
        return await self.submit(params)

    async def _write(self, batch: list[tuple[dict[str, Any], asyncio.Future[Written]]]) -> None:
        try:
            async with self.pool.acquire() as conn:
                self.statements += 1
                results = await intake_pg.write_rows(conn, [params for params, _ in batch])
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
                settle(batch[0][1], exc)
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
