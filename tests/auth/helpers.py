"""Signing in through the pages, as a browser does."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import PASSWORD


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def page_sign_in(client: Any, username: str, password: str = PASSWORD) -> Any:
    """Sign in through /login; the client keeps the session cookie."""
    page = await client.get("/login")
    r = await client.post(
        "/login",
        data={"username": username, "password": password, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/"
    return r


async def page_sign_out(client: Any) -> Any:
    board = await client.get("/")
    return await client.post("/logout", data={"csrf": csrf_of(board.text)}, follow_redirects=False)


async def page_api_headers(client: Any) -> dict[str, str]:
    """What a page's script sends with a state change to the API: the session's CSRF token
    (from the page's <meta name="csrf-token">) and the page's own origin."""
    board = await client.get("/")
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', board.text)
    assert match, board.text
    return {"X-CSRF-Token": match.group(1), "Origin": str(client.base_url).rstrip("/")}
