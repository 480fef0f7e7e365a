"""Argon2 runs off the event loop: while a hash or a verify is under way in its thread, the
app keeps answering other requests. No timings: a hasher that blocks until released shows
whether /healthz answered before the release."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest
from argon2 import PasswordHasher, profiles

from hotline.auth.service import use_password_hasher
from tests.conftest import PASSWORD

pytestmark = pytest.mark.anyio


class BlockingHasher(PasswordHasher):
    """Argon2 at the cheapest cost whose hash and verify wait for `release` once armed."""

    def __init__(self) -> None:
        cheap = profiles.CHEAPEST
        super().__init__(
            time_cost=cheap.time_cost,
            memory_cost=cheap.memory_cost,
            parallelism=cheap.parallelism,
            hash_len=cheap.hash_len,
            salt_len=cheap.salt_len,
            type=cheap.type,
        )
        self.armed = False
        self.started = threading.Event()
        self.release = threading.Event()

    def _hold(self) -> None:
        if self.armed:
            self.started.set()
            self.release.wait(timeout=60)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self._hold()
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self._hold()
        return super().verify(hash, password)


@pytest.fixture
def blocking_hasher() -> Any:
    hasher = BlockingHasher()
    use_password_hasher(hasher)
    yield hasher
    hasher.release.set()
    use_password_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))


async def _healthz_answers_while_held(client: Any, hasher: BlockingHasher, call: Any) -> bool:
    return await _answers_while_held(client, hasher, call, lambda: client.get("/healthz"))


async def _answers_while_held(client: Any, hasher: BlockingHasher, call: Any, probe: Any) -> bool:
    # If hashing ran on the loop, the loop would stay blocked until this timer lets the
    # hasher go, and /healthz would only answer after that.
    timer = threading.Timer(5.0, hasher.release.set)
    timer.start()
    hasher.armed = True
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            while not hasher.started.is_set():
                await anyio.sleep(0.005)
            r = await probe()
            answered_while_held = not hasher.release.is_set()
            hasher.release.set()
        assert r.status_code in (200, 201), r.text
        return answered_while_held
    finally:
        timer.cancel()


async def test_loop_serves_while_a_failed_sign_in_is_being_verified(client, world, blocking_hasher):
    async def sign_in() -> None:
        r = await client.post(
            "/api/v1/auth/token", data={"username": "operator", "password": "sai-mat-khau"}
        )
        assert r.status_code == 401

    assert await _healthz_answers_while_held(client, blocking_hasher, sign_in)


async def test_loop_serves_while_a_new_users_password_is_hashed(client, world, blocking_hasher):
    async def create() -> None:
        r = await client.post(
            "/api/v1/users",
            json={"username": "nguoimoi", "password": PASSWORD, "role": "operator"},
            headers=world.auth("admin"),
        )
        assert r.status_code == 201, r.text

    assert await _healthz_answers_while_held(client, blocking_hasher, create)


async def test_a_case_is_written_while_a_failed_sign_in_is_being_checked(
    client, world, blocking_hasher
):
    # The password is checked with no transaction open: on SQLite an open write
    # transaction (BEGIN IMMEDIATE) would hold the database's write lock through it, and a
    # flood of failed sign-ins would stall every intake.
    async def sign_in() -> None:
        r = await client.post(
            "/api/v1/auth/token", data={"username": "khong-co-ai", "password": "sai-mat-khau"}
        )
        assert r.status_code == 401

    async def intake() -> Any:
        return await client.post(
            "/api/v1/cases",
            json={"channel": "phone", "description": "Cần hỗ trợ lương thực"},
            headers=world.auth("operator"),
        )

    assert await _answers_while_held(client, blocking_hasher, sign_in, intake)


async def test_a_case_is_written_while_a_page_sign_in_is_being_checked(
    client, world, blocking_hasher
):
    from tests.auth.helpers import csrf_of

    form = await client.get("/login")

    async def sign_in() -> None:
        r = await client.post(
            "/login",
            data={"username": "operator", "password": "sai-mat-khau", "csrf": csrf_of(form.text)},
        )
        assert r.status_code == 400

    async def intake() -> Any:
        return await client.post(
            "/api/v1/cases",
            json={"channel": "phone", "description": "Cần hỗ trợ lương thực"},
            headers=world.auth("operator"),
        )

    assert await _answers_while_held(client, blocking_hasher, sign_in, intake)
