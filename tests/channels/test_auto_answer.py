"""The knowledge base answers a citizen's message on its own (HOTLINE_KB_AUTO_ANSWER on):
through the durable outbox, the conversation left a conversation and marked for operators;
never an urgent text, nor one in a conversation tied to a case or handled by an operator."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from hotline.knowledge.suggest import HUMAN_OFFER
from hotline.settings import Settings
from tests.channels.test_inbox_pages import sign_in
from tests.channels.test_webchat import detail, inbox, make_chat, say, thread, token_of
from tests.channels.zalo_helpers import (
    conversation_of,
    deliver,
    make_channel,
    run_jobs,
    variant,
)
from tests.knowledge.helpers import published

pytestmark = pytest.mark.anyio

GAO_Q = "Gia đình khó khăn, hết gạo thì xin hỗ trợ lương thực ở đâu?"
GAO_A = "Liên hệ UBND phường nơi đang ở hoặc gọi 1022 để được chuyển yêu cầu."
ASKS = "cho em hoi gia dinh kho khan het gao thi xin ho tro luong thuc o dau a"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        site_province_code="01",
        kb_auto_answer=True,
    )


async def _articles(client: Any, world: Any) -> dict[str, Any]:
    gao = await published(
        client, world, question=GAO_Q, answer=GAO_A, category="ho_tro_kho_khan", slug="gao"
    )
    spo2 = await published(
        client,
        world,
        question="SpO2 bao nhiêu thì phải gọi cấp cứu?",
        answer="Khi SpO2 từ 95% trở xuống hoặc khó thở, gọi ngay 115.",
        category="cap_cuu",
        slug="spo2",
    )
    return {"gao": gao, "spo2": spo2}


async def test_a_question_the_knowledge_base_answers_gets_its_answer_on_zalo(
    app, client, world, zalo
):
    seeded = await _articles(client, world)
    channel = await make_channel(client, world, zalo.url)
    now = str(int(time.time() * 1000))  # inside Zalo's 7-day reply window
    body = variant("user_send_text", text=ASKS, msg_id="kb-0001", timestamp=now)
    assert (await deliver(client, channel, body)).status_code == 200
    assert (await deliver(client, channel, body)).status_code == 200  # Zalo's retry
    await run_jobs(app)
    await run_jobs(app)
    conversation = await conversation_of(client, world, channel)
    assert conversation["case_id"] is None
    assert conversation["auto_answered_at"] is not None
    assert conversation["auto_answer_article_id"] == seeded["gao"]["id"]
    out = [m for m in conversation["messages"] if m["direction"] == "out"]
    assert [(m["source"], m["status"], m["author_id"]) for m in out] == [
        ("auto_answer", "sent", None)
    ]
    assert out[0]["text"].startswith(GAO_A) and out[0]["text"].endswith(HUMAN_OFFER)
    # Sent once, through the provider's send API.
    sends = zalo.fake.sends()
    assert [s.json()["message"]["text"] for s in sends] == [out[0]["text"]]
    # Operators see it in the inbox list and on the conversation's page.
    await sign_in(client)
    for url in ("/console/conversations", f"/conversations/{conversation['id']}"):
        page = await client.get(url)
        assert page.status_code == 200, url
        assert "Đã trả lời tự động" in page.text, url


async def test_a_web_chat_visitor_reads_the_answer_in_their_thread(app, client, world):
    await _articles(client, world)
    channel = await make_chat(client, world)
    token = await token_of(client, channel)
    assert (await say(client, channel, token, ASKS, "kb-web-0001")).status_code == 201
    await run_jobs(app)
    got = await thread(client, channel, token)
    assert [m["from"] for m in got["messages"]] == ["visitor", "hotline"]
    assert got["messages"][1]["text"].startswith(GAO_A)
    [row] = await inbox(client, world, channel)
    assert row["auto_answered_at"] is not None and row["case_id"] is None


async def test_an_urgent_text_is_never_answered_automatically(app, client, world):
    await _articles(client, world)
    channel = await make_chat(client, world)
    token = await token_of(client, channel)
    urgent = "Bà tôi khó thở, SpO2 bao nhiêu thì phải gọi cấp cứu?"
    assert (await say(client, channel, token, urgent, "kb-web-urgent")).status_code == 201
    await run_jobs(app)
    [row] = await inbox(client, world, channel)
    messages = (await detail(client, world, row["id"]))["messages"]
    assert [m["direction"] for m in messages] == ["in"]
    assert row["auto_answered_at"] is None


async def test_no_answer_in_a_conversation_tied_to_a_case_or_handled_by_an_operator(
    app, client, world
):
    await _articles(client, world)
    channel = await make_chat(client, world)
    token = await token_of(client, channel)
    assert (await say(client, channel, token, "Đường nhà tôi bị ngập", "kb-web-c1")).status_code
    await run_jobs(app)
    [row] = await inbox(client, world, channel)
    r = await client.post(
        f"/api/v1/conversations/{row['id']}/case",
        json={"category": "phan_anh_vi_pham", "urgent": False},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    assert (await say(client, channel, token, ASKS, "kb-web-c2")).status_code == 201
    await run_jobs(app)
    messages = (await detail(client, world, row["id"]))["messages"]
    assert all(m["source"] != "auto_answer" for m in messages)
    # An operator's reply: a person handles the conversation from then on.
    other = await make_chat(client, world, secret="another-secret-8c1f4e2b")
    token = await token_of(client, other)
    assert (await say(client, other, token, "Xin chào", "kb-web-o1")).status_code == 201
    [row] = await inbox(client, world, other)
    r = await client.post(
        f"/api/v1/conversations/{row['id']}/messages",
        json={"text": "Tổng đài 1022 xin nghe."},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202, r.text
    assert (await say(client, other, token, ASKS, "kb-web-o2")).status_code == 201
    await run_jobs(app)
    messages = (await detail(client, world, row["id"]))["messages"]
    assert [m["source"] for m in messages if m["direction"] == "out"] == ["staff"]
