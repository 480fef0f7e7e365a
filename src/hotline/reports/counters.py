"""Bumping the incremental report counters, in the same transaction as the change counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.calls.models import CallOutcome
from hotline.db import dialect_name, insert_for
from hotline.reports.models import (
    CallCounter,
    CallQuarterCounter,
    CaseCounter,
    CaseCounterDelta,
    OperatorCounter,
    UnitCounter,
)
from hotline.site import site_of

QUARTER = timedelta(minutes=15)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Calls that ended outside hours reached no branch's people: not offered to it.
NOT_OFFERED = CallOutcome.OUTSIDE_HOURS.value


def quarter_of(at: datetime) -> int:
    """The UTC quarter-hour an instant falls in (CallQuarterCounter.quarter), exactly."""
    return (at - _EPOCH) // QUARTER


def quarter_start(quarter: int) -> datetime:
    return _EPOCH + quarter * QUARTER


async def _bump(
    session: AsyncSession, model: Any, keys: dict[str, Any], incs: dict[str, int]
) -> None:
    table = model.__table__
    stmt = insert_for(dialect_name(session))(table).values(**keys, **incs)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={col: table.c[col] + stmt.excluded[col] for col in incs},
    )
    await session.execute(stmt)


async def count_case(
    session: AsyncSession,
    *,
    created_at: datetime,
    category_code: str | None,
    channel: str,
    created: int = 0,
    forwarded: int = 0,
    urgent: int = 0,
) -> None:
    """Add to the counters of the bucket a case was created in."""
    site = site_of(session)
    day, hour = site.local_day_hour(created_at)
    keys = {
        "day": day,
        "hour": hour,
        "category_code": category_code or "",
        "channel": channel,
        "shard": site.shard(),
    }
    await _bump(
        session, CaseCounter, keys, {"created": created, "forwarded": forwarded, "urgent": urgent}
    )


async def count_unit(
    session: AsyncSession,
    *,
    unit_id: int,
    at: datetime,
    received: int = 0,
    resolved: int = 0,
    overdue: int = 0,
) -> None:
    site = site_of(session)
    day, _ = site.local_day_hour(at)
    keys = {"day": day, "unit_id": unit_id, "shard": site.shard()}
    await _bump(
        session, UnitCounter, keys, {"received": received, "resolved": resolved, "overdue": overdue}
    )


async def count_call(
    session: AsyncSession,
    *,
    started_at: datetime,
    line: str,
    branch: str | None,
    outcome: str | None,
    wait_seconds: int,
    talk_seconds: int,
    operator_id: int | None = None,
    answered_in_20s: bool = False,
    answered: bool = False,
) -> None:
    """Count a finished call to the line: its hour's report bucket, its operator's day,
    and the quarter-hour its branch was offered it in (the staffing forecast)."""
    site = site_of(session)
    day, hour = site.local_day_hour(started_at)
    keys = {
        "day": day,
        "hour": hour,
        "line": line,
        "branch": branch or "",
        "outcome": outcome or "",
        "shard": site.shard(),
    }
    await _bump(
        session,
        CallCounter,
        keys,
        {
            "calls": 1,
            "wait_seconds": wait_seconds,
            "talk_seconds": talk_seconds,
            "answered_20s": int(answered_in_20s),
        },
    )
    if branch and outcome != NOT_OFFERED:
        await _bump(
            session,
            CallQuarterCounter,
            {"branch": branch, "quarter": quarter_of(started_at)},
            {
                "calls": 1,
                "answered": int(answered),
                "talk_seconds": talk_seconds if answered else 0,
                "wait_seconds": wait_seconds,
                "abandoned": int(outcome == CallOutcome.ABANDONED_QUEUE.value),
            },
        )
    if operator_id is not None:
        await _bump(
            session,
            OperatorCounter,
            {"day": day, "operator_id": operator_id, "shard": site.shard()},
            {"answered": 1, "talk_seconds": talk_seconds},
        )


async def fold_case_deltas(session: AsyncSession, *, limit: int = 20_000) -> int:
    """Move up to `limit` intake increments from case_counter_delta into case_counter.

    Reports read both tables, so a fold never changes a figure; it only keeps the delta
    table short. Rows locked by a concurrent fold are skipped (PostgreSQL), so two workers
    never count a row twice: the delete and the upserts commit together.
    """
    query = select(CaseCounterDelta).order_by(CaseCounterDelta.id).limit(limit)
    if dialect_name(session) == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = (await session.scalars(query)).all()
    if not rows:
        return 0
    totals: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        key = (row.day, row.hour, row.category_code, row.channel)
        sums = totals.setdefault(key, [0, 0, 0])
        sums[0] += row.created
        sums[1] += row.forwarded
        sums[2] += row.urgent
    site = site_of(session)
    for (day, hour, category_code, channel), (created, forwarded, urgent) in sorted(totals.items()):
        keys = {
            "day": day,
            "hour": hour,
            "category_code": category_code,
            "channel": channel,
            "shard": site.shard(),
        }
        incs = {"created": created, "forwarded": forwarded, "urgent": urgent}
        await _bump(session, CaseCounter, keys, incs)
    await session.execute(
        delete(CaseCounterDelta).where(CaseCounterDelta.id.in_([row.id for row in rows]))
    )
    return len(rows)
