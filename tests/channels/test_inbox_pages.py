"""Conversations in the workspace through HTTP: the console's message list, one thread with
its reply box and reply window, a reply posted with the form's CSRF token, a failed reply
with its reason, the case page's conversations, and who may see none of it."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from hotline.contacts.models import PersonalDataRead
from hotline.events import EventRow
from tests.auth.test_auth import _csrf_of
from tests.channels.zalo_helpers import deliver, make_channel, payload, run_jobs, variant
from tests.conftest import PASSWORD

pytestmark = pytest.mark.anyio
TEXT = "Nhà tôi ở ngõ 45 Kim Mã bị ngập nước, xin hỗ trợ"


async def sign_in(client, username: str = "operator") -> None:  # type: ignore[no-untyped-def]
    page = await client.get("/login")
    r = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": _csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303


def now_ms() -> str:
    return str(int(time.time() * 1000))


async def fresh_conversation(client, world, zalo, **changes: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A Zalo channel and a citizen's message of a moment ago (its reply window open)."""
    channel = await make_channel(client, world, zalo.url)
    body = variant("user_send_text", timestamp=now_ms(), **changes)
    assert (await deliver(client, channel, body)).status_code == 200
    r = await client.get(
        "/api/v1/conversations", params={"channel": channel}, headers=world.auth("operator")
    )
    return channel, int(r.json()["items"][0]["id"])


async def test_the_console_lists_open_conversations_with_their_last_message(client, world, zalo):
    channel, conversation = await fresh_conversation(client, world, zalo)
    assert (await client.get("/console/conversations")).status_code == 401
    await sign_in(client)
    rows = await client.get("/console/conversations")
    assert rows.status_code == 200
    assert f'data-conversation="{conversation}"' in rows.text
    assert TEXT in rows.text and "Chờ trả lời" in rows.text
    board = await client.get("/")
    assert '<ul id="conversations"' in board.text  # its rows come from the fragment
    assert f'<option value="{channel}">Zalo OA Tổng đài 1022</option>' in board.text
    closed = await client.get("/console/conversations", params={"status": "closed"})
    assert f'data-conversation="{conversation}"' not in closed.text
    other = await client.get("/console/conversations", params={"channel": str(channel + 99)})
    assert f'data-conversation="{conversation}"' not in other.text
    bad = await client.get("/console/conversations", params={"status": "later"})
    assert "later" in bad.text and 'role="alert"' in bad.text


async def test_the_thread_shows_the_reply_window_and_a_reply_is_queued_with_the_form_token(
    client, world, zalo
):
    _, conversation = await fresh_conversation(client, world, zalo)
    await sign_in(client)
    page = await client.get(f"/conversations/{conversation}")
    assert page.status_code == 200
    assert TEXT in page.text
    assert re.search(r"Còn 6 ngày 23 giờ để trả lời qua Zalo OA Tổng đài 1022", page.text)
    assert f'id="reply-text-{conversation}"' in page.text
    assert "disabled" not in page.text.split(f'id="reply-text-{conversation}"')[1][:200]
    # Suggestions for the citizen's text, as the new-case form gets them.
    assert f'id="conv-triage-category-{conversation}"' in page.text

    refused = await client.post(
        f"/conversations/{conversation}/reply", data={"text": "Không có mã", "csrf": "x"}
    )
    assert refused.status_code == 422
    assert "Phiên làm việc đã hết hạn" in refused.text

    csrf = _csrf_of(page.text)
    r = await client.post(
        f"/conversations/{conversation}/reply",
        data={"text": "Tổng đài đã nhận, cán bộ sẽ liên hệ", "csrf": csrf, "key": "k-123456789"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    # The script's post: the same key is the same reply, answered with the messages.
    again = await client.post(
        f"/conversations/{conversation}/reply",
        data={"text": "Tổng đài đã nhận, cán bộ sẽ liên hệ", "csrf": csrf, "key": "k-123456789"},
        headers={"X-Hotline-Fragment": "1"},
    )
    assert again.status_code == 200 and "đang gửi" in again.text
    detail = await client.get(
        f"/api/v1/conversations/{conversation}", headers=world.auth("operator")
    )
    out = [m for m in detail.json()["messages"] if m["direction"] == "out"]
    assert [(m["text"], m["status"]) for m in out] == [
        ("Tổng đài đã nhận, cán bộ sẽ liên hệ", "queued")
    ]
    empty = await client.post(
        f"/conversations/{conversation}/reply",
        data={"text": "  ", "csrf": csrf},
        headers={"X-Hotline-Fragment": "1"},
    )
    assert empty.status_code == 422 and "Nội dung trả lời" in empty.text


async def test_a_closed_window_disables_the_box_and_a_failed_reply_shows_its_reason(
    app, client, world, zalo
):
    channel = await make_channel(client, world, zalo.url)
    await deliver(client, channel, payload("user_send_text"))  # written in December 2024
    r = await client.get("/api/v1/conversations", headers=world.auth("operator"))
    conversation = r.json()["items"][0]["id"]
    r = await client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"text": "Xin lỗi vì trả lời muộn"},
        headers=world.auth("operator"),
    )
    assert r.status_code == 202
    await run_jobs(app)
    await sign_in(client)
    page = await client.get(f"/conversations/{conversation}")
    assert "Đã hết thời hạn trả lời qua Zalo OA Tổng đài 1022" in page.text
    box = page.text.split(f'id="reply-text-{conversation}"')[1][:300]
    assert "disabled" in box
    failed = re.search(r'data-status="failed".*?</li>', page.text, re.S)
    assert failed, page.text
    assert "gửi lỗi" in failed.group(0) and "Lý do" in failed.group(0)
    rows = await client.get("/console/conversations")
    assert "Gửi lỗi" in rows.text


