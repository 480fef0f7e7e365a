"""The database going away: 503 problem+json with Retry-After, and back to normal after it
returns (a restart drops every pooled connection: the next request must not fail)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from hotline.app import create_app
from hotline.settings import Settings
from tests.conftest import _pg_admin, new_case_body

pytestmark = pytest.mark.anyio


def assert_unavailable(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["retry-after"]) > 0
    assert r.json()["status"] == 503


class Proxy:
    """A TCP relay on loopback in front of PostgreSQL that can be stopped and started:
    stopping it closes every relayed connection and refuses new ones, as a database
    server that goes down does."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()
        self._server = None

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


async def _client(settings: Settings) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield app, client
    await app.state.hotline.close()


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """The PostgreSQL test database, reset (these tests are about PostgreSQL's pools)."""
    from tests.conftest import _pg_reset

    url = str(request.getfixturevalue("pg_database"))
    asyncio.run(_pg_reset(url))
    return url


async def _admin_token(app: Any, client: httpx.AsyncClient) -> dict[str, str]:
    from hotline.auth.service import create_user

    async with app.state.hotline.unit_of_work() as session:
        await create_user(session, username="admin", password="mat-khau-1022-dai", role="admin")
    r = await client.post(
        "/api/v1/auth/token", data={"username": "admin", "password": "mat-khau-1022-dai"}
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_unreachable_database_answers_503_with_retry_after(engine, tmp_path: Path):
    if engine == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'hotline.sqlite3'}"
    else:
        with contextlib.closing(__import__("socket").socket()) as s:
            s.bind(("127.0.0.1", 0))
            closed_port = s.getsockname()[1]
        url = f"postgresql://postgres@127.0.0.1:{closed_port}/hotline"
    settings = Settings(database_url=url, var_dir=tmp_path / "var", site_province_code="01")
    async for _app, client in _client(settings):
        assert_unavailable(
            await client.post("/api/v1/auth/token", data={"username": "a", "password": "b"})
        )
        assert_unavailable(
            await client.get("/api/v1/cases", headers={"Authorization": "Bearer not-cached"})
        )
    # aiosqlite's thread for a connection that failed to open reports back to the loop
    # once more before it ends: let it, rather than after the loop has closed.
    await asyncio.sleep(0.1)


async def test_database_down_then_back_on_every_pool(pg_url: str, tmp_path: Path):
    real = make_url(pg_url)
    proxy = Proxy(real.host or "127.0.0.1", real.port or 5432)
    await proxy.start()
    url = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = Settings(database_url=url, var_dir=tmp_path / "var", site_province_code="01")
    async for app, client in _client(settings):
        admin = await _admin_token(app, client)
        # Key-less intake goes through the asyncpg autocommit pool, the rest through the ORM.
        r = await client.post("/api/v1/cases", json=new_case_body(), headers=admin)
        assert r.status_code == 201, r.text
        assert (await client.get("/api/v1/cases", headers=admin)).status_code == 200

        await proxy.stop()
        assert_unavailable(await client.post("/api/v1/cases", json=new_case_body(), headers=admin))
        assert_unavailable(await client.get("/api/v1/cases", headers=admin))

        await proxy.start()
        r = await client.post("/api/v1/cases", json=new_case_body(), headers=admin)
        assert r.status_code == 201, r.text
        assert len((await client.get("/api/v1/cases", headers=admin)).json()["items"]) == 2


async def test_next_request_after_a_restart_succeeds(pg_url: str, tmp_path: Path):
    """pg_terminate_backend on every pooled connection stands in for a server restart."""
    settings = Settings(database_url=pg_url, var_dir=tmp_path / "var", site_province_code="01")
    async for app, client in _client(settings):
        admin = await _admin_token(app, client)
        r = await client.post("/api/v1/cases", json=new_case_body(), headers=admin)
        assert r.status_code == 201, r.text
        assert (await client.get("/api/v1/cases", headers=admin)).status_code == 200

        name = make_url(pg_url).database
        await _pg_admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            f" WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        await asyncio.sleep(0.1)  # the terminated connections' sockets close

        assert (await client.get("/api/v1/cases", headers=admin)).status_code == 200
        r = await client.post("/api/v1/cases", json=new_case_body(), headers=admin)
        assert r.status_code == 201, r.text
