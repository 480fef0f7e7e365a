"""Durable jobs: enqueue, claim, retry with backoff, fail for good; the worker's sweep."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from hotline.db import utcnow
from hotline.jobs import service
from hotline.jobs.models import Job, JobStatus
from hotline.jobs.worker import HANDLERS, run_due_jobs

pytestmark = pytest.mark.anyio


async def test_enqueue_with_the_same_key_twice_makes_one_job(app):
    state = app.state.hotline
    async with state.unit_of_work() as s:
        await service.enqueue(s, kind="reply", payload={"n": 1}, key="reply:zalo:42")
        await service.enqueue(s, kind="reply", payload={"n": 2}, key="reply:zalo:42")
    async with state.sessionmaker() as s:
        jobs = (await s.scalars(select(Job))).all()
    assert [(j.kind, j.payload) for j in jobs] == [("reply", {"n": 1})]


async def test_a_claimed_job_is_not_claimed_again_until_its_lease_runs_out(app):
    state = app.state.hotline
    async with state.unit_of_work() as s:
        await service.enqueue(s, kind="reply")
    async with state.unit_of_work() as s:
        first = await service.claim(s)
        assert first is not None and first.status == JobStatus.RUNNING and first.attempts == 1
    async with state.unit_of_work() as s:
        assert await service.claim(s) is None
    async with state.unit_of_work() as s:
        again = await service.claim(s, now=utcnow() + service.LEASE + timedelta(seconds=1))
        assert again is not None and again.id == first.id and again.attempts == 2


async def test_a_job_not_yet_due_waits(app):
    state = app.state.hotline
    async with state.unit_of_work() as s:
        await service.enqueue(s, kind="reply", run_at=utcnow() + timedelta(hours=1))
    async with state.unit_of_work() as s:
        assert await service.claim(s) is None


async def test_failures_retry_with_backoff_then_fail_for_good(app):
    state = app.state.hotline
    calls: list[dict[str, Any]] = []

    async def flaky(_session: Any, payload: dict[str, Any]) -> None:
        calls.append(payload)
        raise TimeoutError("provider timed out")

    HANDLERS["test.flaky"] = flaky
    try:
        async with state.unit_of_work() as s:
            await service.enqueue(s, kind="test.flaky", payload={"to": "x"}, max_attempts=2)
        assert await run_due_jobs(state.sessionmaker) == 1
        async with state.sessionmaker() as s:
            job = await s.scalar(select(Job))
            assert job is not None
            assert job.status == JobStatus.QUEUED
            assert job.run_at > utcnow() + timedelta(seconds=5)
            assert "TimeoutError" in (job.last_error or "")
        async with state.unit_of_work() as s:
            job = await s.scalar(select(Job))
            assert job is not None
            job.run_at = utcnow() - timedelta(seconds=1)
        assert await run_due_jobs(state.sessionmaker) == 1
        async with state.sessionmaker() as s:
            job = await s.scalar(select(Job))
            assert job is not None
            assert job.status == JobStatus.FAILED and job.attempts == 2
        assert len(calls) == 2
    finally:
        HANDLERS.pop("test.flaky", None)


async def test_a_successful_job_is_done_and_its_writes_are_kept(app):
    state = app.state.hotline

    async def write(session: Any, payload: dict[str, Any]) -> None:
        await service.enqueue(session, kind="follow-up", key=payload["key"])

    HANDLERS["test.write"] = write
    try:
        async with state.unit_of_work() as s:
            await service.enqueue(s, kind="test.write", payload={"key": "k1"})
        assert await run_due_jobs(state.sessionmaker) == 2  # the job, then the unhandled follow-up
        async with state.sessionmaker() as s:
            rows = dict((await s.execute(select(Job.kind, Job.status))).all())
            count = await s.scalar(select(func.count()).select_from(Job))
        assert rows["test.write"] == JobStatus.DONE
        assert rows["follow-up"] == JobStatus.QUEUED  # no handler: retried later, never lost
        assert count == 2
    finally:
        HANDLERS.pop("test.write", None)


async def test_worker_pass_flags_overdue_forwardings(app, client, world, settings):
    from sqlalchemy import update

    from hotline.cases.models import CaseAssignment
    from hotline.jobs.worker import run_worker
    from tests.conftest import new_case_body

    code = (
        await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    ).json()["code"]
    r = await client.post(
        f"/api/v1/cases/{code}/forward",
        json={"unit_id": world.units["ward_a"], "note": "Xử lý gấp"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201
    async with app.state.hotline.unit_of_work() as s:
        await s.execute(update(CaseAssignment).values(due_at=utcnow() - timedelta(minutes=5)))
    await run_worker(settings, once=True)
    events = await client.get(f"/api/v1/cases/{code}/events", headers=world.auth("operator"))
    assert [e["kind"] for e in events.json()][-1] == "overdue"
    overdue = await client.get(
        "/api/v1/cases", params={"overdue": "true"}, headers=world.auth("officer")
    )
    assert [c["code"] for c in overdue.json()["items"]] == [code]


async def test_due_jobs_are_claimed_oldest_first_and_an_expired_lease_before_them(app):
    state = app.state.hotline
    now = utcnow()
    async with state.unit_of_work() as s:
        for n, minutes in ((1, 3), (2, 1), (3, 2), (4, 5)):
            await service.enqueue(
                s, kind="reply", payload={"n": n}, run_at=now - timedelta(minutes=minutes)
            )
    async with state.unit_of_work() as s:
        leased = await service.claim(s)
        assert leased is not None and leased.payload == {"n": 4}
    later = now + service.LEASE + timedelta(seconds=1)
    order = []
    for _ in range(4):
        async with state.unit_of_work() as s:
            job = await service.claim(s, now=later)
            assert job is not None
            order.append(job.payload["n"])
    assert order == [4, 1, 3, 2]
    async with state.unit_of_work() as s:
        assert await service.claim(s, now=later) is None


async def test_the_worker_prunes_jobs_done_long_ago_and_keeps_failed_and_recent_ones(app, settings):
    from hotline.jobs.worker import run_worker

    state = app.state.hotline
    old = utcnow() - timedelta(hours=settings.jobs_keep_done_hours + 1)
    recent = utcnow() - timedelta(hours=settings.jobs_keep_done_hours - 1)
    async with state.unit_of_work() as s:
        for key, status, at in (
            ("done-old", JobStatus.DONE, old),
            ("done-recent", JobStatus.DONE, recent),
            ("failed-old", JobStatus.FAILED, old),
        ):
            await service.enqueue(s, kind="test.kept", key=key, run_at=at)
            job = await s.scalar(select(Job).where(Job.key == key))
            assert job is not None
            job.status = status
    await run_worker(settings, once=True)
    async with state.sessionmaker() as s:
        left = set((await s.scalars(select(Job.key))).all())
    assert left == {"done-recent", "failed-old"}


async def test_a_worker_process_beside_the_first_looks_for_jobs_once_a_poll_when_idle(
    app, settings, monkeypatch
):
    import asyncio
    import contextlib

    from hotline.jobs import worker

    looks = 0
    next_due = service.next_due

    async def counted(session: Any) -> Any:
        nonlocal looks
        looks += 1
        return await next_due(session)

    monkeypatch.setattr(service, "next_due", counted)
    monkeypatch.setattr(worker, "JOB_POLL", 0.5)
    # `hotline worker --processes 2`: the second process runs jobs only (no sweeps).
    running = asyncio.create_task(worker.run_worker(settings, jobs_only=True))
    try:
        await asyncio.sleep(2.0)
        assert not running.done(), running
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    # Nothing to do: a look every half second, not one after another.
    assert looks <= 6, looks
