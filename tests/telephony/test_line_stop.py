"""Stopping the line leaves nothing running: the operators' poll is not cut off mid-query.

A poll cancelled inside its query left SQLAlchemy closing the connection in a shielded task
after `stop()` had disposed of the engine; the loop's shutdown then waited on it for ever
(seen as a hung test run after the baresip test, whose line polls every 0.2 s)."""

from __future__ import annotations

import asyncio

import pytest

from hotline.settings import Settings
from tests.telephony.conftest import line_settings, start_line

pytestmark = pytest.mark.anyio


async def test_stop_waits_for_the_poll_and_leaves_no_task(settings: Settings):
    # Polling without pause: stop() is all but certain to land inside a query.
    for _ in range(3):
        line = await start_line(line_settings(settings, sip_agent_poll_seconds=0.0))
        await asyncio.sleep(0.1)
        await line.phone.stop()
        own = {asyncio.current_task()}
        left = [
            t
            for t in asyncio.all_tasks() - own
            if "/anyio/" not in t.get_coro().cr_code.co_filename  # type: ignore[union-attr]
        ]
        assert left == [], left  # the runner's own tasks aside
