"""The live event stream ends when its caller's token, session or account does, through the
real streaming endpoint on a real server."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy import select

from hotline.app import create_app
from hotline.auth.models import User
from tests.auth.helpers import page_sign_in
from tests.auth.test_revocation import _cli
from tests.cases.helpers import API
from tests.cases.test_events_sse import _next_event, _serve
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio


async def _kinds_until_the_end(lines: Any) -> list[str]:
    """The event kinds still sent before the server ends the stream."""
    kinds = []
    async for line in lines:
        if line.startswith("event:"):
            kinds.append(line.split(":", 1)[1].strip())
    return kinds


async def _user_id(app: Any, username: str) -> int:
    async with app.state.hotline.sessionmaker() as session:
        return int(await session.scalar(select(User.id).where(User.username == username)))


async def _new_case(http: httpx.AsyncClient, world: Any) -> None:
    r = await http.post(API, json=new_case_body(), headers=world.auth("operator"))
    assert r.status_code == 201, r.text


async def test_stream_of_a_logged_out_token_ends_before_the_next_case(app, world):
    async with (
        _serve(app) as base,
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as http,
        asyncio.timeout(30),
        http.stream("GET", "/api/v1/events", headers=world.auth("supervisor")) as r,
    ):
        lines = r.aiter_lines()
        await _next_event(lines, "ready")
        await _new_case(http, world)
        await _next_event(lines, "case.created")  # the stream works

        out = await http.post("/api/v1/auth/logout", headers=world.auth("supervisor"))
        assert out.status_code == 204, out.text
        await _new_case(http, world)

        kinds = await _kinds_until_the_end(lines)
    assert "case.created" not in kinds
    assert kinds[-1] == "signed_out"


async def test_stream_of_a_logged_out_token_ends_without_waiting_for_an_event(app, world):
    # The periodic re-check is 10 s away: a sign-out in this process ends the stream at once,
    # even when no event comes to wake it.
    assert app.state.hotline.settings.events_recheck_seconds == 10
    async with (
        _serve(app) as base,
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as http,
        http.stream("GET", "/api/v1/events", headers=world.auth("supervisor")) as r,
    ):
        lines = r.aiter_lines()
        await _next_event(lines, "ready")
        out = await http.post("/api/v1/auth/logout", headers=world.auth("supervisor"))
        assert out.status_code == 204, out.text
        async with asyncio.timeout(6):
            kinds = await _kinds_until_the_end(lines)
    assert kinds == ["signed_out"]


async def test_stream_of_a_disabled_users_page_session_ends_before_the_next_case(app, world):
    supervisor_id = await _user_id(app, "supervisor")
    async with (
        _serve(app) as base,
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as browser,
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as http,
        asyncio.timeout(30),
    ):
        await page_sign_in(browser, "supervisor")
        async with browser.stream("GET", "/api/v1/events") as r:
            assert r.status_code == 200
            lines = r.aiter_lines()
            assert await _next_event(lines, "ready") == {"user": "supervisor"}

            off = await http.patch(
                f"/api/v1/users/{supervisor_id}",
                json={"active": False},
                headers=world.auth("admin"),
            )
            assert off.status_code == 200, off.text
            await _new_case(http, world)

            kinds = await _kinds_until_the_end(lines)
    assert "case.created" not in kinds
    assert kinds[-1] == "signed_out"


async def test_stream_ends_when_another_process_disables_the_account(
    settings, world, database_url, tmp_path
):
    """The CLI (or another web worker) cannot reach this process's memory: the periodic
    re-check catches it."""
    app = create_app(settings.model_copy(update={"events_recheck_seconds": 0.2}))
    try:
        async with (
            _serve(app) as base,
            httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10)) as http,
            asyncio.timeout(30),
            http.stream("GET", "/api/v1/events", headers=world.auth("officer")) as r,
        ):
            lines = r.aiter_lines()
            await _next_event(lines, "ready")
            result = await anyio.to_thread.run_sync(
                partial(_cli, database_url, tmp_path / "var", "disable", "--username", "officer")
            )
            assert result.exit_code == 0, result.output
            kinds = await _kinds_until_the_end(lines)
        assert kinds[-1:] == ["signed_out"]
    finally:
        await app.state.hotline.close()
