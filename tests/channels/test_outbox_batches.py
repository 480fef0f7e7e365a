"""Replies sent in batches (channels/sender.py): one reply's permanent error fails only
that reply, a retry waits the reply's short backoff, and two `hotline worker` processes
sharing the job table on PostgreSQL deliver each reply exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hotline.channels.models import Message
from hotline.db import utcnow
from hotline.jobs.models import Job
from hotline.jobs.worker import run_due_jobs
from tests.channels.zalo_helpers import conversation_of, deliver, make_channel, variant

pytestmark = pytest.mark.anyio

SRC = Path(__file__).resolve().parents[2] / "src"


async def _conversation(client, world, channel: int) -> dict:
    now_ms = str(int(utcnow().timestamp() * 1000))
    r = await deliver(client, channel, variant("user_send_text", timestamp=now_ms))
    assert r.status_code == 200
    return await conversation_of(client, world, channel)


async def _reply(client, world, conversation_id: int, text: str) -> None:
    r = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202, r.text


async def _outgoing(client, world, channel: int) -> dict[str, dict]:
    conversation = await conversation_of(client, world, channel)
    return {m["text"]: m for m in conversation["messages"] if m["direction"] == "out"}


async def test_a_permanent_error_in_a_batch_fails_only_that_reply(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    conversation = await _conversation(client, world, channel)
    texts = [f"Tổng đài đã nhận phản ánh số {i}" for i in range(3)]
    for text in texts:
        await _reply(client, world, conversation["id"], text)
    zalo.fake.plan.extend(["ok", -230, "ok"])  # the second request: outside Zalo's window
    # Six lanes: the three replies are claimed together and sent as one batch.
    await run_due_jobs(app.state.hotline.sessionmaker, concurrency=6)
    sends = [r.json()["message"]["text"] for r in zalo.fake.sends()]
    assert sorted(sends) == sorted(texts)
    refused = sends[1]
    out = await _outgoing(client, world, channel)
    assert out[refused]["status"] == "failed" and "7 ngày" in out[refused]["error"]
    assert {out[t]["status"] for t in texts if t != refused} == {"sent"}
    async with app.state.hotline.unit_of_work() as session:
        statuses = Counter((await session.scalars(select(Job.status))).all())
    assert statuses == {"done": 4}  # the citizen's text read, and the three sends


async def test_a_reply_answered_503_is_retried_after_a_short_backoff(app, client, world, zalo):
    channel = await make_channel(client, world, zalo.url)
    conversation = await _conversation(client, world, channel)
    await run_due_jobs(app.state.hotline.sessionmaker)  # the citizen's text read
    await _reply(client, world, conversation["id"], "Tổng đài đã nhận phản ánh")
    zalo.fake.plan.append("5xx")
    before = utcnow()
    await run_due_jobs(app.state.hotline.sessionmaker, concurrency=6)
    after = utcnow()
    async with app.state.hotline.unit_of_work() as session:
        job = await session.scalar(select(Job).where(Job.kind == "channel_send"))
    assert job is not None and job.status == "queued" and "503" in (job.last_error or "")
    run_at = job.run_at if job.run_at.tzinfo else job.run_at.replace(tzinfo=before.tzinfo)
    # The first retry of a reply comes after about a second (other jobs wait 10 s).
    assert before < run_at < after + timedelta(seconds=5)


def _worker_env(settings) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "HOTLINE_DATABASE_URL": settings.database_url,
        "HOTLINE_VAR_DIR": str(settings.var_dir),
        "HOTLINE_SITE_PROVINCE_CODE": settings.site_province_code,
    }


async def test_two_worker_processes_deliver_each_of_200_replies_exactly_once(
    app, client, world, zalo, settings, tmp_path
):
    if not settings.effective_database_url.startswith("postgresql"):
        pytest.skip("several worker processes need PostgreSQL (SQLite runs one)")
    channel = await make_channel(client, world, zalo.url)
    conversation = await _conversation(client, world, channel)
    texts = [f"Tổng đài trả lời phản ánh số {i:03d}" for i in range(200)]
    for text in texts:
        await _reply(client, world, conversation["id"], text)
    zalo.fake.plan.extend(["ok", "5xx"] * 10)  # some retried, as a provider does
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "worker", "--processes", "2"],
        env=_worker_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),  # a pipe nobody reads would stop it once full
        start_new_session=True,
    )
    try:
        # Polled with one cheap count: the fake answers from this process's threads, and a
        # busy test process would make its answers late (sends in doubt, resent after 2
        # minutes without an echo, which this fake never sends).
        for _ in range(600):
            async with app.state.hotline.unit_of_work() as session:
                sent = await session.scalar(
                    select(func.count()).where(Message.direction == "out", Message.status == "sent")
                )
            if sent == len(texts):
                break
            assert worker.poll() is None, log.read_text()[-2000:]
            await asyncio.sleep(0.5)
        out = await _outgoing(client, world, channel)
        # Two processes: the first and the jobs-only one it started.
        children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
        assert len(children) == 1
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    assert {m["status"] for m in out.values()} == {"sent"}
    sends = [r.json()["message"]["text"] for r in zalo.fake.sends()]
    # The requests answered 503 (the fake's 2nd, 4th, ... 20th) delivered nothing.
    delivered = Counter(t for i, t in enumerate(sends) if not (i < 20 and i % 2 == 1))
    assert delivered == Counter(texts)
    assert len(sends) == len(texts) + 10
