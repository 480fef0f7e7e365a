"""A tick of the media clock that goes out late is reported with what the loop's thread did
meanwhile: its own work (CPU), or waiting (blocked, or the machine stopped)."""

from __future__ import annotations

import asyncio
import time

from hotline.telephony.media.rtp import MediaClock, RtpStream, Stall


class _Sink:
    def sendto(self, data: bytes, addr: object = None) -> None:
        pass


def _run_clock(block: object, *, with_streams: bool = True) -> list[Stall]:
    stalls: list[Stall] = []

    async def run() -> None:
        clock = MediaClock()
        if with_streams:
            clock.streams.add(RtpStream(_Sink(), ("127.0.0.1", 4000), 0))  # type: ignore[arg-type]
        clock.on_stall = stalls.append
        clock.start()
        await asyncio.sleep(0.1)
        asyncio.get_running_loop().call_soon(block)  # type: ignore[arg-type]
        await asyncio.sleep(0.1)
        await clock.stop()

    asyncio.run(run())
    return stalls


def _spin() -> None:
    end = time.perf_counter() + 0.06
    while time.perf_counter() < end:
        pass


def test_a_stall_of_the_loops_own_work_shows_its_cpu() -> None:
    stalls = _run_clock(_spin)
    assert stalls, "a 60 ms callback delays the next tick"
    worst = max(stalls, key=lambda s: s.late_ms)
    assert worst.late_ms >= 30
    assert worst.cpu_ms >= 40  # the thread was busy for most of it
    assert worst.streams == 1


def test_a_stall_while_blocked_shows_no_cpu_and_a_voluntary_switch() -> None:
    stalls = _run_clock(lambda: time.sleep(0.06))
    worst = max(stalls, key=lambda s: s.late_ms)
    assert worst.late_ms >= 30
    assert worst.cpu_ms < 20
    assert worst.voluntary >= 1


def test_a_late_tick_with_no_stream_is_not_a_stall() -> None:
    assert _run_clock(_spin, with_streams=False) == []


def test_a_report_installed_on_a_running_clock_covers_only_the_last_tick() -> None:
    # The line sets `on_stall` after its clock started (calls may already be up): the first
    # stall reported covers the tick before it, not the time since the clock started.
    stalls: list[Stall] = []

    def install_and_block() -> None:
        clock.on_stall = stalls.append
        _spin()

    clock = MediaClock()

    async def run() -> None:
        clock.streams.add(RtpStream(_Sink(), ("127.0.0.1", 4000), 0))  # type: ignore[arg-type]
        clock.start()
        await asyncio.sleep(0.3)
        asyncio.get_running_loop().call_soon(install_and_block)
        await asyncio.sleep(0.1)
        await clock.stop()

    asyncio.run(run())
    assert stalls, "the 60 ms callback made a tick late"
    first = stalls[0]
    assert first.late_ms >= 30
    assert first.send_ms < 10, first  # one tick's frame for one stream: well under a ms
