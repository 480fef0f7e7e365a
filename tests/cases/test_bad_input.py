"""Bad intake is refused with a problem naming the field, and leaves the database untouched."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select, text

from hotline.cases import codes
from hotline.reports.models import CaseCounter, CaseCounterDelta
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio

TABLES = ("case", "contact", "contact_phone", "case_event", "case_counter")


async def snapshot(app: Any) -> dict[str, int]:
    """Row counts of the tables intake writes, plus the total of the 'created' counters."""
    async with app.state.hotline.sessionmaker() as session:
        counts = {t: await session.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in TABLES}
        # what reports count: folded counters plus intake increments not folded yet
        counts["created_total"] = sum(
            [
                await session.scalar(select(func.coalesce(func.sum(model.created), 0)))
                for model in (CaseCounter, CaseCounterDelta)
            ]
        )
    return counts


def assert_problem(r: Any, status: int, field: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status
    assert body["field"] == field, body


async def _existing_case(client: Any, world: Any) -> str:
    r = await client.post(
        "/api/v1/cases",
        json=new_case_body(contact={"name": "A", "phone": "0987654321"}),
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["code"])


BAD_BODIES = [
    pytest.param(new_case_body(category="khong_co"), "category", id="unknown-category"),
    pytest.param(new_case_body(ward_code="99999"), "ward_code", id="unknown-ward"),
    pytest.param(
        new_case_body(contact={"name": "B", "phone": "12345"}), "contact.phone", id="phone-12345"
    ),
    pytest.param(
        new_case_body(contact={"name": "B", "phone": "abc"}), "contact.phone", id="phone-abc"
    ),
    pytest.param(new_case_body(channel="pigeon"), "channel", id="unknown-channel"),
    pytest.param(new_case_body(description=""), "description", id="empty-description"),
    pytest.param(new_case_body(description="   \n "), "description", id="blank-description"),
    pytest.param(new_case_body(colour="red"), "colour", id="extra-field"),
    pytest.param(new_case_body(lat=21.03), "long", id="lat-without-long"),
    pytest.param(new_case_body(long=105.8), "lat", id="long-without-lat"),
    pytest.param(new_case_body(lat=95.0, long=105.8), "lat", id="lat-out-of-range"),
    pytest.param(new_case_body(priority="asap"), "priority", id="unknown-priority"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
async def test_bad_intake_is_422_naming_the_field_and_writes_nothing(
    client, world, app, body, field
):
    await _existing_case(client, world)
    before = await snapshot(app)
    r = await client.post("/api/v1/cases", json=body, headers=world.auth("operator"))
    assert_problem(r, 422, field)
    assert await snapshot(app) == before


async def test_taken_tracking_code_draws_again_and_writes_one_case(client, world, app, monkeypatch):
    taken = await _existing_case(client, world)
    fresh = "ABCD-EFGH" if taken != "ABCD-EFGH" else "ABCD-EFGJ"
    drawn = iter([taken, fresh])
    monkeypatch.setattr(codes, "random_code", lambda: next(drawn))
    before = await snapshot(app)

    r = await client.post(
        "/api/v1/cases",
        json=new_case_body(contact={"name": "C", "phone": "0911222333"}),
        headers=world.auth("operator"),
    )

    assert r.status_code == 201, r.text
    assert r.json()["code"] == fresh
    after = await snapshot(app)
    assert after["case"] == before["case"] + 1
    assert after["contact"] == before["contact"] + 1
    assert after["contact_phone"] == before["contact_phone"] + 1
    assert after["case_event"] == before["case_event"] + 1
    assert after["created_total"] == before["created_total"] + 1
    old = await client.get(f"/api/v1/cases/{taken}", headers=world.auth("operator"))
    assert old.json()["contact"]["phones"] == ["+84987654321"]


async def test_always_taken_tracking_code_is_409_and_writes_nothing(
    client, world, app, monkeypatch
):
    taken = await _existing_case(client, world)
    monkeypatch.setattr(codes, "random_code", lambda: taken)
    before = await snapshot(app)

    r = await client.post(
        "/api/v1/cases",
        json=new_case_body(contact={"name": "D", "phone": "0911222444"}),
        headers=world.auth("operator"),
    )

    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await snapshot(app) == before


async def test_twenty_concurrent_intakes_all_succeed_with_distinct_codes(client, world, app):
    before = await snapshot(app)

    async def post(i: int) -> Any:
        # Half share one new number, so the contact find-or-create races too.
        phone = "0933000111" if i % 2 else f"09330002{i:02d}"
        return await client.post(
            "/api/v1/cases",
            json=new_case_body(description=f"Yêu cầu số {i}", contact={"phone": phone}),
            headers=world.auth("operator"),
        )

    responses = await asyncio.gather(*(post(i) for i in range(20)))

    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses]
    codes_seen = {r.json()["code"] for r in responses}
    assert len(codes_seen) == 20
    shared = {r.json()["contact_id"] for i, r in enumerate(responses) if i % 2}
    assert len(shared) == 1
    after = await snapshot(app)
    assert after["case"] == before["case"] + 20
    assert after["case_event"] == before["case_event"] + 20
    assert after["contact"] == before["contact"] + 11
    assert after["created_total"] == before["created_total"] + 20


async def test_intake_body_that_is_not_json_is_a_problem_naming_the_body(client, world, app):
    before = await snapshot(app)
    r = await client.post(
        "/api/v1/cases",
        content=b'{"channel": "phone", "description": ',
        headers={**world.auth("operator"), "content-type": "application/json"},
    )
    assert_problem(r, 422, "body")
    assert await snapshot(app) == before


async def test_intake_checks_the_caller_before_the_body(client):
    r = await client.post("/api/v1/cases", content=b"not json")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
