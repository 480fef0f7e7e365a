"""The urgent case a warning sign opens, beyond its reads: it is never published, its edits'
old and new medical values (timeline, live stream) reach only those in charge, only they
edit its medical text and home, and the knowledge base matches only the text the reader
sees."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from tests.care.test_urgent_case_privacy import HOME, _hidden, _urgent_case
from tests.cases.test_events_sse import _next_event, _serve
from tests.conftest import new_case_body
from tests.knowledge.helpers import published

pytestmark = pytest.mark.anyio

MOVED = "Số 40 ngõ 34 phố Đội Cấn"
RETOLD = "Dấu hiệu cảnh báo: SpO2 91%, thở nhanh, tím môi"


def _problem(r: Any, status: int, field: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field


async def test_no_one_publishes_an_urgent_case_and_the_portal_never_lists_one(app, client, world):
    code, _ = await _urgent_case(client, world)
    for who in ("operator", "supervisor"):
        r = await client.patch(
            f"/api/v1/cases/{code}", json={"public": True}, headers=world.auth(who)
        )
        _problem(r, 422, "public")
    page = await client.get("/phan-anh/cong-khai")
    assert page.status_code == 200
    _hidden(page.text)


async def test_an_urgent_case_flagged_public_by_other_means_stays_off_the_portal(
    app, client, world
):
    """An old row, a script: the portal leaves home care's cases out all the same."""
    from hotline.cases.models import Case

    code, _ = await _urgent_case(client, world)
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(update(Case).where(Case.code == code).values(public=True))
    page = await client.get("/phan-anh/cong-khai")
    assert page.status_code == 200
    _hidden(page.text)
    assert "Dấu hiệu cảnh báo" not in page.text and "Đội Cấn" not in page.text