async def test_a_unit_officer_sees_no_conversation(client, world, zalo):
    _, conversation = await fresh_conversation(client, world, zalo)
    await sign_in(client, "officer")
    assert (await client.get(f"/conversations/{conversation}")).status_code == 404
    assert (await client.get(f"/conversations/{conversation}/messages")).status_code == 404
    assert (await client.get("/console/conversations")).status_code == 404
    r = await client.get(f"/api/v1/conversations/{conversation}", headers=world.auth("officer"))
    assert r.status_code == 404
    r = await client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"text": "Xin chào"},
        headers=world.auth("officer"),
    )
    assert r.status_code == 404


async def test_a_case_opened_from_the_thread_shows_it_on_the_case_page_with_its_reply_box(
    app, client, world, zalo
):
    _, conversation = await fresh_conversation(client, world, zalo)
    await sign_in(client)
    page = await client.get(f"/conversations/{conversation}")
    assert TEXT in page.text.split(f'id="case-description-{conversation}"')[1][:300]
    r = await client.post(
        f"/conversations/{conversation}/case",
        data={"csrf": _csrf_of(page.text), "description": TEXT, "category": "ho_tro_kho_khan"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    code = r.headers["location"].rsplit("/", 1)[-1]
    case = await client.get(f"/cases/{code}")
    assert "Tin nhắn với người dân" in case.text
    assert f'id="reply-text-{conversation}"' in case.text
    # The reply to the citizen's channel is not the case's internal note.
    assert 'id="note-text"' in case.text
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        kinds = (await session.scalars(select(EventRow.kind))).all()
    assert "conversation.updated" in kinds and "conversation.message" in kinds
    # Linking and closing: back where the form said.
    case_csrf = _csrf_of(case.text)
    r = await client.post(
        f"/conversations/{conversation}/close",
        data={"csrf": case_csrf, "next": f"/cases/{code}"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{code}"
    officer_case = await client.get(f"/cases/{code}")
    assert "Đã đóng" in officer_case.text


async def test_linking_to_an_unknown_case_says_so_and_keeps_the_code(client, world, zalo):
    _, conversation = await fresh_conversation(client, world, zalo)
    await sign_in(client)
    page = await client.get(f"/conversations/{conversation}")
    r = await client.post(
        f"/conversations/{conversation}/link",
        data={"csrf": _csrf_of(page.text), "case": "KHONGCO"},
    )
    assert r.status_code == 404
    assert 'value="KHONGCO"' in r.text


async def test_reading_the_list_and_a_thread_in_the_workspace_is_logged(app, client, world, zalo):
    _, conversation = await fresh_conversation(client, world, zalo)
    r = await client.get(f"/api/v1/conversations/{conversation}", headers=world.auth("operator"))
    contact = r.json()["contact_id"]
    await sign_in(client)
    for url, purpose in (
        ("/console/conversations", "conversation_list"),
        (f"/conversations/{conversation}", "conversation"),
        (f"/conversations/{conversation}/messages", "conversation"),
    ):
        async with app.state.hotline.unit_of_work(read_only=True) as session:
            before = len((await session.scalars(select(PersonalDataRead.id))).all())
        assert (await client.get(url)).status_code == 200
        async with app.state.hotline.unit_of_work(read_only=True) as session:
            rows = (
                await session.scalars(select(PersonalDataRead).order_by(PersonalDataRead.id))
            ).all()[before:]
        assert (purpose, contact) in {(row.purpose, row.contact_id) for row in rows}, url
