"""A caller on hold in a real `hotline sip` shows on the web app's console and dashboard, and
goes when they hang up: the line publishes its queue through the event log, which the web
process (served over HTTP, sharing only the database) reads."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from hotline.app import create_app
from hotline.auth.service import create_user
from hotline.db import create_engine, make_sessionmaker
from hotline.settings import Settings
from hotline.site import Site
from tests.cases.test_events_sse import _messages, _serve, _until
from tests.conftest import PASSWORD
from tests.telephony.conftest import Line, line_settings, start_line
from tests.telephony.test_acd import QUEUE_TEXTS, add_operator

pytestmark = pytest.mark.anyio


@pytest.fixture
async def queue_line(settings: Settings, sipp_installed: None) -> AsyncIterator[Line]:
    running = await start_line(
        line_settings(
            settings,
            sip_agent_poll_seconds=0.2,
            sip_queue_event_seconds=0.2,
            sip_queue_heartbeat_seconds=1.0,
        ),
        texts=QUEUE_TEXTS,
    )
    yield running
    await running.phone.stop()


async def _supervisor(settings: Settings) -> None:
    engine = create_engine(settings.effective_database_url)
    async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
        await create_user(s, username="supervisor", password=PASSWORD, role="supervisor")
    await engine.dispose()


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> None:
    page = await client.get("/login")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf
    data = {"username": username, "password": password, "csrf": csrf.group(1)}
    r = await client.post("/login", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text


def waiting_on(html: str, marker: str) -> str:
    found = re.search(marker + r"[^>]*>(\d+)</b>", html)
    assert found, html
    return found.group(1)


async def _next_queue(messages: Any) -> dict[str, Any]:
    while True:
        m = await messages.__anext__()
        if m["event"] == "queue.now":
            return dict(json.loads(m["data"])["data"])


async def test_a_caller_on_hold_shows_on_the_console_and_the_wallboard_until_they_hang_up(
    settings: Settings, queue_line: Line
):
    # An operator who is away: nobody is rung, the caller stays on hold.
    await add_operator(settings, available=False)
    await _supervisor(settings)
    app = create_app(settings)
    await app.state.hotline.start_events()
    try:
        async with (
            _serve(app) as base,
            httpx.AsyncClient(base_url=base, timeout=30) as operator,
            httpx.AsyncClient(base_url=base, timeout=30) as supervisor,
            asyncio.timeout(90),
        ):
            await sign_in(operator, "op1", "operator-pass-1")
            await sign_in(supervisor, "supervisor", PASSWORD)
            console = await operator.get("/")
            assert waiting_on(console.text, 'id="queue-waiting"') == "0"
            async with operator.stream("GET", "/api/v1/events?queue=1") as stream:
                messages = _messages(stream.aiter_lines())
                await _until(messages, "ready")
                assert (await _next_queue(messages))["waiting"] == 0
                extra = ("-s", "0912000001", "-d", "5000")
                caller = asyncio.create_task(
                    queue_line.sipp("caller_waits_then_hangs_up.xml", extra=extra)
                )
                on_hold = await _next_queue(messages)
                assert on_hold["waiting"] == 1 and on_hold["by_queue"] == {"operator": 1}
                assert on_hold["oldest_at"] is not None
                # A page opened now reads it from the log: the console and the wallboard.
                console = await operator.get("/")
                assert waiting_on(console.text, 'id="queue-waiting"') == "1"
                wall = await supervisor.get("/dashboard/live")
                assert (
                    waiting_on(wall.text, 'data-figure="line_waiting"><b data-queue-waiting') == "1"
                )
                assert "0912000001" not in wall.text and "+84912000001" not in console.text
                # The caller hangs up.
                assert (await _next_queue(messages))["waiting"] == 0
                result = await caller
                assert result.returncode == 0, result.output
            console = await operator.get("/")
            assert waiting_on(console.text, 'id="queue-waiting"') == "0"
            wall = await supervisor.get("/dashboard/live")
            assert waiting_on(wall.text, 'data-figure="line_waiting"><b data-queue-waiting') == "0"
    finally:
        await app.state.hotline.close()
    [call] = await queue_line.calls()
    assert call.outcome is not None and call.outcome.value == "abandoned_queue"
