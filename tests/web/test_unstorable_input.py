"""Values no column can hold are refused as 422 problems naming the field, on both engines:
numbers beyond the column's integer range, NUL characters, negative limits, bad names."""

from __future__ import annotations

import pytest

from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio

HUGE = 197820478159321173065728  # beyond BIGINT
BEYOND_INT32 = 7206184415592


def assert_problem(r, field: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field, r.json()


async def test_ids_beyond_bigint_in_path_query_and_body_name_the_field(client, world):
    admin = world.auth("admin")
    assert_problem(await client.get(f"/api/v1/contacts/{HUGE}/reads", headers=admin), "contact_id")
    assert_problem(
        await client.get(f"/api/v1/calls?contact_id={HUGE}", headers=admin), "contact_id"
    )
    r = await client.post(f"/api/v1/contacts/{HUGE}/merge", json={"merge_id": 1}, headers=admin)
    assert_problem(r, "contact_id")
    r = await client.post("/api/v1/contacts/1/merge", json={"merge_id": -HUGE}, headers=admin)
    assert_problem(r, "merge_id")
    r = await client.post("/api/v1/cases", json=new_case_body(call_id=HUGE), headers=admin)
    assert_problem(r, "call_id")


async def test_numbers_beyond_an_integer_column_name_the_field(client, world):
    admin = world.auth("admin")
    r = await client.post(f"/api/v1/triage/models/{BEYOND_INT32}/activate", headers=admin)
    assert_problem(r, "version")
    call = {
        "line": "1022",
        "caller": "0912345678",
        "started_at": "2026-12-04T08:00:00Z",
        "talk_seconds": 5652744709822330664124416,
    }
    assert_problem(await client.post("/api/v1/calls", json=call, headers=admin), "talk_seconds")
    call["talk_seconds"] = BEYOND_INT32
    assert_problem(await client.post("/api/v1/calls", json=call, headers=admin), "talk_seconds")
    r = await client.put(
        "/api/v1/phone/queues/operator", json={"version": BEYOND_INT32}, headers=admin
    )
    assert_problem(r, "version")


async def test_negative_limit_is_refused(client, world):
    admin = world.auth("admin")
    assert_problem(await client.get("/api/v1/phone/changes?limit=-1", headers=admin), "limit")
    assert_problem(await client.get("/api/v1/calls?limit=-1", headers=admin), "limit")
    assert_problem(await client.get("/api/v1/callbacks?limit=0", headers=admin), "limit")


async def test_nul_characters_are_refused_and_nothing_is_stored(client, world):
    admin = world.auth("admin")
    r = await client.post(
        "/api/v1/cases", json=new_case_body(description="Hết gạo\x00"), headers=admin
    )
    assert_problem(r, "description")
    r = await client.post(
        "/api/v1/cases",
        json=new_case_body(contact={"name": "Lan\x00", "phone": "0912345678"}),
        headers=admin,
    )
    assert_problem(r, "contact.name")
    assert (await client.get("/api/v1/cases", headers=admin)).json()["items"] == []
    article = {"question": "Hỏi\x00", "answer": "Đáp"}
    r = await client.post("/api/v1/knowledge/articles", json=article, headers=admin)
    assert_problem(r, "question")
    assert_problem(await client.get("/api/v1/cases?q=g%00o", headers=admin), "q")
    assert_problem(await client.get("/api/v1/cases/HL%00/events", headers=admin), "code")


async def test_phone_configuration_names_from_the_path_are_checked(client, world):
    admin = world.auth("admin")
    menu = {"version": 0, "options": [{"digit": "1", "queue": "operator"}]}
    r = await client.put("/api/v1/phone/menus/Trung tâm 115", json=menu, headers=admin)
    assert_problem(r, "name")
    r = await client.put(
        "/api/v1/phone/lines/%12", json={"version": 0, "menu": "main"}, headers=admin
    )
    assert_problem(r, "number")
    r = await client.put(
        "/api/v1/phone/destinations/Bad Name",
        json={"version": 0, "uri": "sip:1@10.0.0.5"},
        headers=admin,
    )
    assert_problem(r, "name")


async def test_call_durations_fit_the_report_counters(client, world):
    """Durations are summed per hour in 32-bit counters: two calls of 2³¹−1 seconds each
    overflowed them on PostgreSQL (and not on SQLite). A call lasts at most a day."""
    admin = world.auth("admin")
    call = {"line": "1022", "caller": "0912345678", "started_at": "2026-12-04T08:00:00Z"}
    for field in ("talk_seconds", "queue_wait_seconds"):
        r = await client.post("/api/v1/calls", json={**call, field: 2**31 - 1}, headers=admin)
        assert_problem(r, field)
        r = await client.post("/api/v1/calls", json={**call, field: 86_401}, headers=admin)
        assert_problem(r, field)
    for _ in range(2):
        day_long = {**call, "talk_seconds": 86_400, "queue_wait_seconds": 86_400}
        r = await client.post("/api/v1/calls", json=day_long, headers=admin)
        assert r.status_code == 201, r.text
