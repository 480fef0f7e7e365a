"""Two `hotline serve` processes behind Debian's nginx on PostgreSQL; one is killed with
SIGKILL under intake load while dashboards stream events through the proxy."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hotline.cases.models import Case
from tests.conftest import missing_tool, new_case_body

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

NGINX_CONF = """
worker_processes 1;
user root;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    upstream hotline {{
        server 127.0.0.1:{a} max_fails=1 fail_timeout=30s;
        server 127.0.0.1:{b} max_fails=1 fail_timeout=30s;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://hotline;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 60s;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


class Dashboard:
    """An EventSource: reconnects after any break with the last id it saw."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.base, self.headers = base, headers
        self.ids: list[int] = []
        self.created: set[str] = set()
        self.reconnects = 0
        self.last: str | None = None
        self.connected = asyncio.Event()

    async def run(self) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=httpx.Timeout(30)) as http:
            while True:
                headers = dict(self.headers)
                if self.last is not None:
                    headers["Last-Event-ID"] = self.last
                try:
                    async with http.stream("GET", "/api/v1/events", headers=headers) as r:
                        if r.status_code != 200:
                            raise httpx.HTTPError(f"status {r.status_code}")
                        await self._read(r)
                except (httpx.HTTPError, OSError):
                    pass
                self.reconnects += 1
                await asyncio.sleep(0.2)

    async def _read(self, r: httpx.Response) -> None:
        message: dict[str, str] = {}
        async for line in r.aiter_lines():
            if line:
                if not line.startswith(":"):
                    key, _, value = line.partition(":")
                    message[key] = value.strip()
                continue
            if "id" in message:
                self.last = message["id"]
            if message.get("event") == "ready":
                self.connected.set()
            elif message.get("event") == "case.created":
                self.ids.append(int(message["id"]))
                self.created.add(json.loads(message["data"])["case_code"])
            message = {}


async def test_a_web_process_killed_under_load_loses_no_case_and_no_event(
    settings, world, tmp_path: Path
):
    if shutil.which("nginx") is None:
        missing_tool("nginx is not installed (make debian-test-deps installs it)")
    a, b, front = _port(), _port(), _port()
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": settings.database_url,
        "HOTLINE_VAR_DIR": str(settings.var_dir),
        "HOTLINE_EVENTS_POLL_SECONDS": "1",
    }
    servers = {
        port: subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in (a, b)
    }
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=prefix, a=a, b=b, port=front))
    nginx = subprocess.Popen(
        ["nginx", "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
        stderr=subprocess.DEVNULL,
    )
    tasks: list[asyncio.Task[Any]] = []
    try:
        for port in (a, b):
            await asyncio.to_thread(_wait_http, f"http://127.0.0.1:{port}/healthz")
        base = f"http://127.0.0.1:{front}"
        await asyncio.to_thread(_wait_http, f"{base}/healthz")
        dashboards = [Dashboard(base, world.auth("supervisor")) for _ in range(6)]
        tasks = [asyncio.create_task(d.run()) for d in dashboards]
        async with asyncio.timeout(10):
            for d in dashboards:
                await d.connected.wait()

        acknowledged: list[str] = []
        stop = asyncio.Event()

        async def intake() -> None:
            async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as http:
                while not stop.is_set():
                    with contextlib.suppress(httpx.HTTPError):
                        r = await http.post(
                            "/api/v1/cases", json=new_case_body(), headers=world.auth("operator")
                        )
                        if r.status_code == 201:
                            acknowledged.append(r.json()["code"])

        load = [asyncio.create_task(intake()) for _ in range(8)]
        await asyncio.sleep(3)
        servers[a].send_signal(signal.SIGKILL)
        servers[a].wait()
        await asyncio.sleep(4)
        stop.set()
        await asyncio.gather(*load)
        assert len(acknowledged) > 20, "the load never got going"

        # No acknowledged case lost.
        async with settings_session(settings) as session:
            stored = set(
                (await session.scalars(select(Case.code).where(Case.code.in_(acknowledged)))).all()
            )
        assert stored == set(acknowledged)
        # Every dashboard, after reconnecting, has seen every event, once, in id order.
        async with asyncio.timeout(20):
            while not all(set(acknowledged) <= d.created for d in dashboards):
                await asyncio.sleep(0.2)
        for d in dashboards:
            assert d.ids == sorted(set(d.ids))
        assert any(d.reconnects for d in dashboards), "no dashboard was on the killed process"
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        nginx.send_signal(signal.SIGQUIT)
        for proc in (*servers.values(), nginx):
            if proc.poll() is None:
                proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)


@contextlib.asynccontextmanager
async def settings_session(settings: Any) -> Any:
    from hotline.db import create_engine, make_sessionmaker
    from hotline.site import Site

    engine = create_engine(settings.effective_database_url)
    try:
        async with make_sessionmaker(engine, Site.from_settings(settings))() as session:
            yield session
    finally:
        await engine.dispose()
