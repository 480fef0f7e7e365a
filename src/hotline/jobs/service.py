"""Enqueue and claim durable jobs.

Claiming uses FOR UPDATE SKIP LOCKED on PostgreSQL so several workers never take the same
job; on SQLite (one writer at a time) a conditional UPDATE does the same job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.db import dialect_name, insert_for, utcnow
from hotline.jobs.models import Job, JobStatus

LEASE = timedelta(minutes=5)


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    payload: dict[str, Any] | None = None,
    run_at: datetime | None = None,
    key: str | None = None,
    max_attempts: int = 5,
) -> bool:
    """Add a job in the caller's transaction; a repeated key is a no-op (returns False)."""
    stmt = insert_for(dialect_name(session))(Job).values(
        kind=kind,
        payload=payload or {},
        run_at=run_at or utcnow(),
        key=key,
        max_attempts=max_attempts,
        status=JobStatus.QUEUED,
        attempts=0,
        created_at=utcnow(),
    )
    if key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["key"])
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


# PostgreSQL: a lease that ran out first, else the next due job, each branch an index range
# read in order (ix_job_status_run_at; locking is not allowed on a UNION's own members,
# hence the sub-selects); the outer LIMIT stops before the second branch when the first
# finds one. Written as one WHERE with an OR, the planner read every queued job and sorted
# them all on each claim: 8 ms of the server's CPU per claim with 20,000 replies queued.
_CLAIM_PG = text(
    """
SELECT * FROM (
    SELECT * FROM job WHERE status = 'running' AND locked_until < :now
    ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
) stale
UNION ALL
SELECT * FROM (
    SELECT * FROM job WHERE status = 'queued' AND run_at <= :now
    ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
) due
LIMIT 1
"""
)


async def claim(session: AsyncSession, *, now: datetime | None = None) -> Job | None:
    """Take the next due job (or one whose lease ran out) and lease it to this worker."""
    now = now or utcnow()
    if dialect_name(session) == "postgresql":
        job = await session.scalar(select(Job).from_statement(_CLAIM_PG.bindparams(now=now)))
        if job is None:
            return None
    else:
        due = (Job.status == JobStatus.QUEUED) & (Job.run_at <= now)
        stale = (Job.status == JobStatus.RUNNING) & (Job.locked_until < now)
        stmt = select(Job).where(due | stale).order_by(Job.run_at, Job.id).limit(1)
        job = await session.scalar(stmt)
        if job is None:
            return None
        result = await session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == job.status, Job.attempts == job.attempts)
            .values(status=JobStatus.RUNNING)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
    job.status = JobStatus.RUNNING
    job.locked_until = now + LEASE
    job.attempts += 1
    await session.flush()
    return job


RETRY_BASE = 10.0  # seconds before a failed job's first retry; doubled for each further one


def backoff(attempts: int, base: float = RETRY_BASE) -> timedelta:
    """The wait before the next try of a job that failed its `attempts`-th run (at most 1 h)."""
    return timedelta(seconds=min(3600.0, base * 2 ** (attempts - 1)))


async def finish(
    session: AsyncSession, *, job: Job, error: str | None = None, base: float = RETRY_BASE
) -> None:
    """Mark done, or schedule a retry with backoff, or fail for good after the last attempt."""
    if error is None:
        job.status = JobStatus.DONE
    elif job.attempts >= job.max_attempts:
        job.status = JobStatus.FAILED
        job.last_error = error
    else:
        job.status = JobStatus.QUEUED
        job.last_error = error
        job.run_at = utcnow() + backoff(job.attempts, base)
    job.locked_until = None
    await session.flush()


