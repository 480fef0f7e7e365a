"""Idempotency-Key on intake: a retry after a lost answer gets the case already made."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from hotline.cases.models import IntakeKey
from hotline.db import utcnow
from hotline.jobs.worker import run_worker
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio


def keyed(world: Any, who: str, key: str) -> dict[str, str]:
    return {**world.auth(who), "Idempotency-Key": key}


async def case_count(client: Any, world: Any) -> int:
    r = await client.get("/api/v1/cases", headers=world.auth("admin"))
    return len(r.json()["items"])


async def test_retry_with_the_same_key_answers_the_case_already_made(client, world):
    headers = keyed(world, "operator", "3f0a7c1e-5b7d-4c1f-9a55-0d2b1e6f4a10")
    first = await client.post("/api/v1/cases", json=new_case_body(), headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = await client.post("/api/v1/cases", json=new_case_body(), headers=headers)
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["code"] == first.json()["code"]
    assert await case_count(client, world) == 1


async def test_same_key_with_another_body_is_refused_naming_the_header(client, world):
    headers = keyed(world, "operator", "key-1")
    assert (await client.post("/api/v1/cases", json=new_case_body(), headers=headers)).is_success
    other = new_case_body(description="Đường ngập nước sau mưa lớn")
    r = await client.post("/api/v1/cases", json=other, headers=headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "Idempotency-Key"
    assert await case_count(client, world) == 1


async def test_keys_belong_to_the_user_who_sent_them(client, world):
    a = await client.post(
        "/api/v1/cases", json=new_case_body(), headers=keyed(world, "operator", "k")
    )
    b = await client.post(
        "/api/v1/cases", json=new_case_body(), headers=keyed(world, "supervisor", "k")
    )
    assert a.status_code == b.status_code == 201
    assert a.json()["code"] != b.json()["code"]
    assert "idempotent-replayed" not in b.headers
    assert await case_count(client, world) == 2


@pytest.mark.parametrize("bad", ["", "x" * 201, "khóa-tiếng-việt", "a b"])
async def test_malformed_keys_are_refused(client, world, bad):
    r = await client.post(
        "/api/v1/cases",
        json=new_case_body(),
        headers={**world.auth("operator"), "Idempotency-Key": bad.encode()},
    )
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "Idempotency-Key"
    assert await case_count(client, world) == 0


async def test_concurrent_retries_with_one_key_make_one_case(client, world):
    headers = keyed(world, "operator", "surge-retry")
    answers = await asyncio.gather(
        *(client.post("/api/v1/cases", json=new_case_body(), headers=headers) for _ in range(8))
    )
    assert [r.status_code for r in answers] == [201] * 8, [r.text for r in answers]
    assert len({r.json()["code"] for r in answers}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in answers) == 7
    assert await case_count(client, world) == 1


async def test_keys_expire_after_a_day(app, client, world, settings):
    headers = keyed(world, "operator", "old-key")
    first = await client.post("/api/v1/cases", json=new_case_body(), headers=headers)
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(update(IntakeKey).values(created_at=utcnow() - timedelta(hours=25)))
    await run_worker(settings, once=True)
    again = await client.post("/api/v1/cases", json=new_case_body(), headers=headers)
    assert again.status_code == 201
    assert again.json()["code"] != first.json()["code"]
    assert "idempotent-replayed" not in again.headers


async def test_recent_keys_survive_the_sweep(client, world, settings):
    headers = keyed(world, "operator", "fresh-key")
    first = await client.post("/api/v1/cases", json=new_case_body(), headers=headers)
    await run_worker(settings, once=True)
    again = await client.post("/api/v1/cases", json=new_case_body(), headers=headers)
    assert again.json()["code"] == first.json()["code"]


async def test_keyless_intake_keeps_the_postgresql_fast_path(app, client, world, database_url):
    # A process's first report of a category goes through the unit of work, which confirms
    # the category (and loads triage's model) for the fast path: counted from the second.
    r = await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    assert r.status_code == 201
    writer = await app.state.hotline.intake_writer()
    if database_url.startswith("sqlite"):
        assert writer is None  # SQLite has only the ORM path
        return
    before = writer.statements
    r = await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    assert r.status_code == 201
    assert writer.statements == before + 1
    r = await client.post(
        "/api/v1/cases", json=new_case_body(), headers=keyed(world, "operator", "k1")
    )
    assert r.status_code == 201
    assert writer.statements == before + 1  # the keyed one went through the ORM, with its key
