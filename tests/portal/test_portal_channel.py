"""The portal's reports are a channel: a report is a conversation in the one inbox (on the
portal channel, created by default), an operator's reply from the inbox reaches the
citizen's tracking page, and the citizen answers there."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from tests.channels.zalo_helpers import run_jobs
from tests.portal.test_portal import csrf_of, report, send, track

pytestmark = pytest.mark.anyio


async def portal_conversation(client: Any, world: Any, code: str) -> dict[str, Any]:
    staff = world.auth("operator")
    r = await client.get("/api/v1/channels", headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    [channel] = [c for c in r.json() if c["kind"] == "portal"]
    r = await client.get("/api/v1/conversations", params={"channel": channel["id"]}, headers=staff)
    assert r.status_code == 200, r.text
    [row] = [c for c in r.json()["items"] if c["case_code"] == code]
    r = await client.get(f"/api/v1/conversations/{row['id']}", headers=staff)
    assert r.status_code == 200, r.text
    return dict(r.json())


def thread_of(page: str) -> list[str]:
    if 'id="thread"' not in page:
        return []
    part = page[page.index('id="thread"') :]
    part = part[: part.index("</ol>")]
    return [html.unescape(t) for t in re.findall(r"<p>([^<]+)</p>", part)]


async def answer(client: Any, code: str, secret: str, text: str, page: str) -> Any:
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key, page[:300]
    return await client.post(
        "/tra-cuu/tra-loi",
        data={
            "code": code,
            "secret": secret,
            "text": text,
            "key": key.group(1),
            "csrf": csrf_of(page),
        },
    )


async def test_a_report_is_a_conversation_the_operator_answers_and_the_citizen_reads(
    app, client, world
):
    sent = await send(client)
    conversation = await portal_conversation(client, world, sent["code"])
    assert conversation["channel_kind"] == "portal"
    assert conversation["case_code"] == sent["code"]
    assert [(m["direction"], m["text"]) for m in conversation["messages"]] == [
        ("in", report()["description"])
    ]
    r = await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": "Tổng đài đã chuyển phản ánh đến UBND phường Ngọc Hà."},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202, r.text
    # Queued, not yet delivered: the tracking page does not show it.
    page = await track(client, sent["code"], sent["secret"])
    assert thread_of(page.text) == []
    await run_jobs(app)
    page = await track(client, sent["code"], sent["secret"])
    assert page.status_code == 200
    assert thread_of(page.text) == ["Tổng đài đã chuyển phản ánh đến UBND phường Ngọc Hà."]
    # The citizen answers on the page; the same form sent twice is one message.
    r = await answer(client, sent["code"], sent["secret"], "Cảm ơn, tôi chờ phường.", page.text)
    assert r.status_code == 200, r.text
    assert 'id="answer-sent"' in r.text
    again = await answer(client, sent["code"], sent["secret"], "Cảm ơn, tôi chờ phường.", page.text)
    assert again.status_code == 200
    # The page says when they wrote, never what (it shows no one's personal data).
    assert again.text.count('<li class="mine">') == 1
    assert "Cảm ơn, tôi chờ phường." not in again.text
    assert report()["description"] not in again.text
    messages = (await portal_conversation(client, world, sent["code"]))["messages"]
    assert [(m["direction"], m["text"]) for m in messages][1:] == [
        ("out", "Tổng đài đã chuyển phản ánh đến UBND phường Ngọc Hà."),
        ("in", "Cảm ơn, tôi chờ phường."),
    ]


async def test_only_the_secrets_holder_reads_and_answers_the_thread(app, client, world):
    sent = await send(client)
    other = await send(client, description="Đèn đường ngõ 5 phố Kim Mã hỏng cả tuần nay")
    page = await track(client, sent["code"], sent["secret"])
    # Another report's secret opens nothing and writes nothing.
    r = await answer(client, sent["code"], other["secret"], "Tin giả mạo", page.text)
    assert r.status_code == 404
    assert "Tin giả mạo" not in r.text
    messages = (await portal_conversation(client, world, sent["code"]))["messages"]
    assert [m["text"] for m in messages] == [report()["description"]]
    # An empty answer is refused by name, the thread still shown.
    r = await answer(client, sent["code"], sent["secret"], "   ", page.text)
    assert r.status_code == 422
    assert 'id="answer-error"' in r.text
    assert 'id="answer-form"' in r.text
