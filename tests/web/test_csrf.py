"""CSRF: the page cookie is an ambient credential, so every state change made with it needs
the session's token (and, on the API, a same-origin Origin); bearer tokens are exempt."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, new_case_body

pytestmark = pytest.mark.anyio

SAME_ORIGIN = "http://test"


def _csrf_of(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match, html
    return match.group(1)


async def _sign_in(client: httpx.AsyncClient, username: str = "operator") -> str:
    """Sign in through the page; the board's CSRF token."""
    page = await client.get("/login")
    r = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": _csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/", r.text
    board = await client.get("/")
    assert board.status_code == 200
    return _csrf_of(board.text)


def _refused(r: httpx.Response, field: str) -> None:
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field


async def _case_count(client: httpx.AsyncClient, world: Any) -> int:
    r = await client.get("/api/v1/cases", headers=world.auth("admin"))
    return len(r.json()["items"])


async def test_cookie_api_write_without_the_csrf_token_is_refused(client, world):
    await _sign_in(client)
    r = await client.post("/api/v1/cases", json=new_case_body(), headers={"Origin": SAME_ORIGIN})
    _refused(r, "X-CSRF-Token")
    r = await client.put(
        "/api/v1/agents/me/status", json={"status": "available"}, headers={"Origin": SAME_ORIGIN}
    )
    _refused(r, "X-CSRF-Token")
    assert await _case_count(client, world) == 0


async def test_cookie_api_write_with_a_wrong_csrf_token_is_refused(client, world):
    await _sign_in(client)
    r = await client.post(
        "/api/v1/cases",
        json=new_case_body(),
        headers={"X-CSRF-Token": "doan-bua", "Origin": SAME_ORIGIN},
    )
    _refused(r, "X-CSRF-Token")


@pytest.mark.parametrize(
    "origin",
    [
        {},
        {"Origin": "http://evil.example"},
        {"Origin": "http://test.evil.example"},
        {"Origin": "http://test:8080"},
        {"Origin": "null"},
        {"Referer": "http://evil.example/test"},
    ],
    ids=["none", "other-site", "look-alike", "other-port", "null", "other-referer"],
)
async def test_cookie_api_write_from_another_origin_is_refused(client, world, origin):
    token = await _sign_in(client)
    r = await client.post(
        "/api/v1/cases", json=new_case_body(), headers={"X-CSRF-Token": token, **origin}
    )
    _refused(r, "Origin")
    assert await _case_count(client, world) == 0


@pytest.mark.parametrize(
    "origin", [{"Origin": SAME_ORIGIN}, {"Referer": SAME_ORIGIN + "/"}], ids=["origin", "referer"]
)
async def test_cookie_api_write_with_token_and_same_origin_goes_through(client, world, origin):
    token = await _sign_in(client)
    r = await client.post(
        "/api/v1/cases", json=new_case_body(), headers={"X-CSRF-Token": token, **origin}
    )
    assert r.status_code == 201, r.text


async def test_cross_site_text_plain_form_cannot_open_a_case_with_the_cookie(client, world):
    """The classic CSRF: a form posting JSON-looking text/plain, which needs no preflight."""
    await _sign_in(client)
    r = await client.post(
        "/api/v1/cases",
        content=httpx.Response(200, json=new_case_body()).content,
        headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
    )
    assert r.status_code in (403, 415), r.text
    assert await _case_count(client, world) == 0


async def test_bearer_token_writes_need_no_csrf_token_nor_origin(client, world):
    r = await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    assert r.status_code == 201, r.text


async def test_cookie_reads_need_no_csrf_token(client, world):
    await _sign_in(client)
    assert (await client.get("/api/v1/users/me")).status_code == 200


async def test_login_form_without_a_session_token_is_refused(client, world):
    """Login CSRF: a cross-site form posting the attacker's credentials, on a browser that
    never opened the sign-in page (so its session has no token either)."""
    r = await client.post("/login", data={"username": "operator", "password": PASSWORD, "csrf": ""})
    assert r.status_code == 400
    assert "Phiên làm việc đã hết hạn" in r.text
    board = await client.get("/", follow_redirects=False)
    assert board.status_code == 303 and board.headers["location"] == "/login"


async def test_agent_status_form_right_after_sign_in_needs_the_token(client, world):
    page = await client.get("/login")
    await client.post(
        "/login",
        data={"username": "operator", "password": PASSWORD, "csrf": _csrf_of(page.text)},
    )
    # Signing in starts a new session; a cross-site form posts no token.
    r = await client.post(
        "/agent-status", data={"status": "available", "csrf": ""}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/login"
    board = await client.get("/")
    assert '<b id="agent-status">Vắng mặt</b>' in board.text


async def test_logout_form_right_after_sign_in_needs_the_token(client, world):
    page = await client.get("/login")
    await client.post(
        "/login",
        data={"username": "operator", "password": PASSWORD, "csrf": _csrf_of(page.text)},
    )
    await client.post("/logout", data={"csrf": ""})
    assert (await client.get("/", follow_redirects=False)).status_code == 200
