"""Signing in through the login form, as a browser does (the pages use the cookie)."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import PASSWORD


async def sign_in(client: Any, username: str) -> None:
    page = await client.get("/login")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf
    r = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": csrf.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
