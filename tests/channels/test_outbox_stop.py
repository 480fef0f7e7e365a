"""A worker stopped the ordinary way (SIGTERM: a restart, a deploy) finishes the sends it
has in flight and records them, and takes no new job: nothing is left leased for the
next worker to wait out (5 minutes), and no reply is left in doubt."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.db import utcnow
from hotline.jobs.models import Job
from hotline.jobs.worker import run_due_jobs
from tests.channels.zalo_helpers import conversation_of, deliver, variant, zalo_settings

pytestmark = pytest.mark.anyio

SRC = Path(__file__).resolve().parents[2] / "src"
TEXT = "Tổng đài đã chuyển phản ánh tới UBND phường Ngọc Hà"


async def test_sigterm_lets_the_send_in_flight_finish_and_leaves_no_job_leased(
    app, client, world, zalo, settings, tmp_path
):
    r = await client.post(
        "/api/v1/channels",
        json={
            "kind": "zalo",
            "name": "Zalo OA",
            "settings": zalo_settings(zalo.url, send_timeout=10),
        },
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    channel = int(r.json()["id"])
    now_ms = str(int(utcnow().timestamp() * 1000))
    assert (
        await deliver(client, channel, variant("user_send_text", timestamp=now_ms))
    ).status_code == 200
    await run_due_jobs(app.state.hotline.sessionmaker)  # the citizen's text read
    conversation = await conversation_of(client, world, channel)
    r = await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": TEXT},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202, r.text
    zalo.fake.plan.append("hold")  # Zalo takes the reply and answers when told
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "worker"],
        env={
            **os.environ,
            "PYTHONPATH": str(SRC),
            "HOTLINE_DATABASE_URL": settings.database_url,
            "HOTLINE_VAR_DIR": str(settings.var_dir),
            "HOTLINE_SITE_PROVINCE_CODE": settings.site_province_code,
        },
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        start_new_session=True,
    )
    try:
        for _ in range(300):
            if zalo.fake.sends():
                break
            assert worker.poll() is None, log.read_text()[-2000:]
            await asyncio.sleep(0.1)
        assert len(zalo.fake.sends()) == 1
        os.killpg(worker.pid, signal.SIGTERM)  # while the reply is with Zalo
        await asyncio.sleep(0.5)
        zalo.fake.release.set()
        await asyncio.to_thread(worker.wait, 30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    reply = next(
        m
        for m in (await conversation_of(client, world, channel))["messages"]
        if m["direction"] == "out"
    )
    assert (reply["status"], reply["error"]) == ("sent", None), log.read_text()[-2000:]
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        leased = (await session.scalars(select(Job.kind).where(Job.status == "running"))).all()
    assert leased == []
