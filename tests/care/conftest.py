"""What the care tests share: a browser-like client signed in as one user."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from tests.auth.test_auth import _csrf_of
from tests.conftest import PASSWORD


@pytest.fixture
def signed_in(app: Any) -> Callable[[str], Any]:
    """A browser-like client (its own cookie jar) signed in as one user."""

    @asynccontextmanager
    async def open_as(who: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            page = await c.get("/login")
            r = await c.post(
                "/login", data={"username": who, "password": PASSWORD, "csrf": _csrf_of(page.text)}
            )
            assert r.status_code == 303, r.text
            yield c

    return open_as
