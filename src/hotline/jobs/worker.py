"""The worker loop: periodic sweeps plus durable jobs, each in its own transaction, and the
e-mail channels' mailbox readers (channels/mailboxes.py) beside it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.db import create_engine, make_sessionmaker
from hotline.eventfeed import Waker
from hotline.events import Wake, committed, prune_events
from hotline.jobs import service
from hotline.jobs.runs import Batch, Handler, JobRun
from hotline.jobs.timing import DB_RETRY, seconds_until, sooner, unreachable, wait_for
from hotline.reports.counters import fold_case_deltas
from hotline.settings import Settings
from hotline.site import Site

log = structlog.get_logger("hotline.worker")

HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def domain_handlers() -> dict[str, Handler]:
    """Each domain's job handlers (its jobs.py), imported when a worker first needs them."""
    from hotline.attachments.jobs import HANDLERS as attachments_handlers
    from hotline.care.jobs import HANDLERS as care_handlers
    from hotline.cases.jobs import HANDLERS as cases_handlers
    from hotline.channels.jobs import HANDLERS as channels_handlers
    from hotline.knowledge.jobs import HANDLERS as knowledge_handlers

    # The channels' notify_reporter delivers on a connected channel and falls back to the
    # cases' one (recorded as pending) otherwise. Care and the knowledge base act on a
    # citizen's message through jobs the channels queue (channels/inbound.py), and the
    # attachments domain takes a conversation's kept files into its case (channels/files.py).
    return {
        **cases_handlers,
        **channels_handlers,
        **care_handlers,
        **knowledge_handlers,
        **attachments_handlers,
    }


def keep_mail_file(session: AsyncSession, filename: str, data: bytes) -> dict[str, Any]:
    """An e-mail's attachment kept by the attachments domain (channels/files.py)."""
    from hotline.attachments.service import keep_file

    return keep_file(session, filename=filename, data=data).as_json()


async def sweep_deadlines(session: AsyncSession) -> int:
    from hotline.cases.deadlines import mark_overdue

    return await mark_overdue(session)


async def sweep_care_checkins(session: AsyncSession) -> int:
    from hotline.care.schedule import sweep_checkins

    return await sweep_checkins(session)


async def sweep_intake_keys(session: AsyncSession) -> int:
    from hotline.cases.intake_keys import sweep_expired

    return await sweep_expired(session)


# Jobs one worker process holds at once on PostgreSQL (HOTLINE_WORKER_CONCURRENCY): most
# of a job's time is spent waiting on a provider or the database. Of these, at most
# JOB_LANES that are not batched run at once (each holds a database connection); batched
# ones (the outbox's sends) share a transaction per step. SQLite has one writer: one job
# at a time there.
CONCURRENCY = 128
JOB_LANES = 16
CLAIM_BATCH = 64  # jobs leased by one claim
ROUND_JOBS = 5000  # jobs a `--once` run takes between two looks for more (PostgreSQL)


def _handler_for(kind: str) -> Handler | None:
    return HANDLERS.get(kind) or domain_handlers().get(kind)


async def _run_claimed(sessionmaker: Any, job: service.Claimed, wake: Wake | None) -> None:
    """Run one claimed job, then record its outcome (a failure is retried with backoff)."""
    error = None
    fn = _handler_for(job.kind)
    try:
        if fn is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        if getattr(fn, "in_steps", False):
            run = JobRun(
                job.id,
                job.kind,
                job.attempts,
                job.max_attempts,
                lambda: committed(sessionmaker, wake),
            )
            await fn(run, job.payload)  # type: ignore[arg-type]
        else:
            async with committed(sessionmaker, wake) as session:
                await fn(session, dict(job.payload))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.warning("job_failed", job_id=job.id, kind=job.kind, error=error)
    base = float(getattr(fn, "retry_base", service.RETRY_BASE))
    with unreachable("job_finish_failed"):  # the job stays leased: taken again later
        async with sessionmaker() as session, session.begin():
            await service.finish_many(session, [(job, error)], base=base)


async def _run_batch(
    sessionmaker: Any,
    fn: Handler,
    jobs: list[service.Claimed],
    wake: Wake | None,
    release: Callable[[int], None],
) -> None:
    """Hand claimed jobs of one batched kind to their handler; jobs it left unsettled
    (it raised, or forgot them) are recorded as failed runs, retried with backoff."""
    by_id = {job.id: job for job in jobs}
    settled: set[int] = set()

    def steps() -> Any:
        return committed(sessionmaker, wake)

    async def finish(session: AsyncSession, outcomes: Any, base: float) -> None:
        await service.finish_many(session, [(by_id[i], e) for i, e in outcomes], base=base)

    def on_settled(ids: Sequence[int]) -> None:
        fresh = [i for i in ids if i in by_id and i not in settled]
        settled.update(fresh)
        release(len(fresh))

    batch = Batch(
        runs=tuple(JobRun(j.id, j.kind, j.attempts, j.max_attempts, steps) for j in jobs),
        payloads=tuple(dict(j.payload) for j in jobs),
        steps=steps,
        finish=finish,
        settled=on_settled,
    )
    error = "not settled by its handler"
    try:
        await fn(batch)  # type: ignore[arg-type,call-arg]
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.warning("job_batch_failed", kind=jobs[0].kind, jobs=len(jobs), error=error)
    left = [job for job in jobs if job.id not in settled]
    if left:
        with unreachable("job_finish_failed"):  # they stay leased: taken again later
            async with sessionmaker() as session, session.begin():
                await service.finish_many(session, [(job, error) for job in left])
        on_settled([job.id for job in left])


