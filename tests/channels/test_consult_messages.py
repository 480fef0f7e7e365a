"""A citizen's message classified `tu_van_suc_khoe` becomes one consult request for the
consult doctors (care), whatever the channel and however often it is delivered; with the
auto-answer switch off (the default) nothing answers a message on its own."""

from __future__ import annotations

from typing import Any

import pytest

from tests.channels.test_webchat import detail, inbox, make_chat, say, token_of
from tests.channels.zalo_helpers import conversation_of, deliver, make_channel, run_jobs, variant
from tests.knowledge.helpers import published

pytestmark = pytest.mark.anyio

ASKS = "Tư vấn sức khỏe, tôi bị sốt 3 ngày, ho nhiều, có cần đi khám không?"
CONSULTS = "/api/v1/care/consults"


async def consults(client: Any, world: Any) -> list[dict[str, Any]]:
    r = await client.get(CONSULTS, headers=world.auth("supervisor"))
    assert r.status_code == 200, r.text
    return list(r.json())


async def test_a_zalo_health_question_delivered_twice_is_one_consult_request(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    body = variant("user_send_text", text=ASKS, msg_id="consult-0001")
    assert (await deliver(client, channel, body)).status_code == 200
    assert (await deliver(client, channel, body)).status_code == 200
    await run_jobs(app)
    await run_jobs(app)
    conversation = await conversation_of(client, world, channel)
    [made] = await consults(client, world)
    assert (made["source"], made["status"]) == ("message", "open")
    assert made["conversation_id"] == conversation["id"]
    assert made["contact_id"] == conversation["contact_id"]
    assert made["text"] == ASKS
    # It stays a conversation; nothing was sent to the citizen.
    assert conversation["case_id"] is None
    assert [m["direction"] for m in conversation["messages"]] == ["in"]
    # A second health message in the same conversation, while the first waits: still one.
    again = variant("user_send_text", text="Tư vấn sức khỏe giúp tôi, vẫn sốt", msg_id="c-0002")
    assert (await deliver(client, channel, again)).status_code == 200
    await run_jobs(app)
    assert len(await consults(client, world)) == 1


async def test_a_web_chat_health_question_is_a_consult_request_and_others_are_not(
    app, client, world
):
    channel = await make_chat(client, world)
    token = await token_of(client, channel)
    assert (await say(client, channel, token, "Đường nhà tôi bị ngập", "cm-0001-x")).status_code
    await run_jobs(app)
    assert await consults(client, world) == []
    other = await token_of(client, channel)
    assert (await say(client, channel, other, ASKS, "cm-0002-x")).status_code == 201
    assert (await say(client, channel, other, ASKS, "cm-0002-x")).status_code == 200
    await run_jobs(app)
    [made] = await consults(client, world)
    rows = {r["id"]: r for r in await inbox(client, world, channel)}
    assert made["conversation_id"] in rows
    assert made["source"] == "message"


async def test_with_the_switch_off_a_question_the_base_answers_waits_for_an_operator(
    app, client, world
):
    await published(
        client,
        world,
        question="Gia đình khó khăn, hết gạo thì xin hỗ trợ lương thực ở đâu?",
        answer="Liên hệ UBND phường nơi đang ở.",
        category="ho_tro_kho_khan",
        slug="gao",
    )
    channel = await make_chat(client, world)
    token = await token_of(client, channel)
    text = "cho em hoi gia dinh kho khan het gao thi xin ho tro luong thuc o dau a"
    assert (await say(client, channel, token, text, "off-0001-x")).status_code == 201
    await run_jobs(app)
    [row] = await inbox(client, world, channel)
    assert row["auto_answered_at"] is None
    assert [m["direction"] for m in (await detail(client, world, row["id"]))["messages"]] == ["in"]
