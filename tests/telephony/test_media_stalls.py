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