async def run_due_jobs(
    sessionmaker: Any,
    *,
    limit: int = 100,
    wake: Wake | None = None,
    concurrency: int = 1,
    until: float | None = None,
    between: Callable[[], Awaitable[float]] | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Run up to `limit` due jobs, holding at most `concurrency` at a time; a failing job is
    retried later, never lost. Jobs are leased in batches (`claim_many`); those of a batched
    kind go to their handler together, the others run one each. Returns when nothing is
    due and nothing runs (a job's follow-ups that fall due at once run too), or, having
    taken `limit` jobs, once those have ended. At `until` (the loop's clock) `between` runs
    (the sweeps; the jobs taken go on) and gives the next `until`; without it, no job is
    taken after `until`. Events are committed with their job, then `wake` is called. Once
    `stop` is set no job is claimed any more: it returns when the jobs it holds have ended."""
    loop = asyncio.get_running_loop()

    def left() -> float | None:
        return None if until is None else until - loop.time()

    slots = max(1, concurrency)
    free = slots
    released = 0  # bumped on every release: a claim that found nothing may try again
    freed = asyncio.Event()
    lanes = asyncio.Semaphore(min(slots, JOB_LANES))
    taken = 0

    def release(n: int) -> None:
        nonlocal free, released
        free += n
        released += 1
        freed.set()

    async def one(job: service.Claimed) -> None:
        try:
            async with lanes:
                await _run_claimed(sessionmaker, job, wake)
        finally:
            release(1)

    async with asyncio.TaskGroup() as group:
        while taken < limit and not (stop is not None and stop.is_set()):
            if until is not None and loop.time() >= until:
                if between is None:
                    break
                try:
                    until = await between()
                except Exception as exc:  # the jobs held go on (see _unreachable)
                    log.warning("worker_round_failed", error=f"{type(exc).__name__}: {exc}")
                    until = loop.time() + DB_RETRY
                continue
            if free < min(slots, CLAIM_BATCH // 4):  # one claim for a few jobs, not for each
                freed.clear()
                await wait_for(freed, left())
                continue
            seen = released
            jobs = None
            with unreachable("job_claim_failed"):
                async with sessionmaker() as session, session.begin():
                    jobs = await service.claim_many(
                        session, limit=min(free, limit - taken, CLAIM_BATCH)
                    )
            if jobs is None:
                # The database out of reach: the jobs held go on (cancelling them would
                # leave their sends in doubt); claim again once one ends, or a little later.
                if free >= slots:
                    break
                freed.clear()
                await wait_for(freed, DB_RETRY)
                continue
            if not jobs:
                if released != seen:
                    continue  # a job ended meanwhile: its follow-ups may be due
                if free >= slots:
                    break  # nothing due, nothing running
                # Jobs still run (a slow provider's answer): wait for one to end, or for
                # the next waiting job to fall due (a retry), whichever comes first. (Cleared
                # before the read: a job ending during it is not missed.)
                # New jobs (a reply just written) are looked for every JOB_POLL seconds.
                freed.clear()
                due = None
                with unreachable("job_claim_failed"):
                    async with sessionmaker() as session:
                        due = await service.next_due(session)
                await wait_for(freed, sooner(seconds_until(due) or JOB_POLL, left()))
                continue
            free -= len(jobs)
            taken += len(jobs)
            kinds: dict[str, list[service.Claimed]] = {}
            for job in jobs:
                kinds.setdefault(job.kind, []).append(job)
            for kind, group_jobs in kinds.items():
                fn = _handler_for(kind)
                if fn is not None and getattr(fn, "batched", False):
                    group.create_task(_run_batch(sessionmaker, fn, group_jobs, wake, release))
                else:
                    for job in group_jobs:
                        group.create_task(one(job))
    return taken


JOB_POLL = 1.0  # seconds between two looks for due jobs (a new reply waits at most this)


async def _sweep_round(
    sessionmaker: Any,
    waker: Waker,
    sweeps: Sequence[Callable[[AsyncSession], Awaitable[int]]],
) -> None:
    """The periodic sweeps, each in its own transaction."""
    async with committed(sessionmaker, waker) as session:
        flagged = await sweep_deadlines(session)
    if flagged:
        log.info("overdue_flagged", count=flagged)
    # Home care: check-ins not made in time (reminders, then alerts).
    async with committed(sessionmaker, waker) as session:
        late = await sweep_care_checkins(session)
    if late:
        log.info("care_checkins_late", count=late)
    async with sessionmaker() as session, session.begin():
        await fold_case_deltas(session)
    async with sessionmaker() as session, session.begin():
        await sweep_intake_keys(session)
    for sweep in sweeps:
        try:
            async with committed(sessionmaker, waker) as session:
                await sweep(session)
        except Exception as exc:  # one failing sweep never stops the others
            log.warning("sweep_failed", sweep=sweep.__name__, error=str(exc))


async def _prune(sessionmaker: Any, settings: Settings) -> None:
    async with sessionmaker() as session, session.begin():
        pruned = await prune_events(session, keep_hours=settings.events_keep_hours)
    if pruned:
        log.info("events_pruned", count=pruned)
    pruned = await service.prune_done_jobs(sessionmaker, keep_hours=settings.jobs_keep_done_hours)
    if pruned:
        log.info("jobs_pruned", count=pruned)


async def run_worker(
    settings: Settings,
    *,
    once: bool = False,
    interval: float = 30.0,
    sweeps: Sequence[Callable[[AsyncSession], Awaitable[int]]] = (),
    jobs_only: bool = False,
    stop: asyncio.Event | None = None,
) -> None:
    """Due jobs every JOB_POLL seconds; every `interval` seconds, the sweeps (`sweeps`:
    other domains' periodic work, staffing's, given by the command that starts the worker)
    and the pruning. `jobs_only`: a further worker process beside the first (`hotline
    worker --processes`), which runs jobs and leaves the sweeps and mailboxes to it.
    `stop` (set on SIGTERM by `hotline worker`): claim nothing more, let the jobs held end
    and record their outcomes, then return. A worker that just died instead leaves its
    jobs leased for 5 minutes and the replies it was sending in doubt."""
    engine = create_engine(settings.effective_database_url)
    sessionmaker = make_sessionmaker(engine, Site.from_settings(settings))
    # The worker's events (case.overdue, jobs' timeline entries) reach the web processes
    # through the event log; the waker tells them to read it now.
    waker = Waker(settings, engine)
    await waker.start()
    # The e-mail channels' mailboxes are read by long-lived tasks beside this loop (IMAP
    # IDLE waits up to 29 minutes); each pass starts and stops them as channels change.
    from hotline.channels.mailboxes import Mailboxes

    mailboxes = Mailboxes(sessionmaker, wake=waker, keep_file=keep_mail_file)
    pg = engine.dialect.name == "postgresql"
    slots = settings.worker_concurrency if pg else 1
    per_round = ROUND_JOBS if pg else 100
    loop = asyncio.get_running_loop()
    stopped = stop or asyncio.Event()
    # A process running jobs only never sweeps (at 0 its idle wait below was 0: it spun).
    next_sweep = loop.time() + 365 * 86400.0 if jobs_only else 0.0

    async def sweep() -> float:
        nonlocal next_sweep
        await (mailboxes.read_all() if once else mailboxes.sync())
        await _sweep_round(sessionmaker, waker, sweeps)
        await _prune(sessionmaker, settings)
        next_sweep = loop.time() + interval
        return next_sweep

    try:
        if once:
            if not jobs_only:
                await sweep()
            # A full batch leaves more due: run them before returning.
            while (
                await run_due_jobs(sessionmaker, wake=waker, concurrency=slots, limit=per_round)
                >= per_round
            ):
                pass
            return
        while not stopped.is_set():
            try:
                if not jobs_only and loop.time() >= next_sweep:
                    await sweep()
                # The sweeps run between two claims, the jobs taken going on: a round ending
                # by waiting for them all (a slow answer: up to its send timeout) stalled
                # the sends.
                await run_due_jobs(
                    sessionmaker,
                    wake=waker,
                    concurrency=slots,
                    limit=sys.maxsize,
                    until=None if jobs_only else next_sweep,
                    between=None if jobs_only else sweep,
                    stop=stopped,
                )
                # New jobs (a reply just written) are looked for every JOB_POLL seconds; a
                # waiting one (a retry) is taken when it falls due, sooner than that.
                async with sessionmaker() as session:
                    due = await service.next_due(session)
                wait = min(JOB_POLL, next_sweep - loop.time(), seconds_until(due) or JOB_POLL)
            except Exception as exc:
                # The database out of reach: live on and try again (see _unreachable).
                log.warning("worker_round_failed", error=f"{type(exc).__name__}: {exc}")
                wait = DB_RETRY
            await wait_for(stopped, max(0.0, wait))
    finally:
        from hotline.channels.send_client import close_send_client

        await mailboxes.stop()
        await close_send_client()
        await waker.stop()
        await engine.dispose()
