"""Triage at intake: a category or urgency the intake leaves out is triage's suggestion,
marked as suggested; what the intake gives always wins."""

from __future__ import annotations

import asyncio

import pytest

from tests.cases.helpers import events, get
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio

BREATHLESS = "Bố tôi khó thở, SpO2 91%, xin tư vấn gấp"


def _body(**overrides):
    body = new_case_body(description=BREATHLESS)
    del body["category"]
    return {**body, **overrides}


async def _post(client, world, body):
    r = await client.post("/api/v1/cases", json=body, headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    return r.json()


async def test_intake_without_category_or_urgency_gets_triage_suggestion_marked(client, world):
    # Twice: the first loads the model; on PostgreSQL the second takes the one-statement
    # intake path, which must apply the suggestion just the same.
    for _ in range(2):
        created = await _post(client, world, _body())
        assert created["urgent"] is True
        assert created["category"] == "cap_cuu"
        assert created["suggested"] == ["category", "urgent"]

        detail = await get(client, world, created["code"])
        assert (detail["urgent"], detail["category"], detail["priority"]) == (
            True,
            "cap_cuu",
            "critical",
        )
        first = (await events(client, world, created["code"]))[0]
        assert first["kind"] == "created"
        assert first["data"]["suggested"] == ["category", "urgent"]


async def test_explicit_not_urgent_wins_over_triage(client, world):
    for _ in range(2):
        created = await _post(client, world, _body(urgent=False))
        assert created["urgent"] is False
        assert created["suggested"] == ["category"]
        assert (await get(client, world, created["code"]))["urgent"] is False


async def test_explicit_category_and_urgency_are_kept_and_nothing_is_suggested(client, world):
    created = await _post(client, world, _body(category="khac", urgent=False))
    assert (created["category"], created["urgent"], created["suggested"]) == ("khac", False, [])
    first = (await events(client, world, created["code"]))[0]
    assert "suggested" not in first["data"]


async def test_explicit_category_with_urgency_left_out_gets_suggested_urgency(client, world):
    for _ in range(2):
        created = await _post(client, world, _body(category="tu_van_suc_khoe"))
        assert (created["category"], created["urgent"]) == ("tu_van_suc_khoe", True)
        assert created["suggested"] == ["urgent"]


async def test_reports_arriving_together_each_get_their_own_suggestion(client, world):
    """Under load triage classifies the reports that arrive in one turn of the event loop
    together (triage/intake.py `guess_together`): each still gets its own text's answer."""
    texts = [
        BREATHLESS,
        "Nhà tôi 5 người hết gạo, xin hỗ trợ lương thực",
        "Mẹ tôi ngất xỉu, gọi không tỉnh",
        "Hàng xóm tụ tập hát karaoke đến nửa đêm",
        "Con tôi sốt cao 40 độ không hạ, co giật",
        "Hỏi thủ tục xin giấy đi đường",
    ] * 4
    await _post(client, world, _body())  # loads the model in this process
    created = await asyncio.gather(
        *(_post(client, world, _body(description=text)) for text in texts)
    )
    for text, case in zip(texts, created, strict=True):
        r = await client.post("/api/v1/triage", json={"text": text}, headers=world.auth("operator"))
        assert r.status_code == 200, r.text
        expected = r.json()
        assert case["urgent"] is expected["urgent"], text
        assert case["category"] == expected["category"], text
        assert set(case["suggested"]) == {"category", "urgent"}
