"""Throttles: failed sign-ins per address across usernames and per username across addresses,
public requests per address; shared by every web process through Redis; the address is the
TCP peer's unless a trusted proxy forwarded it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from hotline.app import create_app
from hotline.settings import Settings
from tests.conftest import PASSWORD

pytestmark = pytest.mark.anyio

REDIS_URL = "redis://127.0.0.1:6379/15"


class Apps:
    """App instances built from one settings object (as several web processes would be)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.apps: list[Any] = []

    def new(self) -> Any:
        app = create_app(self.settings)
        self.apps.append(app)
        return app

    @staticmethod
    def client(app: Any, address: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture
async def apps(settings: Settings) -> AsyncIterator[Any]:
    def make(**overrides: Any) -> Apps:
        made = Apps(settings.model_copy(update=overrides))
        created.append(made)
        return made

    created: list[Apps] = []
    yield make
    for made in created:
        for app in made.apps:
            await app.state.hotline.close()


async def _add_user(app: Any, username: str) -> None:
    from hotline.auth.service import create_user

    async with app.state.hotline.unit_of_work() as session:
        await create_user(session, username=username, password=PASSWORD, role="operator")


async def _sign_in(client: httpx.AsyncClient, username: str, password: str) -> int:
    r = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return r.status_code


async def test_spraying_many_usernames_from_one_address_is_throttled(apps):
    app = apps(login_failures_per_address=5, login_failures_per_username=100).new()
    await _add_user(app, "thật")
    async with Apps.client(app, "203.0.113.7") as c:
        codes = [await _sign_in(c, f"nguoi{i}", "mat-khau-pho-bien") for i in range(5)]
        assert codes == [401] * 5
        assert await _sign_in(c, "nguoi-moi", "mat-khau-pho-bien") == 429
        # Even an account's right password waits: the address is the one being throttled.
        assert await _sign_in(c, "thật", PASSWORD) == 429
    async with Apps.client(app, "198.51.100.9") as other:
        assert await _sign_in(other, "thật", PASSWORD) == 200


async def test_one_username_from_many_addresses_is_throttled(apps):
    app = apps(login_failures_per_address=100, login_failures_per_username=3).new()
    await _add_user(app, "nanhan")
    for i in range(3):
        async with Apps.client(app, f"198.51.100.{i + 1}") as c:
            assert await _sign_in(c, "nanhan", "doan-sai") == 401
    async with Apps.client(app, "198.51.100.200") as c:
        r = await c.post("/api/v1/auth/token", data={"username": " NanHan ", "password": PASSWORD})
        assert r.status_code == 429, r.text
        assert r.json()["field"] == "username"
        # Another account is not affected.
        await _add_user(app, "khac")
        assert await _sign_in(c, "khac", PASSWORD) == 200


async def test_ipv6_clients_are_throttled_by_their_64(apps):
    app = apps(login_failures_per_address=2, login_failures_per_username=100).new()
    for i in range(2):
        async with Apps.client(app, f"2001:db8:1:2::{i + 1}") as c:
            assert await _sign_in(c, f"nguoi{i}", "doan-sai") == 401
    async with Apps.client(app, "2001:db8:1:2:ffff::9") as c:
        assert await _sign_in(c, "nguoi9", "doan-sai") == 429


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    import redis

    prefix = f"hotline-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    conn = redis.Redis.from_url(REDIS_URL)
    for key in conn.scan_iter(f"{prefix}*"):
        conn.delete(key)
    conn.close()


async def test_two_app_instances_share_sign_in_failures_through_redis(apps, redis_prefix):
    made = apps(
        redis_url=REDIS_URL,
        ratelimit_prefix=redis_prefix,
        login_failures_per_address=100,
        login_failures_per_username=4,
    )
    one, two = made.new(), made.new()
    await _add_user(one, "chung")
    async with Apps.client(one, "192.0.2.1") as a, Apps.client(two, "192.0.2.2") as b:
        assert [await _sign_in(a, "chung", "sai") for _ in range(2)] == [401, 401]
        assert [await _sign_in(b, "chung", "sai") for _ in range(2)] == [401, 401]
        # Four failures in all: both processes now refuse, the right password included.
        assert await _sign_in(a, "chung", PASSWORD) == 429
        assert await _sign_in(b, "chung", PASSWORD) == 429


async def test_two_app_instances_share_the_public_allowance_through_redis(apps, redis_prefix):
    made = apps(redis_url=REDIS_URL, ratelimit_prefix=redis_prefix, public_requests_per_minute=3)
    one, two = made.new(), made.new()
    async with Apps.client(one, "192.0.2.5") as a, Apps.client(two, "192.0.2.5") as b:
        assert (await a.get("/api/v1/public/faq")).status_code == 200
        assert (await b.get("/api/v1/public/faq")).status_code == 200
        assert (await a.get("/api/v1/public/faq")).status_code == 200
        assert (await b.get("/api/v1/public/faq")).status_code == 429


# --- the address behind the throttles, through a real server (tests/web/conftest.py) ----


async def _faq_codes(base: str, forwarded_for: list[str]) -> list[int]:
    async with httpx.AsyncClient(base_url=base) as c:
        return [
            (await c.get("/api/v1/public/faq", headers={"X-Forwarded-For": ip})).status_code
            for ip in forwarded_for
        ]


async def test_spoofed_forwarded_for_from_an_untrusted_client_does_not_dodge_the_throttle(
    serve,
):
    base = serve(HOTLINE_PUBLIC_REQUESTS_PER_MINUTE="2")
    codes = await _faq_codes(base, ["10.9.8.1", "10.9.8.2", "10.9.8.3"])
    assert codes == [200, 200, 429]


async def test_forwarded_for_from_a_trusted_proxy_names_the_client(serve):
    base = serve(HOTLINE_PUBLIC_REQUESTS_PER_MINUTE="2", HOTLINE_TRUSTED_PROXIES='["127.0.0.1"]')
    codes = await _faq_codes(base, ["10.9.8.1", "10.9.8.2", "10.9.8.3", "10.9.8.1", "10.9.8.1"])
    assert codes == [200, 200, 200, 200, 429]


async def test_sign_in_works_and_is_still_throttled_while_redis_is_unreachable(apps):
    # Nothing listens on port 1: every call to the shared store fails at once.
    made = apps(
        redis_url="redis://127.0.0.1:1/0",
        login_failures_per_address=100,
        login_failures_per_username=3,
        public_requests_per_minute=2,
    )
    app = made.new()
    await _add_user(app, "mat-redis")
    async with Apps.client(app, "192.0.2.9") as c:
        assert await _sign_in(c, "mat-redis", PASSWORD) == 200
        assert [await _sign_in(c, "mat-redis", "sai") for _ in range(3)] == [401, 401, 401]
        assert await _sign_in(c, "mat-redis", PASSWORD) == 429
        codes = [(await c.get("/api/v1/public/faq")).status_code for _ in range(3)]
        assert codes == [200, 200, 429]


async def test_a_parallel_burst_of_wrong_passwords_is_checked_no_more_than_the_limit(apps):
    import anyio

    app = apps(login_failures_per_address=1000, login_failures_per_username=5).new()
    await _add_user(app, "song-song")
    codes: list[int] = []

    async def one(n: int) -> None:
        async with Apps.client(app, f"198.51.100.{n + 1}") as c:
            codes.append(await _sign_in(c, "song-song", f"sai-{n}"))

    async with anyio.create_task_group() as tg:
        for n in range(30):
            tg.start_soon(one, n)
    assert sorted(codes) == [401] * 5 + [429] * 25
