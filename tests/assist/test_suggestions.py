"""POST /api/v1/suggestions: triage, duplicates and articles for a draft, in one call."""

from __future__ import annotations

import pytest

from tests.conftest import new_case_body
from tests.knowledge.helpers import published

pytestmark = pytest.mark.anyio

GATHERING = [
    "Có khoảng 30 người tụ tập đánh bài ở đầu ngõ 45 Kim Mã",
    "Nhiều người tụ tập đánh bài đầu ngõ 45 Kim Mã, không đeo khẩu trang",
    "Nhom thanh nien tu tap danh bai o ngo 45 Kim Ma",
]


async def test_draft_gets_category_duplicates_and_articles_in_one_call(client, world):
    codes = []
    for text in GATHERING:
        r = await client.post(
            "/api/v1/cases",
            json=new_case_body(
                description=text, category="phan_anh_vi_pham", address="Ngõ 45 Kim Mã"
            ),
            headers=world.auth("operator"),
        )
        assert r.status_code == 201, r.text
        codes.append(r.json()["code"])
    article = await published(
        client,
        world,
        question="Phát hiện tụ tập đông người, đánh bài thì báo ở đâu?",
        answer="Báo Công an phường qua 1022; tổng đài chuyển ngay cho đơn vị.",
        category="phan_anh_vi_pham",
    )

    r = await client.post(
        "/api/v1/suggestions",
        json={"text": "lai co nguoi tu tap danh bai o ngo 45 kim ma", "ward_code": "00004"},
        headers=world.auth("operator"),
    )

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["triage"]["category"] == "phan_anh_vi_pham"
    assert {d["code"] for d in body["duplicates"]} <= set(codes)
    assert len(body["duplicates"]) >= 2
    assert [a["id"] for a in body["articles"]][:1] == [article["id"]]


async def test_a_draft_like_nothing_on_record_gets_empty_lists(client, world):
    r = await client.post(
        "/api/v1/suggestions",
        json={"text": "Nhà tôi hết gạo, xin hỗ trợ", "category": "ho_tro_kho_khan"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["duplicates"] == [] and r.json()["articles"] == []


async def test_empty_text_is_a_problem_naming_the_field(client, world):
    r = await client.post("/api/v1/suggestions", json={"text": ""}, headers=world.auth("operator"))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "text"


async def test_unit_officer_gets_no_suggestions(client, world):
    r = await client.post(
        "/api/v1/suggestions", json={"text": "tụ tập đánh bài"}, headers=world.auth("officer")
    )
    assert r.status_code == 403


async def test_a_long_incoming_message_still_gets_its_suggestions(client, world):
    article = await published(
        client,
        world,
        question="Phát hiện tụ tập đông người, đánh bài thì báo ở đâu?",
        answer="Báo Công an phường qua 1022; tổng đài chuyển ngay cho đơn vị.",
        category="phan_anh_vi_pham",
    )
    # An e-mail: the report first, then a long quoted thread.
    text = "Báo cáo có nhóm người tụ tập đánh bài ở ngõ 45 Kim Mã. " + "> thư cũ " * 800
    assert 5000 < len(text) <= 20_000
    r = await client.post(
        "/api/v1/suggestions", json={"text": text}, headers=world.auth("operator")
    )
    assert r.status_code == 200, r.text
    assert r.json()["articles"][0]["id"] == article["id"]
