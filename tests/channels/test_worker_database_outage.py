"""The database out of reach for a moment (restarting, failing over, its connections used
up) must not end the worker: it used to exit on the first failed claim, and every reply
then waited until someone restarted it. It tries again and sends what was queued."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from hotline.db import utcnow
from hotline.jobs.worker import run_due_jobs
from tests.channels.zalo_helpers import conversation_of, deliver, make_channel, variant

pytestmark = pytest.mark.anyio

SRC = Path(__file__).resolve().parents[2] / "src"
TEXT = "Tổng đài đã chuyển phản ánh tới UBND phường Ngọc Hà"


async def _cut(server: str, database: str, allow: bool) -> None:
    """Let the database take connections again, or refuse new ones and end those open
    (every process's but this test's own control connection)."""
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allow).lower()}')
        if not allow:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = $1 AND pid <> pg_backend_pid()",
                database,
            )
    finally:
        await conn.close()


async def test_the_worker_outlives_a_database_outage_and_then_sends_the_reply(
    app, client, world, zalo, settings, tmp_path
):
    url = settings.effective_database_url
    if not url.startswith("postgresql"):
        pytest.skip("an outage of a PostgreSQL server (SQLite has no server)")
    parts = urlsplit(url.replace("postgresql+asyncpg", "postgresql"))
    database = parts.path.lstrip("/")
    server = parts._replace(path="/postgres").geturl()
    channel = await make_channel(client, world, zalo.url)
    now_ms = str(int(utcnow().timestamp() * 1000))
    assert (
        await deliver(client, channel, variant("user_send_text", timestamp=now_ms))
    ).status_code == 200
    await run_due_jobs(app.state.hotline.sessionmaker)  # the citizen's text read
    conversation = await conversation_of(client, world, channel)
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
        await asyncio.sleep(3)  # started, looking for jobs every second
        await _cut(server, database, allow=False)
        try:
            await asyncio.sleep(4)  # its looks for jobs fail meanwhile
            assert worker.poll() is None, log.read_text()[-3000:]
        finally:
            await _cut(server, database, allow=True)
        r = await client.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"text": TEXT},
            headers=world.auth("operator"),
        )
        assert r.status_code == 202, r.text
        for _ in range(300):
            if zalo.fake.sends():
                break
            assert worker.poll() is None, log.read_text()[-3000:]
            await asyncio.sleep(0.1)
        assert [s.json()["message"]["text"] for s in zalo.fake.sends()] == [TEXT]
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            await asyncio.to_thread(worker.wait, 30)
