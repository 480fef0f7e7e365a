"""`hotline run` (what `make run` starts): its worker and phone line end with it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.anyio


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


async def test_killing_hotline_run_ends_its_worker_and_phone_line(database_url, world, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("the embedded topology of `make run` is SQLite")
    # The database already holds cases (the world fixture's users; one case below), so no
    # demo data is loaded: `run` goes straight to starting its processes.
    from tests.conftest import new_case_body

    env = dict(os.environ)
    env.update(
        HOTLINE_DATABASE_URL=database_url,
        HOTLINE_VAR_DIR=str(tmp_path / "var"),
        HOTLINE_PORT=str(_free_port()),
        HOTLINE_SIP_PORT=str(_free_port(socket.SOCK_DGRAM)),
        HOTLINE_SIP_RTP_PORT_MIN="39000",
        HOTLINE_SIP_RTP_PORT_MAX="39099",
    )
    base = f"http://127.0.0.1:{env['HOTLINE_PORT']}"
    from hotline.app import create_app
    from hotline.settings import Settings

    app = create_app(Settings(database_url=database_url, var_dir=tmp_path / "var"))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            r = await c.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
            assert r.status_code == 201, r.text
    finally:
        await app.state.hotline.close()

    run = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            children = _children(run.pid)
            try:
                if len(children) >= 2 and httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("hotline run did not come up")
        assert len(children) == 2
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(pid) for pid in children):
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in children)
    finally:
        run.kill()
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
