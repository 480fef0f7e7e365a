"""An ended call is freed by reference counting alone, without the cycle collector.

The line runs the collector itself, after a media tick (media/gcpacer.py); a full collection
walks every object it finds and stalls every stream meanwhile. A call whose objects form a
reference cycle stays in memory until such a collection, so each ended call would lengthen
the next one. Here the collector is off while a call runs and ends: the call must be gone.
"""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from tests.telephony.conftest import Line

pytestmark = pytest.mark.anyio


async def _call_left_in_memory(line: Line, scenario: str, extra: tuple[str, ...] = ()) -> bool:
    ua = line.phone.ua
    assert ua is not None
    seen: list[weakref.ref[object]] = []

    async def watch() -> None:
        while not ua.calls:
            await asyncio.sleep(0.005)
        seen.append(weakref.ref(next(iter(ua.calls.values()))))

    gc.collect()
    gc.disable()
    try:
        watcher = asyncio.ensure_future(watch())
        result = await line.sipp(scenario, extra=extra)
        assert result.returncode == 0, result.output
        await asyncio.wait_for(watcher, 5)
        assert len(await line.calls()) == 1  # ended, its record written
        return seen[0]() is not None
    finally:
        gc.enable()


async def test_a_caller_who_hangs_up_in_the_menu_is_freed(line: Line):
    assert not await _call_left_in_memory(line, "hangup_in_menu.xml")


async def test_a_caller_who_hangs_up_in_the_queue_is_freed(line: Line):
    assert not await _call_left_in_memory(line, "no_input_then_hangup.xml", ("-d", "4500"))


async def test_a_transferred_caller_is_freed(line: Line):
    assert not await _call_left_in_memory(line, "rfc4733_digit1_refer_115.xml")
