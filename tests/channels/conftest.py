from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.channels.fake_zalo import FakeZaloServer
from tests.channels.helpers import FakeProvider, signed_payload


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    """A fake provider API on loopback, stopped after the test."""
    fake = FakeProvider().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def sign() -> Callable[..., tuple[bytes, dict[str, str]]]:
    """`sign(kind, payload_name, settings)` -> (body, headers) for `POST /hooks/{id}`."""

    def _sign(kind: str, name: str, settings: Any, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
        return signed_payload(kind, name, settings, **kwargs)

    return _sign


@pytest.fixture
def zalo() -> Iterator[FakeZaloServer]:
    """A fake Zalo OA API on loopback (send, token refresh), stopped after the test."""
    server = FakeZaloServer()
    with server:
        yield server
