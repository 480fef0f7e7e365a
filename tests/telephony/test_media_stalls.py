"""A tick of the media clock that goes out late is reported with what the loop's thread did
meanwhile: its own work (CPU), or waiting (blocked, or the machine stopped)."""

from __future__ import annotations

import asyncio
import time

from structlog.testing import capture_logs

from hotline.telephony.media.rtp import MediaClock, RtpStream, Stall
from hotline.telephony.metrics import LineMetrics
from hotline.telephony.stall_log import StallLog


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
    # 60 ms of this thread's CPU, however long another process holds the core meanwhile (a
    # wall-clock spin on a busy machine got as little as 20 ms of CPU).
    end = time.thread_time() + 0.06
    while time.thread_time() < end:
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


class _Counting:
    def __init__(self) -> None:
        self.packets = 0

    def sendto(self, data: bytes, addr: object = None) -> None:
        self.packets += 1


def test_a_failing_stall_report_does_not_stop_the_clock() -> None:
    # The report logs (a write to stderr, which can fail: a closed pipe): whatever it
    # raises, every call's audio goes on.
    sink = _Counting()
    reports: list[Stall] = []

    def report(stall: Stall) -> None:
        reports.append(stall)
        raise BrokenPipeError("stderr closed")

    async def run() -> int:
        clock = MediaClock()
        clock.streams.add(RtpStream(sink, ("127.0.0.1", 4000), 0))  # type: ignore[arg-type]
        clock.on_stall = report
        clock.start()
        await asyncio.sleep(0.1)
        asyncio.get_running_loop().call_soon(_spin)
        await asyncio.sleep(0.05)
        sent = sink.packets
        await asyncio.sleep(0.2)
        await clock.stop()
        return sink.packets - sent

    after = asyncio.run(run())
    assert reports, "the 60 ms callback made a tick late"
    assert after >= 5, after  # about ten ticks' frames in 0.2 s


def test_a_late_tick_is_sent_before_it_is_reported() -> None:
    # The report's own time (its log line) must not make the late frames later still.
    sink = _Counting()
    seen_at_report: list[int] = []
    before_block: list[int] = []

    def block() -> None:
        before_block.append(sink.packets)
        _spin()

    def report(stall: Stall) -> None:
        if before_block:  # a busy machine may make a tick late before the block
            seen_at_report.append(sink.packets)

    async def run() -> None:
        clock = MediaClock()
        clock.streams.add(RtpStream(sink, ("127.0.0.1", 4000), 0))  # type: ignore[arg-type]
        clock.on_stall = report
        clock.start()
        await asyncio.sleep(0.1)
        asyncio.get_running_loop().call_soon(block)
        await asyncio.sleep(0.1)
        await clock.stop()

    asyncio.run(run())
    assert seen_at_report, "the 60 ms callback made a tick late"
    assert seen_at_report[0] > before_block[0], (before_block, seen_at_report)


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
    assert first.send_ms < 50, first  # one frame of one stream (well under a ms), not 0.3 s


def _stall(late_ms: float) -> Stall:
    return Stall(late_ms, 1, 0.1, 0.0, 1.0, 0, 0)


def test_every_stall_counts_and_is_logged_at_most_once_a_second() -> None:
    now = [1000.0]
    metrics = LineMetrics("line-s")
    report = StallLog(metrics, clock=lambda: now[0])
    with capture_logs() as logs:
        for late, step in ((12.0, 0.2), (15.0, 0.3), (11.0, 0.6), (40.0, 0.0)):
            report(_stall(late))
            now[0] += step
    lines = [e for e in logs if e["event"] == "media_stall"]
    # The first at once; the next two within its second, counted in the line after.
    assert [(e["late_ms"], e["stalls"]) for e in lines] == [(12.0, 1), (40.0, 3)]
    assert lines[0]["log_level"] == "warning"
    counted = metrics.registry.get_sample_value(
        "hotline_sip_media_stalls_total", {"instance": "line-s"}
    )
    assert counted == 4
