from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.channels.fake_zalo import FakeZaloServer


@pytest.fixture
def zalo() -> Iterator[FakeZaloServer]:
    server = FakeZaloServer()
    with server:
        yield server
