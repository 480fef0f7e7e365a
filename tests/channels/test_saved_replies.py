"""Saved replies (API, admin pages, the reply box's picker) and the automatic
acknowledgement of a case opened from a conversation."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from hotline.channels.models import Message
from tests.auth.test_auth import _csrf_of
from tests.channels.test_inbox_pages import fresh_conversation, sign_in
from tests.channels.zalo_helpers import zalo_settings

pytestmark = pytest.mark.anyio
THANKS = "Cảm ơn bạn, yêu cầu {ma_ho_so} đang được xử lý"


async def test_saved_replies_are_kept_by_supervisors_and_read_by_operators(client, world):
    body = {"category": "ho_tro_kho_khan", "title": "Đang xử lý", "text": THANKS}
    r = await client.post("/api/v1/saved-replies", json=body, headers=world.auth("operator"))
    assert r.status_code == 403
    r = await client.post("/api/v1/saved-replies", json=body, headers=world.auth("supervisor"))
    assert r.status_code == 201, r.text
    reply = r.json()
    general = await client.post(
        "/api/v1/saved-replies",
        json={"title": "Chào", "text": "Tổng đài 1022 xin chào"},
        headers=world.auth("admin"),
    )
    assert general.status_code == 201
    bad = await client.post(
        "/api/v1/saved-replies",
        json={**body, "category": "khong_co"},
        headers=world.auth("supervisor"),
    )
    assert bad.status_code == 422 and "category" in bad.text
    op = world.auth("operator")
    mine = await client.get("/api/v1/saved-replies?category=ho_tro_kho_khan", headers=op)
    assert {r["title"] for r in mine.json()} == {"Đang xử lý", "Chào"}
    other = await client.get("/api/v1/saved-replies?category=cap_cuu", headers=op)
    assert {r["title"] for r in other.json()} == {"Chào"}
    assert (
        await client.get("/api/v1/saved-replies", headers=world.auth("officer"))
    ).status_code == 403
    r = await client.patch(
        f"/api/v1/saved-replies/{reply['id']}",
        json={"category": None, "title": "Đang xử lý (chung)"},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 200 and r.json()["category"] is None and r.json()["text"] == THANKS
    r = await client.delete(
        f"/api/v1/saved-replies/{reply['id']}", headers=world.auth("supervisor")
    )
    assert r.status_code == 204
    r = await client.get(f"/api/v1/saved-replies/{reply['id']}", headers=op)
    assert r.status_code == 404
    trail = await client.get(
        "/api/v1/admin/changes", params={"kind": "saved_reply"}, headers=world.auth("admin")
    )
    assert trail.status_code == 200, trail.text
    assert {c["action"] for c in trail.json()} >= {"create", "update", "delete"}


async def test_the_admin_page_adds_edits_and_deletes_a_saved_reply(client, world):
    await sign_in(client, "supervisor")
    page = await client.get("/admin/saved-replies")
    assert page.status_code == 200 and "Chưa có câu trả lời mẫu nào." in page.text
    csrf = _csrf_of(page.text)
    r = await client.post(
        "/admin/saved-replies",
        data={"csrf": csrf, "category": "ho_tro_kho_khan", "title": "", "text": THANKS},
    )
    assert r.status_code == 422 and "Tiêu đề từ 1 đến 200 ký tự" in r.text
    assert THANKS in r.text  # what was typed is kept
    r = await client.post(
        "/admin/saved-replies",
        data={"csrf": csrf, "category": "ho_tro_kho_khan", "title": "Đang xử lý", "text": THANKS},
        follow_redirects=False,
    )
    assert r.status_code == 303
    listed = await client.get("/admin/saved-replies")
    assert "Đang xử lý" in listed.text
    reply_id = int(r.headers["location"].rsplit("reply-", 1)[1])
    r = await client.post(
        f"/admin/saved-replies/{reply_id}/delete", data={"csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    assert "Chưa có câu trả lời mẫu nào." in (await client.get("/admin/saved-replies")).text
    await sign_in(client, "operator")
    assert (await client.get("/admin/saved-replies")).status_code == 403


async def test_the_picker_offers_the_cases_category_with_its_code_filled_in(client, world, zalo):
    for category, title in (("ho_tro_kho_khan", "Đang xử lý"), ("cap_cuu", "Cấp cứu")):
        r = await client.post(
            "/api/v1/saved-replies",
            json={"category": category, "title": title, "text": THANKS},
            headers=world.auth("supervisor"),
        )
        assert r.status_code == 201
    _, conversation = await fresh_conversation(client, world, zalo)
    r = await client.post(
        f"/api/v1/conversations/{conversation}/case",
        json={"category": "ho_tro_kho_khan"},
        headers=world.auth("operator"),
    )
    code = r.json()["code"]
    await sign_in(client)
    page = await client.get(f"/conversations/{conversation}")
    picker = page.text.split(f'id="saved-reply-{conversation}"')[1].split("</select>")[0]
    assert f'data-text="Cảm ơn bạn, yêu cầu {code} đang được xử lý"' in picker
    assert "Đang xử lý" in picker and "Cấp cứu" not in picker


async def _ack_channel(client, world, zalo) -> int:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/channels",
        json={
            "kind": "zalo",
            "name": "Zalo OA",
            "settings": zalo_settings(zalo.url, auto_ack=True, ack_text="Đã nhận, mã {ma_ho_so}"),
        },
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _open(client, world, conversation: int) -> str:  # type: ignore[no-untyped-def]
    r = await client.post(
        f"/api/v1/conversations/{conversation}/case",
        json={"category": "ho_tro_kho_khan"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["code"])


async def _outgoing(client, world, conversation: int) -> list[dict]:  # type: ignore[type-arg]
    r = await client.get(f"/api/v1/conversations/{conversation}", headers=world.auth("operator"))
    return [m for m in r.json()["messages"] if m["direction"] == "out"]


async def test_a_case_opened_from_a_conversation_is_acknowledged_with_its_code(client, world, zalo):
    from tests.channels.test_inbox_pages import now_ms
    from tests.channels.zalo_helpers import deliver, variant

    channel = await _ack_channel(client, world, zalo)
    await deliver(client, channel, variant("user_send_text", timestamp=now_ms()))
    r = await client.get("/api/v1/conversations", headers=world.auth("operator"))
    conversation = r.json()["items"][0]["id"]
    code = await _open(client, world, conversation)
    out = await _outgoing(client, world, conversation)
    assert [(m["text"], m["source"], m["status"]) for m in out] == [
        (f"Đã nhận, mã {code}", "ack", "queued")
    ]


async def test_no_acknowledgement_to_a_machine_nor_without_the_setting(app, client, world, zalo):
    from tests.channels.test_inbox_pages import now_ms
    from tests.channels.zalo_helpers import deliver, variant

    channel = await _ack_channel(client, world, zalo)
    await deliver(client, channel, variant("user_send_text", timestamp=now_ms()))
    async with app.state.hotline.unit_of_work() as session:
        await session.execute(update(Message).values(automatic=True))
    r = await client.get("/api/v1/conversations", headers=world.auth("operator"))
    conversation = r.json()["items"][0]["id"]
    await _open(client, world, conversation)
    assert await _outgoing(client, world, conversation) == []

    _, plain = await fresh_conversation(client, world, zalo, msg_id="other-1")
    await _open(client, world, plain)
    assert await _outgoing(client, world, plain) == []
