"""An SMS reply's parts: counted as the operator types (API and the reply box's fragment),
stored with the reply when queued and shown next to it in the inbox."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.channels.helpers import SMS, FakeProvider, payload, signature_headers
from tests.channels.test_inbox_pages import sign_in
from tests.channels.test_webchat import make_chat, say, token_of
from tests.channels.zalo_helpers import conversation_of, run_jobs

pytestmark = pytest.mark.anyio

TEXT = "Tổng đài 1022 đã chuyển phản ánh tới UBND phường"  # 48 characters


async def sms_conversation(client: Any, world: Any, fake: FakeProvider, **extra: Any) -> int:
    r = await client.post(
        "/api/v1/channels",
        json={
            "kind": "sms",
            "name": "SMS 1022",
            "settings": {**SMS, "api_base": fake.url, "send_timeout": 2, **extra},
        },
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    channel = int(r.json()["id"])
    body = payload("sms", "inbound")
    r = await client.post(
        f"/hooks/{channel}", content=body, headers=signature_headers("sms", SMS, body)
    )
    assert r.status_code == 200, r.text
    return int((await conversation_of(client, world, channel))["id"])


async def count(client: Any, world: Any, conversation: int, text: str) -> Any:
    return await client.post(
        f"/api/v1/conversations/{conversation}/segments",
        json={"text": text},
        headers=world.auth("operator"),
    )


async def test_a_gsm7_gateway_gets_vietnamese_without_diacritics_counted_in_gsm7_parts(
    app, client, world, provider
):
    conversation = await sms_conversation(client, world, provider, gsm7_only=True)
    r = await count(client, world, conversation, TEXT)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "encoding": "GSM-7",
        "segments": 1,
        "text": "Tong dai 1022 da chuyen phan anh toi UBND phuong",
    }
    long = await count(client, world, conversation, "Xin chào " * 20)  # 180 characters
    assert (long.json()["encoding"], long.json()["segments"]) == ("GSM-7", 2)
    provider.reply(200, {"id": "gw-out-1"})
    r = await client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"text": "Xin chào " * 20},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202, r.text
    assert r.json()["segments"] == 2  # known before it is sent
    await run_jobs(app)
    [request] = provider.requests
    assert request.json()["text"].startswith("Xin chao Xin chao")
    r = await client.get(f"/api/v1/conversations/{conversation}", headers=world.auth("operator"))
    [reply] = [m for m in r.json()["messages"] if m["direction"] == "out"]
    assert (reply["status"], reply["segments"]) == ("sent", 2)
    # The inbox shows it next to the reply, and offers the count while typing.
    await sign_in(client)
    page = await client.get(f"/conversations/{conversation}")
    assert page.status_code == 200
    assert re.search(r'class="msg-segments">2 tin SMS<', page.text)
    assert f'data-segments-url="/conversations/{conversation}/segments"' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    r = await client.post(
        f"/conversations/{conversation}/segments", data={"csrf": csrf.group(1), "text": TEXT}
    )
    assert r.status_code == 200
    assert r.text.strip() == "1 tin SMS · GSM-7 · không dấu"


async def test_a_unicode_gateway_counts_ucs2_parts_and_other_channels_have_none(
    app, client, world, provider
):
    conversation = await sms_conversation(client, world, provider)
    r = await count(client, world, conversation, TEXT)
    assert r.json() == {"encoding": "UCS-2", "segments": 1, "text": TEXT}
    r = await count(client, world, conversation, TEXT * 2)  # 96 UTF-16 units
    assert (r.json()["encoding"], r.json()["segments"]) == ("UCS-2", 2)
    # A web chat conversation: no SMS count, and none stored with its replies.
    chat = await make_chat(client, world)
    token = await token_of(client, chat)
    assert (await say(client, chat, token, "Xin chào", "seg-web-0001")).status_code == 201
    r = await client.get(
        "/api/v1/conversations", params={"channel": chat}, headers=world.auth("operator")
    )
    web = r.json()["items"][0]["id"]
    assert (await count(client, world, web, TEXT)).status_code == 404
    r = await client.post(
        f"/api/v1/conversations/{web}/messages", json={"text": TEXT}, headers=world.auth("operator")
    )
    assert r.status_code == 202 and r.json()["segments"] is None
