"""The web chat widget in a real browser, both ways: a ward's page on another origin embeds
it with one script tag (under a strict CSP of its own); the visitor writes, an operator
answers from the inbox, the worker sends it and it appears without a reload; a message
written offline is kept and sent when the connection returns; axe-core finds nothing serious
in the open widget, and the keyboard opens, uses and closes it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from hotline.db import create_engine, make_sessionmaker
from hotline.site import Site
from tests.e2e.test_accessibility import AXE, AXE_RUN, BLOCKING, WCAG_TAGS, _describe
from tests.e2e.test_pages import SCREENSHOTS

SECRET = "webchat-e2e-secret-41d9a7"
QUESTION = "Cho tôi hỏi lịch tiêm chủng tháng này ở phường"
ANSWER = "Chào bạn, lịch tiêm chủng được niêm yết tại trạm y tế phường vào sáng thứ Hai."
OFFLINE = "Tôi viết tin này khi mất mạng"
SHADOW = "document.querySelector('[data-hotline-webchat]').shadowRoot"


class HostSite:
    """A ward's site on its own loopback port: one page embedding the widget."""

    def __init__(self, hotline: str, channel: int) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                lang = "en" if self.path.startswith("/en") else "vi"
                body = site.page(lang).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                # The host's own policy: the widget needs no inline script or style and
                # talks to the hotline only.
                self.send_header(
                    "Content-Security-Policy",
                    f"default-src 'self'; script-src {hotline}; connect-src {hotline}; "
                    "style-src 'self'; img-src 'self'",
                )
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.hotline, self.channel = hotline, channel
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def page(self, lang: str) -> str:
        # The host's own styles must not reach into the widget.
        return (
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>UBND phường Ngọc Hà</title></head><body><main><h1>UBND phường Ngọc Hà</h1>"
            "<p>Thông tin cho người dân.</p></main>"
            f'<script src="{self.hotline}/static/webchat.js" data-channel="{self.channel}" async>'
            "</script></body></html>"
        )

    def __enter__(self) -> HostSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


async def _users(settings: Any) -> None:
    from hotline.auth.service import create_user

    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        await create_user(s, username="quantri", password="quantri-1022", role="admin")
        await create_user(s, username="dtv01", password="dtv01-1022", role="operator")
    await engine.dispose()


async def _run_worker(settings: Any) -> int:
    from hotline.jobs.worker import run_due_jobs

    engine = create_engine(settings.effective_database_url)
    done = await run_due_jobs(make_sessionmaker(engine, Site.from_settings(settings)))
    await engine.dispose()
    return done


def _token(http: httpx.Client, username: str) -> dict[str, str]:
    r = http.post("/api/v1/auth/token", data={"username": username, "password": f"{username}-1022"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def chat(live_server: Any, settings: Any) -> Iterator[tuple[HostSite, httpx.Client, dict]]:
    live_server.run(_users(settings))
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        admin, operator = _token(http, "quantri"), _token(http, "dtv01")
        host = HostSite(live_server.url, 0)
        r = http.post(
            "/api/v1/channels",
            json={
                "kind": "webchat",
                "name": "Web chat phường Ngọc Hà",
                "settings": {
                    "secret": SECRET,
                    "allowed_origins": [host.url],
                    "title": "Hỏi đáp phường Ngọc Hà",
                    "welcome_text": "Xin chào! Phường Ngọc Hà có thể giúp gì cho bạn?",
                },
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
        host.channel = int(r.json()["id"])
        with host:
            yield host, http, operator


def _inbound(http: httpx.Client, operator: dict, channel: int) -> list[str]:
    r = http.get("/api/v1/conversations", params={"channel": channel}, headers=operator)
    items = r.json()["items"]
    if not items:
        return []
    r = http.get(f"/api/v1/conversations/{items[0]['id']}", headers=operator)
    return [m["text"] for m in r.json()["messages"] if m["direction"] == "in"]


def _conversation(http: httpx.Client, operator: dict, channel: int) -> int:
    r = http.get("/api/v1/conversations", params={"channel": channel}, headers=operator)
    [item] = r.json()["items"]
    return int(item["id"])


def _focused(page: Any) -> str:
    return str(
        page.evaluate(
            f"() => {{ const a = {SHADOW}.activeElement; "
            "return a ? (a.id || a.className) : document.activeElement.tagName; }"
        )
    )


def _is_send(response: Any) -> bool:
    return response.url.endswith("/messages") and response.request.method == "POST"


@pytest.mark.e2e
def test_a_visitor_chats_from_a_wards_site_both_ways_and_offline(  # type: ignore[no-untyped-def]
    chat, browser, settings, live_server
):
    host, http, operator = chat
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(host.url + "/")

    launcher = page.get_by_role("button", name="Mở khung chat với tổng đài")
    launcher.wait_for()
    # Its own styles apply under the host's CSP (a constructed sheet in its shadow root).
    assert launcher.evaluate("b => getComputedStyle(b).position") == "fixed"
    launcher.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Hỏi đáp phường Ngọc Hà")
    dialog.wait_for()
    assert _focused(page) == "hwc-text"
    page.get_by_text("Xin chào! Phường Ngọc Hà có thể giúp gì cho bạn?").wait_for()

    with page.expect_response(_is_send) as sent:
        page.keyboard.type(QUESTION)
        page.keyboard.press("Enter")
    assert sent.value.status == 201
    assert _inbound(http, operator, host.channel) == [QUESTION]

    # The operator answers from the inbox; the worker sends it; it appears, no reload.
    conversation = _conversation(http, operator, host.channel)
    r = http.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": ANSWER}, headers=operator
    )
    assert r.status_code == 202, r.text
    assert live_server.run(_run_worker(settings)) >= 1
    page.get_by_text(ANSWER).wait_for(timeout=20000)
    if SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOTS / "webchat-widget.png"))

    # Offline: kept and marked, nothing reaches the hotline; sent when back online.
    context.set_offline(True)
    page.get_by_text("Mất kết nối mạng. Tin nhắn sẽ được gửi khi có mạng.").wait_for()
    page.get_by_role("textbox", name="Tin nhắn của bạn").fill(OFFLINE)
    page.get_by_role("button", name="Gửi", exact=True).click()
    page.get_by_text("Chưa gửi: sẽ tự gửi khi có mạng trở lại").wait_for()
    assert _inbound(http, operator, host.channel) == [QUESTION]
    with page.expect_response(_is_send, timeout=20000) as sent:
        context.set_offline(False)
    assert sent.value.status == 201
    page.get_by_text("Chưa gửi: sẽ tự gửi khi có mạng trở lại").wait_for(state="detached")
    assert _inbound(http, operator, host.channel) == [QUESTION, OFFLINE]

    # axe-core on the page with the widget open (its shadow root included).
    page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate(AXE_RUN, WCAG_TAGS)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert blocking == [], _describe(blocking)

    # Escape closes it and gives the focus back to the launcher.
    page.get_by_role("textbox", name="Tin nhắn của bạn").focus()
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert _focused(page) == "b"

    # A new page view: the same visitor's thread, from the token the widget kept.
    page.reload()
    page.get_by_role("button", name="Mở khung chat với tổng đài").click()
    for text in (QUESTION, ANSWER, OFFLINE):
        page.get_by_text(text).wait_for()
    assert len(_inbound(http, operator, host.channel)) == 2
    assert errors == [], errors

    # A page in English gets the widget in English.
    english = context.new_page()
    english.goto(host.url + "/en")
    english.get_by_role("button", name="Open chat with the hotline").wait_for()
    context.close()
