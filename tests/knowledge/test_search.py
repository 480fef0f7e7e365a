"""Search ignores diacritics and word order, matches prefixes, ranks question hits first,
and hides drafts and articles outside their validity window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.db import utcnow
from tests.knowledge.helpers import API, create, published, search

pytestmark = pytest.mark.anyio


async def test_search_ignores_diacritics_and_word_order(client, world):
    a = await published(client, world, question="Giấy đi đường cấp ở đâu?")
    await published(
        client, world, question="Hỗ trợ gạo cho người khó khăn", answer="Liên hệ UBND phường."
    )
    for q in ("giay di duong", "duong di giay", "GIẤY ĐI ĐƯỜNG", "Đường giấy"):
        hits = await search(client, world, q)
        assert [h["id"] for h in hits] == [a["id"]], q


async def test_last_word_matches_as_a_prefix_while_typing(client, world):
    a = await published(client, world, question="Lịch xét nghiệm tầm soát của phường")
    assert [h["id"] for h in await search(client, world, "xet ngh")] == [a["id"]]
    assert [h["id"] for h in await search(client, world, "lich xet n")] == [a["id"]]
    other = await published(client, world, question="Lịch tiêm vắc xin mũi 2")
    assert [h["id"] for h in await search(client, world, "lich ti")] == [other["id"]]


async def test_question_matches_rank_above_answer_matches(client, world):
    in_answer = await published(
        client,
        world,
        question="Thủ tục đăng ký tạm trú",
        answer="Khi đi tiêm vắc xin nhớ mang theo căn cước.",
    )
    in_question = await published(
        client, world, question="Đăng ký tiêm vắc xin ở đâu?", answer="Tại trạm y tế phường."
    )
    hits = await search(client, world, "vac xin")
    assert [h["id"] for h in hits] == [in_question["id"], in_answer["id"]]
    assert hits[0]["rank"] > hits[1]["rank"]


async def test_no_word_matching_all_falls_back_to_any_word_ranked(client, world):
    a = await published(client, world, question="Số điện thoại cấp cứu 115")
    hits = await search(client, world, "so dien thoai cuu ho xyzabc")
    assert [h["id"] for h in hits] == [a["id"]]


async def test_drafts_are_found_only_by_editors_asking_for_them(client, world):
    draft = await create(client, world, question="Quy định mới về giấy đi đường")
    assert await search(client, world, "giay di duong") == []
    assert await search(client, world, "giay di duong", who="supervisor") == []
    hits = await search(client, world, "giay di duong", who="supervisor", status="draft")
    assert [h["id"] for h in hits] == [draft["id"]]
    r = await client.get(
        API, params={"q": "giay", "status": "draft"}, headers=world.auth("operator")
    )
    assert r.status_code == 403
    assert r.json()["field"] == "status"


async def test_expired_and_future_articles_are_hidden_unless_asked(client, world):
    today = utcnow().date()
    old = await published(
        client,
        world,
        question="Giấy đi đường mẫu cũ",
        valid_from=str(today - timedelta(days=60)),
        valid_until=str(today - timedelta(days=30)),
    )
    future = await published(
        client, world, question="Giấy đi đường mẫu mới", valid_from=str(today + timedelta(days=5))
    )
    current = await published(
        client,
        world,
        question="Giấy đi đường hiện hành",
        valid_from=str(today - timedelta(days=1)),
        valid_until=str(today + timedelta(days=1)),
    )
    assert [h["id"] for h in await search(client, world, "giay di duong")] == [current["id"]]
    every = await search(client, world, "giay di duong", include_invalid="true")
    assert {h["id"] for h in every} == {old["id"], future["id"], current["id"]}


async def test_list_without_query_pages_newest_first(client, world):
    ids = [(await published(client, world, question=f"Câu hỏi số {i}"))["id"] for i in range(3)]
    r = await client.get(API, params={"limit": 2}, headers=world.auth("operator"))
    body = r.json()
    assert [a["id"] for a in body["items"]] == [ids[2], ids[1]]
    assert body["has_more"] is True
    r = await client.get(API, params={"limit": 2, "page": 2}, headers=world.auth("operator"))
    assert [a["id"] for a in r.json()["items"]] == [ids[0]]
    assert r.json()["has_more"] is False
