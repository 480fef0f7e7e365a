"""What the operator takes from the suggestions is applied with the new case, in the same
request and transaction: a chosen duplicate (the workflow's mark_duplicate) or an answer
given at once (resolve_case), the knowledge-base article counted as used."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cases.helpers import API, assert_problem, create, events, get, ok
from tests.conftest import new_case_body
from tests.knowledge.helpers import API as ARTICLES
from tests.knowledge.helpers import published

pytestmark = pytest.mark.anyio


async def _total(client: Any, world: Any) -> int:
    r = await client.get(API, params={"view": "all", "limit": 200}, headers=world.auth("admin"))
    return len(r.json()["items"])


async def test_a_new_case_chosen_as_a_duplicate_is_recorded_as_one(client, world):
    original = (await create(client, world))["code"]
    r = await client.post(
        API,
        json=new_case_body(duplicate_of=original.lower().replace("-", "")),
        headers={**world.auth("operator"), "Idempotency-Key": "dup-1"},
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["status"], case["duplicate_of"]) == ("duplicate", original)
    assert [e["kind"] for e in await events(client, world, case["code"])][-1] == "marked_duplicate"
    assert "duplicate_linked" in [e["kind"] for e in await events(client, world, original)]
    assert (await get(client, world, original))["duplicates"] == [case["code"]]


async def test_a_duplicate_of_an_answered_case_gets_its_answer(client, world):
    original = (await create(client, world))["code"]
    await ok(
        client, world, "operator", original, "resolve", {"answer": "Phường đã hỗ trợ 20 kg gạo."}
    )
    r = await client.post(
        API, json=new_case_body(duplicate_of=original), headers=world.auth("operator")
    )
    assert r.status_code == 201, r.text
    assert r.json()["answer"] == "Phường đã hỗ trợ 20 kg gạo."


async def test_an_answer_from_the_knowledge_base_resolves_the_case_and_counts_the_article(
    client, world
):
    article = await published(client, world)
    r = await client.post(
        API,
        json=new_case_body(
            description="Cho hỏi xin giấy đi đường ở đâu?",
            category="di_lai_giay_to",
            answer=article["answer"],
            article_id=article["id"],
        ),
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["status"], case["answer"]) == ("resolved", article["answer"])
    kinds = [e["kind"] for e in await events(client, world, case["code"])]
    assert kinds[-2:] == ["resolved", "article_used"]
    read = await client.get(f"{ARTICLES}/{article['id']}", headers=world.auth("operator"))
    assert read.json()["use_count"] == 1


@pytest.mark.parametrize(
    ("choice", "field", "status"),
    [
        ({"duplicate_of": "ZZZZ-ZZZZ"}, "duplicate_of", 404),
        ({"duplicate_of": "{original}", "answer": "Đã trả lời."}, "answer", 422),
        ({"article_id": 1}, "article_id", 422),
        ({"answer": "Đã trả lời.", "article_id": 999999}, "article_id", 404),
    ],
)
async def test_a_refused_choice_names_its_field_and_records_nothing(
    client, world, choice, field, status
):
    original = (await create(client, world))["code"]
    before = await _total(client, world)
    body = {
        k: (v.format(original=original) if isinstance(v, str) else v) for k, v in choice.items()
    }
    r = await client.post(API, json=new_case_body(**body), headers=world.auth("operator"))
    assert_problem(r, status, field)
    assert await _total(client, world) == before
    assert (await get(client, world, original))["duplicates"] == []
