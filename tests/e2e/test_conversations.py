"""The messages panel of the operator console in a real browser: a citizen's Zalo message
arrives without a reload, the operator answers it with the keyboard, the worker sends it to
(a fake of) Zalo's API, and the reply turns to sent live; axe-core on the open conversation."""

from __future__ import annotations

import time

import httpx
import pytest

from hotline.db import create_engine, make_sessionmaker
from hotline.site import Site
from tests.channels.fake_zalo import FakeZaloServer
from tests.channels.zalo_helpers import signed, variant, zalo_settings
from tests.e2e.test_accessibility import _describe, _violations
from tests.e2e.test_pages import SCREENSHOTS

TEXT = "Nhà tôi ở ngõ 45 Kim Mã bị ngập nước, xin hỗ trợ"
REPLY = "Tổng đài 1022 đã nhận, cán bộ phường sẽ đến kiểm tra"


async def _seed(settings, api_base: str) -> int:  # type: ignore[no-untyped-def]
    """An operator, and a Zalo channel whose send API is the fake."""
    from hotline.auth.service import SYSTEM, create_user
    from hotline.channels.admin import create_channel

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        await create_user(
            s, username="dtv02", password="dtv02-1022", role="operator", full_name="ĐTV 02"
        )
        channel = await create_channel(
            s, actor=SYSTEM, kind="zalo", name="Zalo OA 1022", settings=zalo_settings(api_base)
        )
        channel_id = channel.id
    await engine.dispose()
    return int(channel_id)


async def _work(settings) -> int:  # type: ignore[no-untyped-def]
    """One pass of the job worker (`hotline worker`), as its own process would run it."""
    from hotline.jobs.worker import run_due_jobs

    engine = create_engine(settings.effective_database_url)
    try:
        return await run_due_jobs(make_sessionmaker(engine, Site.from_settings(settings)))
    finally:
        await engine.dispose()


@pytest.mark.e2e
def test_a_zalo_message_arrives_live_and_the_keyboard_reply_turns_sent(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    server = FakeZaloServer()
    with server as zalo:
        channel = live_server.run(_seed(settings, server.url))
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        errors: list[object] = []
        page.on("pageerror", lambda error: errors.append(error))
        page.goto(live_server.url + "/login")
        page.fill("#username", "dtv02")
        page.fill("#password", "dtv02-1022")
        page.keyboard.press("Enter")
        page.wait_for_url(live_server.url + "/")
        page.wait_for_selector("main[data-live='1']", state="attached")
        # The panel fills in after the page (a busy machine may take a moment): wait for it.
        page.wait_for_function(
            "(t) => (document.querySelector('#conversations') || {}).innerText?.includes(t)",
            arg="Không có tin nhắn nào.",
            timeout=15_000,
        )

        # The citizen writes on Zalo: Zalo's signed webhook, and the list shows it unreloaded.
        body = variant("user_send_text", timestamp=str(int(time.time() * 1000)))
        r = httpx.post(f"{live_server.url}/hooks/{channel}", content=body, headers=signed(body))
        assert r.status_code == 200, r.text
        row = page.locator("#conversations li[data-conversation]", has_text=TEXT)
        row.wait_for()
        assert "Chờ trả lời" in row.inner_text()
        conversation = row.get_attribute("data-conversation")

        # Alt+J: the list; Enter opens the conversation with the focus in its reply box.
        page.keyboard.press("Alt+J")
        page.keyboard.press("Enter")
        page.wait_for_selector(f"#reply-text-{conversation}")
        assert page.evaluate("document.activeElement.id") == f"reply-text-{conversation}"
        window = page.locator(f"#reply-window-{conversation}").inner_text()
        assert "Còn 6 ngày 23 giờ để trả lời qua Zalo OA 1022" in window, window
        blocking = _violations(page)
        assert blocking == [], f"conversation: axe-core\n{_describe(blocking)}"

        page.keyboard.type(REPLY)
        page.keyboard.press("Control+Enter")
        mine = page.locator(".msg-out", has_text=REPLY)
        mine.wait_for()
        assert "đang gửi" in mine.inner_text()
        assert page.input_value(f"#reply-text-{conversation}") == ""
        # Ctrl+Enter in the reply box saved no new case.
        assert page.locator("#saved").is_hidden()
        if SCREENSHOTS:
            page.screenshot(path=str(SCREENSHOTS / "console-conversation.png"))

        assert live_server.run(_work(settings)) >= 1
        sends = zalo.sends()
        assert len(sends) == 1
        assert sends[0].json()["message"]["text"] == REPLY
        page.locator(".msg-out[data-status='sent']", has_text=REPLY).wait_for()
        assert "đã gửi" in page.locator(".msg-out", has_text=REPLY).inner_text()
        assert not errors


async def _sms_seed(settings) -> int:  # type: ignore[no-untyped-def]
    """An operator and an SMS channel whose gateway needs GSM-7."""
    from hotline.auth.service import SYSTEM, create_user
    from hotline.channels.admin import create_channel
    from tests.channels.helpers import SMS

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        await create_user(
            s, username="dtv03", password="dtv03-1022", role="operator", full_name="ĐTV 03"
        )
        channel = await create_channel(
            s, actor=SYSTEM, kind="sms", name="SMS 1022", settings={**SMS, "gsm7_only": True}
        )
        channel_id = channel.id
    await engine.dispose()
    return int(channel_id)


@pytest.mark.e2e
def test_an_sms_replys_parts_are_counted_as_the_operator_types(  # type: ignore[no-untyped-def]
    live_server, browser, settings
):
    from playwright.sync_api import expect

    from tests.channels.helpers import SMS, payload, signature_headers

    channel = live_server.run(_sms_seed(settings))
    body = payload("sms", "inbound")
    r = httpx.post(
        f"{live_server.url}/hooks/{channel}",
        content=body,
        headers=signature_headers("sms", SMS, body),
    )
    assert r.status_code == 200, r.text
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors: list[object] = []
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(live_server.url + "/login")
    page.fill("#username", "dtv03")
    page.fill("#password", "dtv03-1022")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/conversations/1")
    box = page.locator("textarea[name=text]")
    count = page.locator("output.sms-count")
    box.press_sequentially("Tổng đài 1022 đã nhận")
    expect(count).to_have_text("1 tin SMS · GSM-7 · không dấu")
    box.fill("Xin chào " * 20)
    box.press("End")
    box.press_sequentially("!")
    expect(count).to_have_text("2 tin SMS · GSM-7 · không dấu")
    assert not errors
