"""Call records: E.164 callers linked to contacts, counted by line in the summary report."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio


def call_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "line": "1022",
        "caller": "0912 345 678",
        "started_at": "2026-11-20T02:00:00Z",  # 09:00 in Hà Nội
        "answered_at": "2026-11-20T02:00:30Z",
        "ended_at": "2026-11-20T02:04:30Z",
        "menu_path": "1",
        "queue_wait_seconds": 30,
        "talk_seconds": 240,
        "outcome": "answered",
    }
    body.update(overrides)
    return body


async def _post_call(client: Any, world: Any, **overrides: Any) -> Any:
    """A call recorded through the API, as a shift lead does (the API takes call records
    from leads and administrators only; the phone line writes its own)."""
    return await client.post(
        "/api/v1/calls", json=call_body(**overrides), headers=world.auth("supervisor")
    )


async def record_call_for(
    client: Any, world: Any, body: dict[str, Any], who: str = "operator"
) -> Any:
    """Record a call `who` answered (or one nobody answered) as a shift lead does."""
    if body.get("answered_at"):
        body = {**body, "operator_id": await _user_id(client, world, who)}
    return await client.post("/api/v1/calls", json=body, headers=world.auth("supervisor"))


async def test_call_is_stored_with_e164_caller_and_linked_to_the_contact(client, world):
    case = await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    contact_id = case.json()["contact_id"]

    r = await _post_call(client, world, caller="84912345678", case_code=case.json()["code"])

    assert r.status_code == 201, r.text
    call = r.json()
    assert call["caller"] == "+84912345678"
    assert call["contact_id"] == contact_id
    assert call["outcome"] == "answered"
    listed = await client.get(
        "/api/v1/calls", params={"contact_id": contact_id}, headers=world.auth("operator")
    )
    assert [c["id"] for c in listed.json()] == [call["id"]]


async def test_call_from_unknown_number_has_no_contact(client, world):
    r = await _post_call(client, world, caller="+84 987 654 321")
    assert r.status_code == 201, r.text
    assert r.json()["caller"] == "+84987654321"
    assert r.json()["contact_id"] is None


async def test_summary_counts_calls_by_line_on_local_dates(client, world):
    for line, started in [
        ("1022", "2026-11-20T02:00:00Z"),
        ("1022", "2026-11-20T09:00:00Z"),
        ("115", "2026-11-20T03:00:00Z"),
        # 01:30 on the 21st in Hà Nội: not in the 20th's report.
        ("1022", "2026-11-20T18:30:00Z"),
    ]:
        # Answered 30 s after the start and ended 4 minutes later, as call_body's.
        start = datetime.fromisoformat(started)
        r = await _post_call(
            client,
            world,
            line=line,
            started_at=started,
            answered_at=(start + timedelta(seconds=30)).isoformat(),
            ended_at=(start + timedelta(seconds=270)).isoformat(),
        )
        assert r.status_code == 201, r.text

    r = await client.get(
        "/api/v1/reports/summary",
        params={"from": "2026-11-20", "to": "2026-11-20"},
        headers=world.auth("supervisor"),
    )

    assert r.status_code == 200, r.text
    calls = r.json()["calls"]
    assert calls["total"] == 3
    assert calls["by_line"] == {"1022": 2, "115": 1}
    assert calls["by_outcome"] == {"answered": 3}
    by_hour = {h["hour"]: h["calls"] for h in r.json()["by_hour"] if h["calls"]}
    assert by_hour == {9: 1, 10: 1, 16: 1}
    next_day = await client.get(
        "/api/v1/reports/summary",
        params={"from": "2026-11-21", "to": "2026-11-21"},
        headers=world.auth("supervisor"),
    )
    assert next_day.json()["calls"]["by_line"] == {"1022": 1}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"outcome": "hung_up_angrily"}, "outcome"),
        ({"caller": "12345"}, "caller"),
        ({"started_at": "2026-11-20T09:00:00"}, "started_at"),
        ({"answered_at": "2026-11-20T09:00:30"}, "answered_at"),
        ({"ended_at": "2026-11-20T09:04:30"}, "ended_at"),
        ({"talk_seconds": -1}, "talk_seconds"),
        ({"operator_id": 987654}, "operator_id"),
    ],
    ids=[
        "outcome",
        "caller",
        "naive-start",
        "naive-answer",
        "naive-end",
        "negative-talk",
        "unknown-operator",
    ],
)
async def test_bad_call_is_422_naming_the_field_and_not_counted(client, world, overrides, field):
    r = await _post_call(client, world, **overrides)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field
    listed = await client.get("/api/v1/calls", headers=world.auth("operator"))
    assert listed.json() == []
    report = await client.get(
        "/api/v1/reports/summary",
        params={"from": "2026-11-20", "to": "2026-11-20"},
        headers=world.auth("supervisor"),
    )
    assert report.json()["calls"]["total"] == 0


async def _user_id(client: Any, world: Any, who: str) -> int:
    r = await client.get("/api/v1/users/me", headers=world.auth(who))
    return int(r.json()["id"])


async def test_an_answered_call_is_the_recording_leads_unless_another_is_named(client, world):
    mine = await _post_call(client, world)
    operator = await _user_id(client, world, "operator")
    theirs = await _post_call(client, world, operator_id=operator)

    assert mine.status_code == 201 and theirs.status_code == 201, theirs.text
    assert mine.json()["operator_id"] == await _user_id(client, world, "supervisor")
    assert theirs.json()["operator_id"] == operator


async def test_a_call_nobody_answered_has_no_operator(client, world):
    unanswered = {"answered_at": None, "talk_seconds": 0, "outcome": "abandoned_queue"}
    r = await _post_call(client, world, **unanswered)
    assert r.status_code == 201, r.text
    assert r.json()["operator_id"] is None

    named = await _post_call(
        client, world, **unanswered, operator_id=await _user_id(client, world, "operator")
    )
    assert named.status_code == 422, named.text
    assert named.json()["field"] == "operator_id"


async def test_a_unit_officer_is_not_a_call_taker(client, world):
    r = await _post_call(client, world, operator_id=await _user_id(client, world, "officer"))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "operator_id"


async def test_unit_officer_may_not_record_calls(client, world):
    r = await client.post("/api/v1/calls", json=call_body(), headers=world.auth("officer"))
    assert r.status_code == 403


async def test_case_detail_lists_the_calls_linked_to_it(client, world):
    from tests.conftest import new_case_body

    case = await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    code = case.json()["code"]
    call = await client.post(
        "/api/v1/calls",
        json={
            "line": "1022",
            "caller": "0912345678",
            "started_at": "2026-11-20T08:00:00+07:00",
            "talk_seconds": 95,
            "outcome": "answered",
            "case_code": code,
        },
        headers=world.auth("supervisor"),
    )
    assert call.status_code == 201, call.text
    detail = await client.get(f"/api/v1/cases/{code}", headers=world.auth("operator"))
    assert [(c["line"], c["talk_seconds"], c["outcome"]) for c in detail.json()["calls"]] == [
        ("1022", 95, "answered")
    ]
