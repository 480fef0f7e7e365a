"""Surge mode against real peers: sipp callers pile up in the operator queue of a running
line with no operator free, the job worker (its staffing sweep) switches surge mode on by
itself, a caller arriving then hears the surge announcements and the callback offer early,
and once the callers leave the worker switches it off; both changes are recorded with their
figures. What each caller heard is compared, frame for frame, with the line's prompts."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hotline.auth.service import SYSTEM
from hotline.db import create_engine, make_sessionmaker
from hotline.jobs.worker import run_worker
from hotline.settings import Settings
from hotline.site import Site
from hotline.staffing.jobs import sweeps
from hotline.staffing.surge import read_surge
from hotline.telephony.media.rtp import rtp_payload
from hotline.telephony.sip.sdp import PCMU
from tests.telephony.conftest import Line, line_settings, start_line
from tests.telephony.test_acd import QUEUE_TEXTS

pytestmark = pytest.mark.anyio
NORMAL_CALLBACK = 25.0  # seconds: longer than any caller here waits
SURGE_CALLBACK = 1.0
# Distinct words, so each prompt's audio is told apart from the others'.
TEXTS = {**QUEUE_TEXTS, "queue": "bốn", "surge_menu": "năm", "surge_queue": "sáu mươi"}


class RtpSink(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.packets: list[bytes] = []

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.packets.append(data)


@contextlib.asynccontextmanager
async def listener() -> AsyncIterator[tuple[int, RtpSink]]:
    """A UDP port a sipp caller names as its audio port, and what arrives on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport, sink = await asyncio.get_running_loop().create_datagram_endpoint(
        RtpSink, local_addr=("127.0.0.1", port)
    )
    try:
        yield port, sink
    finally:
        transport.close()


def heard(sink: RtpSink, line: Line, prompt: str) -> bool:
    """Whether the prompt's first second (or all of a shorter one) arrived, in order."""
    assert line.phone.switchboard is not None
    frames = list(line.phone.switchboard.prompts[prompt].frames[PCMU][:50])
    payloads = [p[2] for p in map(rtp_payload, sink.packets) if p is not None and p[0] == PCMU]
    n = len(frames)
    return any(payloads[i : i + n] == frames for i in range(len(payloads) - n + 1))


async def surge_state(settings: Settings) -> Any:
    engine = create_engine(settings.effective_database_url)
    try:
        async with make_sessionmaker(engine, Site.from_settings(settings))() as session:
            return await read_surge(session, actor=SYSTEM)
    finally:
        await engine.dispose()


async def until(check: Any, what: str, seconds: float = 20.0) -> Any:
    for _ in range(int(seconds / 0.2)):
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {what}")


@pytest.fixture
def surge_settings(settings: Settings) -> Settings:
    return line_settings(
        settings,
        sip_callback_after=NORMAL_CALLBACK,
        surge_callback_after=SURGE_CALLBACK,
        sip_agent_poll_seconds=0.2,
        sip_queue_event_seconds=0.2,
        sip_queue_heartbeat_seconds=1.0,
        surge_waiting=3,
        surge_longest_wait=600,
        surge_min_calls=1000,  # abandonment is not what this test is about
        surge_min_minutes=0.0,
    )


async def test_a_queue_of_callers_switches_surge_mode_on_the_callback_comes_sooner_then_off(
    surge_settings: Settings, sipp_installed: None
) -> None:
    line = await start_line(surge_settings, texts=TEXTS)
    worker = asyncio.create_task(
        run_worker(surge_settings, interval=0.3, sweeps=sweeps(surge_settings))
    )
    try:
        async with listener() as (port_a, before), listener() as (port_d, during):
            # Three callers wait; nobody can answer them (no operator on the line).
            first = asyncio.create_task(
                line.sipp(
                    "listen_in_queue.xml", extra=("-key", "rtp_port", str(port_a), "-d", "14000")
                )
            )
            others = [
                asyncio.create_task(
                    line.sipp(
                        "caller_waits_then_hangs_up.xml",
                        extra=("-s", f"091200000{i}", "-d", "14000"),
                    )
                )
                for i in (2, 3)
            ]

            async def entered() -> bool:
                return (await surge_state(surge_settings)).active

            await until(entered, "surge mode entered")
            switchboard = line.phone.switchboard
            assert switchboard is not None

            async def line_knows() -> bool:
                return switchboard.surge_callback_after == SURGE_CALLBACK

            await until(line_knows, "the line's poll saw surge mode")
            # A fourth caller, now: the announcements and, a second in, the callback offer.
            late = await line.sipp(
                "listen_in_queue.xml", extra=("-key", "rtp_port", str(port_d), "-d", "6000")
            )
            assert late.returncode == 0, late.output
            for task in (first, *others):
                result = await task
                assert result.returncode == 0, result.output

            async def left() -> Any:
                state = await surge_state(surge_settings)
                return None if state.active else state

            state = await until(left, "surge mode left")
            calls = await line.calls()
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await line.phone.stop()

    # The caller who came in surge heard its announcements and was offered the callback
    # within 6 s; the first caller, there longer, was not (their queue's 25 s held).
    assert heard(during, line, "surge_menu") and heard(during, line, "surge_queue")
    assert heard(during, line, "callback_offer")
    assert heard(before, line, "queue") and not heard(before, line, "surge_queue")
    assert not heard(before, line, "surge_menu") and not heard(before, line, "callback_offer")
    # Entry and exit, newest first, each with the queue's figures of that moment.
    exit_, entry = state.history[:2]
    assert (entry.active, entry.manual, entry.reason) == (True, False, "waiting")
    assert entry.figures["waiting"] >= 3
    assert (exit_.active, exit_.manual, exit_.reason) == (False, False, "recovered")
    # Left once every figure was under half its threshold: at most one caller waiting.
    assert exit_.figures["waiting"] <= 1
    assert len(calls) == 4
    assert all(c.outcome is not None and c.outcome.value == "abandoned_queue" for c in calls)
