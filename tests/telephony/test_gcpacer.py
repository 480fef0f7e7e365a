"""The GC pacer: collections run after a media tick, never on their own, full ones spaced."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from hotline.telephony.media.gcpacer import GcPacer
from hotline.telephony.media.rtp import MediaClock, RtpStream


class _Sink:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def sendto(self, data: bytes, addr: object) -> None:
        self.log.append("frame")


@pytest.fixture
def pacer() -> Iterator[GcPacer]:
    running = GcPacer(young=100, middle=2, old=2, full_interval=3600.0)
    running.install()
    try:
        yield running
    finally:
        running.uninstall()
    assert gc.isenabled() and gc.get_freeze_count() == 0


def _garbage(n: int) -> None:
    for _ in range(n):
        a: list[object] = []
        a.append(a)  # a cycle: only the collector frees it


def test_install_takes_over_from_the_automatic_collector(pacer: GcPacer):
    assert not gc.isenabled()
    assert gc.get_freeze_count() > 0  # start-up objects frozen out of the generations
    _garbage(5000)
    assert gc.get_count()[0] >= 5000  # nothing collected them behind the clock's back
    pacer.after_tick()
    assert gc.get_count()[0] < 100
    assert pacer.stats.collections[0] == 1
    assert pacer.stats.collected[0] >= 5000  # the cycles it found are counted for the log


def test_older_generations_follow_the_young_ones_and_full_ones_wait(pacer: GcPacer):
    for _ in range(12):
        _garbage(200)
        pacer.after_tick()
    young, middle, full = pacer.stats.collections
    assert young > 0 and middle > 0
    assert full == 0  # due by count, but not an hour since the last full one
    pacer.full_interval = 0.0
    for _ in range(3):  # a full collection rides on the next middle one that is due
        _garbage(200)
        pacer.after_tick()
    assert pacer.stats.collections[2] == 1


def test_nothing_is_collected_below_the_young_threshold(pacer: GcPacer):
    gc.collect(0)
    pacer.after_tick()
    assert pacer.stats.collections == (0, 0, 0)


def test_clock_runs_the_hook_after_each_ticks_frames():
    log: list[str] = []

    async def run() -> None:
        clock = MediaClock()
        clock.streams.add(RtpStream(_Sink(log), ("127.0.0.1", 4000), 0))  # type: ignore[arg-type]
        clock.after_tick = lambda: log.append("after")
        clock.start()
        await asyncio.sleep(0.15)
        await clock.stop()

    asyncio.run(run())
    assert log.count("after") >= 3
    # Every hook call comes right after that tick's frame(s), never before the first one.
    assert log[0] == "frame" and "after" in log[1:3]
    assert all(log[i - 1] == "frame" for i, e in enumerate(log) if e == "after")