@dataclass(frozen=True)
class Claimed:
    """A job leased to this worker by `claim_many` (the row itself stays in the table)."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int  # this run included
    max_attempts: int
    run_at: datetime
    last_error: str | None


_CLAIMED_COLUMNS = (
    Job.id,
    Job.kind,
    Job.payload,
    Job.attempts,
    Job.max_attempts,
    Job.run_at,
    Job.last_error,
)


async def claim_many(
    session: AsyncSession, *, limit: int, now: datetime | None = None
) -> list[Claimed]:
    """Lease up to `limit` due jobs (expired leases first) to this worker in one statement
    on PostgreSQL: the same two index ranges as `claim`, each locked with SKIP LOCKED so
    that workers in other processes take other jobs. SQLite (one writer) claims one by one
    in the caller's transaction."""
    now = now or utcnow()
    if dialect_name(session) != "postgresql":
        claimed = []
        for _ in range(limit):
            job = await claim(session, now=now)
            if job is None:
                break
            claimed.append(Claimed(*(getattr(job, c.key) for c in _CLAIMED_COLUMNS)))
        return claimed
    stale = (
        select(Job.id)
        .where(Job.status == JobStatus.RUNNING, Job.locked_until < now)
        .order_by(Job.run_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .subquery()
    )
    due = (
        select(Job.id)
        .where(Job.status == JobStatus.QUEUED, Job.run_at <= now)
        .order_by(Job.run_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .subquery()
    )
    ids = union_all(select(stale.c.id), select(due.c.id)).limit(limit)
    rows = await session.execute(
        update(Job)
        .where(Job.id.in_(ids))
        .values(status=JobStatus.RUNNING, locked_until=now + LEASE, attempts=Job.attempts + 1)
        .returning(*_CLAIMED_COLUMNS)
        .execution_options(synchronize_session=False)
    )
    return sorted((Claimed(*row) for row in rows.all()), key=lambda c: (c.run_at, c.id))


async def next_due(session: AsyncSession) -> datetime | None:
    """When the earliest waiting job falls due (None when none waits): one read of the
    status-and-time index. The worker sleeps until then rather than a whole polling period,
    so a reply's retry 1 s after a 503 is sent after 1 s, not up to 2."""
    return await session.scalar(select(func.min(Job.run_at)).where(Job.status == JobStatus.QUEUED))


async def finish_many(
    session: AsyncSession,
    outcomes: Sequence[tuple[Claimed, str | None]],
    *,
    base: float = RETRY_BASE,
) -> None:
    """`finish` for jobs leased by `claim_many`, in one statement (error None: done)."""
    if not outcomes:
        return
    now = utcnow()
    rows = []
    for job, error in outcomes:
        row: dict[str, Any] = {
            "id": job.id,
            "status": JobStatus.DONE,
            "last_error": job.last_error,
            "run_at": job.run_at,
            "locked_until": None,
        }
        if error is not None:
            row["last_error"] = error
            if job.attempts >= job.max_attempts:
                row["status"] = JobStatus.FAILED
            else:
                row["status"] = JobStatus.QUEUED
                row["run_at"] = now + backoff(job.attempts, base)
        rows.append(row)
    await session.execute(update(Job), rows)


PRUNE_BATCH = 5000


async def prune_done(session: AsyncSession, *, keep_hours: float, limit: int = PRUNE_BATCH) -> int:
    """Delete up to `limit` jobs done more than `keep_hours` ago, oldest first (the worker,
    on its schedule); how many went. Failed jobs are kept: they are what operators look at.
    A done job's `run_at` is when it last fell due, so the status-and-time index finds them."""
    cutoff = utcnow() - timedelta(hours=keep_hours)
    oldest = (
        select(Job.id)
        .where(Job.status == JobStatus.DONE, Job.run_at < cutoff)
        .order_by(Job.run_at)
        .limit(limit)
    )
    result = await session.execute(
        delete(Job).where(Job.id.in_(oldest)).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def prune_done_jobs(sessionmaker: Any, *, keep_hours: float) -> int:
    """Delete the jobs done more than `keep_hours` ago, a batch per transaction (a long
    delete would hold SQLite's one writer); failed jobs stay (the worker, each round)."""
    total = 0
    while True:
        async with sessionmaker() as session, session.begin():
            pruned = await prune_done(session, keep_hours=keep_hours)
        total += pruned
        if pruned < PRUNE_BATCH:
            return total


async def job_figures(session: AsyncSession) -> tuple[dict[str, int], float]:
    """Jobs by status, and how long the oldest job that is due has waited (seconds, 0 when
    none): what /metrics reports for the worker, whichever process runs it."""
    rows = await session.execute(select(Job.status, func.count()).group_by(Job.status))
    by_status = {status.value: 0 for status in JobStatus}
    for status, n in rows.all():
        by_status[JobStatus(status).value] = int(n)
    now = utcnow()
    oldest = await session.scalar(
        select(func.min(Job.run_at)).where(Job.status == JobStatus.QUEUED, Job.run_at <= now)
    )
    wait = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return by_status, wait
