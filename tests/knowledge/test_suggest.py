"""Suggestions for free citizen text and for a case, the one-click 'used' record, and the
optional auto-answer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hotline.db import make_sessionmaker
from hotline.knowledge.suggest import HUMAN_OFFER, auto_answer_for, suggest_articles
from tests.cases.helpers import create as create_case
from tests.cases.helpers import forward
from tests.knowledge.helpers import create, published

pytestmark = pytest.mark.anyio
SUGGEST = "/api/v1/knowledge/suggest"


async def _seed(client, world) -> dict[str, dict]:
    return {
        "gao": await published(
            client,
            world,
            question="Gia đình khó khăn, hết gạo thì xin hỗ trợ lương thực ở đâu?",
            answer="Liên hệ UBND phường nơi đang ở hoặc gọi 1022 để được chuyển yêu cầu.",
            category="ho_tro_kho_khan",
            slug="ho-tro-gao",
        ),
        "spo2": await published(
            client,
            world,
            question="SpO2 bao nhiêu thì phải gọi cấp cứu?",
            answer="Khi SpO2 từ 95% trở xuống hoặc khó thở, gọi ngay 115.",
            category="cap_cuu",
            slug="spo2-cap-cuu",
        ),
        "giay": await published(client, world, slug="giay-di-duong"),
    }


async def test_free_text_without_diacritics_and_with_typos_finds_the_article(client, world):
    seeded = await _seed(client, world)
    text = "alo cho e hoi nha e 5 nguoi het gao roi, xin ho tro luong thuc voi a, cam onn"
    r = await client.post(SUGGEST, json={"text": text}, headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    best = r.json()[0]
    assert best["id"] == seeded["gao"]["id"]
    assert 0 < best["score"] <= 1
    assert {"gao", "ho", "tro", "luong", "thuc"} <= set(best["matched"])
    assert best["insert_text"].startswith("Liên hệ UBND phường")


async def test_more_matching_words_score_higher(client, world):
    await _seed(client, world)
    r = await client.post(
        SUGGEST, json={"text": "spo2 con 93 co can goi cap cuu"}, headers=world.auth("operator")
    )
    scores = [s["score"] for s in r.json()]
    assert r.json()[0]["slug"] == "spo2-cap-cuu"
    assert scores == sorted(scores, reverse=True)


async def test_category_breaks_ties_but_does_not_filter(client, world):
    q = "Số điện thoại đường dây nóng là gì?"
    a = await published(client, world, question=q, category="cap_cuu", slug="a")
    b = await published(client, world, question=q, category="ho_tro_kho_khan", slug="b")
    for category, first in (("ho_tro_kho_khan", b), ("cap_cuu", a)):
        r = await client.post(
            SUGGEST,
            json={"text": "so dien thoai duong day nong", "category": category},
            headers=world.auth("operator"),
        )
        assert [s["id"] for s in r.json()] == [
            first["id"],
            ({a["id"], b["id"]} - {first["id"]}).pop(),
        ]


async def test_drafts_are_never_suggested(client, world):
    await create(client, world, question="Hết gạo xin hỗ trợ", slug="nhap")
    r = await client.post(
        SUGGEST, json={"text": "het gao xin ho tro"}, headers=world.auth("supervisor")
    )
    assert r.json() == []


async def test_empty_text_names_the_field(client, world):
    r = await client.post(SUGGEST, json={"text": "  "}, headers=world.auth("operator"))
    assert r.status_code == 422
    assert r.json()["field"] == "text"


async def test_case_suggestions_follow_the_case_text_and_case_access(client, world):
    seeded = await _seed(client, world)
    case = await create_case(client, world)  # "Gia đình tôi 5 người hết gạo, ..."
    url = f"/api/v1/cases/{case['code']}/articles"
    r = await client.get(url, headers=world.auth("operator"))
    assert r.status_code == 200
    assert r.json()[0]["id"] == seeded["gao"]["id"]
    # Unit staff see a case's suggestions only once it is forwarded to their unit.
    assert (await client.get(url, headers=world.auth("officer"))).status_code == 404
    await forward(client, world, case["code"], "ward_a")
    assert (await client.get(url, headers=world.auth("officer"))).status_code == 200
    assert (await client.get(url, headers=world.auth("outsider"))).status_code == 404
    assert (await client.get(url)).status_code == 401


async def test_using_an_article_is_logged_on_the_case_timeline(client, world):
    seeded = await _seed(client, world)
    case = await create_case(client, world)
    gao = seeded["gao"]["id"]
    r = await client.post(
        f"/api/v1/cases/{case['code']}/articles/{gao}/used", headers=world.auth("operator")
    )
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "article_used"
    events = (
        await client.get(f"/api/v1/cases/{case['code']}/events", headers=world.auth("operator"))
    ).json()
    used = [e for e in events if e["kind"] == "article_used"]
    assert len(used) == 1
    assert used[0]["data"]["article_id"] == gao
    assert used[0]["data"]["slug"] == "ho-tro-gao"
    article = await client.get(f"/api/v1/knowledge/articles/{gao}", headers=world.auth("operator"))
    assert article.json()["use_count"] == 1


async def test_using_an_article_needs_case_and_article_access(client, world):
    seeded = await _seed(client, world)
    draft = await create(client, world, slug="nhap")
    case = await create_case(client, world)
    base = f"/api/v1/cases/{case['code']}/articles"
    r = await client.post(f"{base}/{draft['id']}/used", headers=world.auth("operator"))
    assert r.status_code == 404  # a draft does not exist for an operator
    r = await client.post(f"{base}/{draft['id']}/used", headers=world.auth("supervisor"))
    assert r.status_code == 422
    assert r.json()["field"] == "article_id"
    gao = seeded["gao"]["id"]
    r = await client.post(f"{base}/{gao}/used", headers=world.auth("outsider"))
    assert r.status_code == 404
    r = await client.post("/api/v1/cases/HN-ZZZZZZ/articles/1/used", headers=world.auth("operator"))
    assert r.status_code == 404


async def _auto(app, text: str, *, on: bool, threshold: float = 0.8):
    state = app.state.hotline
    site = replace(state.site, kb_auto_answer=on, kb_auto_answer_threshold=threshold)
    async with make_sessionmaker(state.engine, site)() as session:
        return await auto_answer_for(session, text=text)


async def test_auto_answer_is_off_by_default(app, client, world):
    await _seed(client, world)
    assert app.state.hotline.settings.kb_auto_answer is False
    assert app.state.hotline.site.kb_auto_answer is False
    async with app.state.hotline.sessionmaker() as session:
        assert await auto_answer_for(session, text="SpO2 bao nhiêu thì gọi cấp cứu") is None


async def test_auto_answer_when_on_replies_above_the_threshold_only(app, client, world):
    seeded = await _seed(client, world)
    answer = await _auto(app, "spo2 bao nhieu thi goi cap cuu a", on=True)
    assert answer is not None
    assert answer.article.id == seeded["spo2"]["id"]
    assert answer.score >= 0.8
    assert answer.reply.startswith("Khi SpO2 từ 95% trở xuống")
    assert answer.reply.endswith(HUMAN_OFFER)
    # A vague message shares a word or two: suggested to an operator, never auto-answered.
    vague = "toi muon hoi ve cap cuu"
    async with app.state.hotline.sessionmaker() as session:
        assert await suggest_articles(session, text=vague)
    assert await _auto(app, vague, on=True) is None
    # The threshold is the setting's.
    assert await _auto(app, vague, on=True, threshold=0.1) is not None


def test_auto_answer_settings_come_from_the_environment(monkeypatch):
    from hotline.settings import load_settings
    from hotline.site import Site

    monkeypatch.setenv("HOTLINE_KB_AUTO_ANSWER", "true")
    monkeypatch.setenv("HOTLINE_KB_AUTO_ANSWER_THRESHOLD", "0.9")
    site = Site.from_settings(load_settings())
    assert site.kb_auto_answer is True
    assert site.kb_auto_answer_threshold == 0.9


async def test_suggestions_follow_typing_in_the_new_case_form(client, world):
    seeded = await _seed(client, world)
    r = await client.post(
        SUGGEST, json={"text": "chi so spo2 bao nhi"}, headers=world.auth("operator")
    )
    assert r.json()[0]["id"] == seeded["spo2"]["id"]
    assert "nhi" in r.json()[0]["matched"]