async def _edited_by_the_supervisor(client: Any, world: Any, code: str) -> None:
    r = await client.patch(
        f"/api/v1/cases/{code}",
        json={"address": MOVED, "description": RETOLD, "lat": 21.03, "long": 105.81},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200, r.text


async def test_the_timeline_shows_the_edits_values_only_to_those_in_charge(client, world):
    code, _ = await _urgent_case(client, world)
    await _edited_by_the_supervisor(client, world, code)
    url = f"/api/v1/cases/{code}/events"
    r = await client.get(url, headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    _hidden(r.text)
    assert MOVED not in r.text and "21.03" not in r.text
    (edit,) = [e for e in r.json() if e["kind"] == "updated"]
    # The operator learns that the text and the home changed, not what they were or are.
    assert edit["data"]["changes"] == {"description": {}, "address": {}, "location": {}}
    r = await client.get(url, headers=world.auth("supervisor"))
    (edit,) = [e for e in r.json() if e["kind"] == "updated"]
    assert edit["data"]["changes"]["address"] == {"from": HOME, "to": MOVED}
    assert edit["data"]["changes"]["description"]["to"] == RETOLD


async def test_the_live_stream_shows_the_edits_values_to_no_one(app, world, client):
    """A live event reaches every open screen and the event log, where no read is logged:
    those in charge read the values in the timeline (a logged read)."""
    code, _ = await _urgent_case(client, world)
    async with (
        _serve(app) as base,
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as http,
        asyncio.timeout(30),
        http.stream("GET", "/api/v1/events", headers=world.auth("operator")) as operator,
        http.stream("GET", "/api/v1/events", headers=world.auth("supervisor")) as supervisor,
    ):
        seen_by_operator = operator.aiter_lines()
        seen_by_supervisor = supervisor.aiter_lines()
        await _next_event(seen_by_operator, "ready")
        await _next_event(seen_by_supervisor, "ready")
        await _edited_by_the_supervisor(http, world, code)
        hidden = await _next_event(seen_by_operator, "case.updated")
        shown = await _next_event(seen_by_supervisor, "case.updated")
    assert hidden["case_code"] == code
    assert hidden["data"]["changes"] == {"description": {}, "address": {}, "location": {}}
    _hidden(str(hidden))
    assert MOVED not in str(hidden)
    assert shown["data"]["changes"] == {"description": {}, "address": {}, "location": {}}
    _hidden(str(shown))
    assert MOVED not in str(shown) and RETOLD not in str(shown)


async def test_only_those_in_charge_edit_the_medical_text_and_the_home(client, world):
    code, _ = await _urgent_case(client, world)
    url = f"/api/v1/cases/{code}"
    operator = world.auth("operator")
    for field, value in (
        ("address", "?"),
        ("description", "Đã gọi lại, ổn"),
        ("lat", 21.0),
        ("long", 105.8),
    ):
        r = await client.patch(url, json={field: value}, headers=operator)
        _problem(r, 403, field)
    # Nor its triage (tests/care/test_urgent_case_actions.py); the text is untouched.
    r = await client.patch(url, json={"priority": "high"}, headers=operator)
    _problem(r, 403, "priority")
    full = (await client.get(url, headers=world.auth("supervisor"))).json()
    assert "SpO2 93%" in full["description"] and full["address"] == HOME
    assert full["priority"] == "critical"
    await _edited_by_the_supervisor(client, world, code)
    full = (await client.get(url, headers=world.auth("supervisor"))).json()
    assert full["description"] == RETOLD and full["address"] == MOVED


async def test_knowledge_suggestions_match_only_the_text_the_reader_sees(client, world):
    await published(
        client,
        world,
        question="SpO2 dưới 94%, nhịp thở nhanh: người bệnh F0 cần làm gì?",
        answer="Gọi 115 ngay; trong lúc chờ, cho người bệnh nằm sấp và theo dõi SpO2.",
    )
    code, _ = await _urgent_case(client, world)
    url = f"/api/v1/cases/{code}/articles"
    r = await client.get(url, headers=world.auth("supervisor"))
    assert r.status_code == 200, r.text
    matched = {w for s in r.json() for w in s["matched"]}
    assert "spo2" in {w.lower() for w in matched}, r.text
    r = await client.get(url, headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    # Matched on the neutral line: no word of the hidden text comes back.
    matched = {w.lower() for s in r.json() for w in s["matched"]}
    assert not matched & {"spo2", "thở", "tho", "nhịp", "nhip", "f0", "nhanh"}, r.text


async def test_an_urgent_case_takes_no_part_in_merging_duplicates(app, client, world):
    """Merging copies the original's answer to the duplicates and tells their reporters:
    the 115 unit's answer on a patient would reach other citizens, and an operator reading
    the neutral line would end an urgent case as a repeat of text they cannot see."""
    code, _ = await _urgent_case(client, world)
    body = new_case_body(description=RETOLD, ward_code="00004")
    r = await client.post("/api/v1/cases", json=body, headers=world.auth("supervisor"))
    other = r.json()["code"]
    # The operator only sees the neutral line and is refused as not in charge of it
    # (cases/in_charge.py); the supervisor, who reads it, is told why.
    for case, original in ((other, code), (code, other)):
        r = await client.post(
            f"/api/v1/cases/{case}/duplicate",
            json={"original_code": original},
            headers=world.auth("operator"),
        )
        assert r.status_code == 403, r.text
        r = await client.post(
            f"/api/v1/cases/{case}/duplicate",
            json={"original_code": original},
            headers=world.auth("supervisor"),
        )
        _problem(r, 422, "original_code")
    for primary, duplicate, field in ((code, other, "primary"), (other, code, "duplicates")):
        r = await client.post(
            "/api/v1/duplicates/merge",
            json={"primary": primary, "duplicates": [duplicate]},
            headers=world.auth("supervisor"),
        )
        _problem(r, 422, field)
    for c in (code, other):
        r = await client.get(f"/api/v1/cases/{c}", headers=world.auth("supervisor"))
        assert r.json()["status"] != "duplicate" and r.json()["duplicate_of"] is None
