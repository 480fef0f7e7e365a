"""A browser-like client for the administration pages: signed in through the login form,
posting forms with the page's CSRF token."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import PASSWORD
from tests.dashboard.helpers import sign_in

__all__ = ["csrf_of", "page_client", "sign_in"]


def csrf_of(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match, html[:500]
    return match.group(1)


async def page_client(app: Any, username: str) -> httpx.AsyncClient:
    """A client of its own (its own cookie jar), signed in as `username`."""
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    await sign_in(client, username)
    return client


async def post_form(
    client: httpx.AsyncClient, page: str, action: str, **data: str
) -> httpx.Response:
    """Open `page`, then post `data` to `action` with the page's CSRF token."""
    shown = await client.get(page)
    return await client.post(action, data={"csrf": csrf_of(shown.text), **data})


async def token_works(client: httpx.AsyncClient, token: str) -> bool:
    r = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    return r.status_code == 200


async def sign_in_status(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> int:
    r = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return r.status_code
