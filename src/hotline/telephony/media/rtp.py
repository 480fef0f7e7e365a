"""RTP streams driven by one shared 20 ms clock, and the RFC 4733 digit receiver.

One clock task sends a frame for every stream on each tick. A sleep per call would make N
timers drift independently and, under load or a GC pause, bunch up; a single absolute-time
clock keeps every stream on the same 20 ms grid and catches up a missed tick or two with the
frames that were due, so the far end's jitter buffer sees steady timestamps.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import secrets
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from hotline.telephony.media.dtmf import InbandDetector
from hotline.telephony.media.g711 import SILENCE, translate_table

FRAME_SECONDS = 0.020
SAMPLES_PER_FRAME = 160
MAX_CATCH_UP = 5  # ticks; after a longer stall we resynchronise rather than burst
EVENT_DIGITS = "0123456789*#ABCD"


class MediaClock:
    """The shared 20 ms clock; streams register while they have a call."""

    def __init__(self) -> None:
        self.streams: set[RtpStream] = set()
        self._task: asyncio.Task[None] | None = None
        self.late_ticks = 0  # for metrics: ticks that had to be caught up
        # Called once a tick's frames are out: work that must not land on a tick (the GC
        # pacer) runs here, with most of the 20 ms ahead of it.
        self.after_tick: Callable[[], None] | None = None
        # Called with a `Stall` when a tick went out over STALL_MS late.
        self.on_stall: Callable[[Stall], None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="media-clock")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start, sent = loop.time(), 0
        last = _Window(loop.time(), _thread_usage())
        while True:
            due_at = start + (sent + 1) * FRAME_SECONDS
            delay = due_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = loop.time()
            report, stall = self.on_stall, None
            if report is not None and (now - due_at) * 1000.0 >= STALL_MS and self.streams:
                stall = last.stall((now - due_at) * 1000.0, len(self.streams))
            due = max(1, int((now - start) / FRAME_SECONDS) - sent)
            if due > 1:
                self.late_ticks += due - 1
            if due > MAX_CATCH_UP:
                sent += due - 1  # a long stall: skip ahead instead of bursting the backlog
                due = 1
            # Every tick, so that a report installed on a running clock covers one tick.
            last = _Window(now, _thread_usage())
            for stream in list(self.streams):
                try:
                    for _ in range(due):
                        stream.send_frame()
                except Exception:  # one broken stream must not silence the rest
                    self.streams.discard(stream)
                    stream.stop()
            sent += due
            last.sent_at = loop.time()
            if self.after_tick is not None:
                self.after_tick()
                last.after_at = loop.time()
            if report is not None and stall is not None:
                # Once the late frames are out (the report writes a log line), and never at
                # the cost of the calls' audio: a report that fails (stderr gone) is lost.
                with contextlib.suppress(Exception):
                    report(stall)


STALL_MS = 10.0


@dataclass(frozen=True)
class Stall:
    """A tick that went out late, and what the loop's thread did since the tick before:
    the time that tick's frames took to send and the work after it (the paced collection),
    the CPU the thread used in all (its own work: a long callback, a collection) and how
    often it was switched out (involuntary: the kernel gave the core to another process;
    voluntary: it blocked). Late with little CPU and no switches: the whole machine was
    stopped (a virtual machine's CPU taken by its host)."""

    late_ms: float
    streams: int
    send_ms: float
    after_tick_ms: float
    cpu_ms: float
    involuntary: int
    voluntary: int


class _Window:
    """From one tick's start to the next: when its sends and its after-tick work ended."""

    __slots__ = ("after_at", "sent_at", "started", "usage")

    def __init__(self, started: float, usage: tuple[float, int, int]) -> None:
        self.started, self.usage = started, usage
        self.sent_at = self.after_at = started

    def stall(self, late_ms: float, streams: int) -> Stall:
        now = _thread_usage()
        return Stall(
            late_ms=round(late_ms, 2),
            streams=streams,
            send_ms=round((self.sent_at - self.started) * 1000.0, 2),
            after_tick_ms=round(max(0.0, self.after_at - self.sent_at) * 1000.0, 2),
            cpu_ms=round((now[0] - self.usage[0]) * 1000.0, 2),
            involuntary=now[1] - self.usage[1],
            voluntary=now[2] - self.usage[2],
        )


# The loop's thread (Linux); elsewhere the process's, which includes the helper threads.
_WHO = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)


def _thread_usage() -> tuple[float, int, int]:
    r = resource.getrusage(_WHO)
    return r.ru_utime + r.ru_stime, r.ru_nivcsw, r.ru_nvcsw


class _Discard:
    """Stands in for a stream's socket while the far end wants no media from us (hold): the
    stream keeps its clock (prompts end on time, timestamps run on) at no cost per packet."""

    def sendto(self, data: bytes, addr: object = None) -> None:
        pass


DISCARD = cast(asyncio.DatagramTransport, _Discard())


class RtpStream:
    """One call's outgoing audio: plays pre-encoded frames, else sends silence."""

    def __init__(
        self, transport: asyncio.DatagramTransport, remote: tuple[str, int], payload_type: int
    ) -> None:
        self.transport = transport
        self.remote = remote
        self.payload_type = payload_type
        self.ssrc = secrets.randbits(32)
        self.seq = secrets.randbits(16)
        self.timestamp = secrets.randbits(32)
        self.silence = bytes([SILENCE.get(payload_type, 0xFF)]) * SAMPLES_PER_FRAME
        self._frames: Sequence[bytes] = ()
        self._pos = 0
        self._done: asyncio.Future[bool] | None = None
        self._marker = True
        self._ts_offset: int | None = None  # set by the first relayed packet
        # Call recording (telephony/recording.py): sees each payload sent, never blocks.
        self.tap: Callable[[int, bytes], None] | None = None

    def play(self, frames: Sequence[bytes]) -> asyncio.Future[bool]:
        """Start playing; the future says True when played out, False when stopped."""
        self.stop()
        self._frames, self._pos, self._marker = frames, 0, True
        self._done = asyncio.get_running_loop().create_future()
        if not frames:
            self._finish(True)
        return self._done

    def stop(self) -> None:
        self._finish(False)

    def switch_codec(self, payload_type: int, frames: Sequence[bytes] | None) -> None:
        """Send in another codec from now on (a new offer chose it); a prompt being played
        goes on from the same frame in `frames`, the same prompt in that codec."""
        self.payload_type = payload_type
        self.silence = bytes([SILENCE.get(payload_type, 0xFF)]) * SAMPLES_PER_FRAME
        if frames is not None and self._frames:
            self._frames = frames

    def _finish(self, complete: bool) -> None:
        done, self._done = self._done, None
        self._frames, self._pos = (), 0
        if done is not None and not done.done():
            done.set_result(complete)

    def send_frame(self) -> None:
        if self._pos < len(self._frames):
            payload = self._frames[self._pos]
            self._pos += 1
        else:
            payload = self.silence
            if self._done is not None:
                self._finish(True)
        if self.tap is not None:
            self.tap(self.payload_type, payload)
        marker = 0x80 if self._marker else 0
        self._marker = False
        header = struct.pack(
            "!BBHII", 0x80, marker | self.payload_type, self.seq, self.timestamp, self.ssrc
        )
        self.seq = (self.seq + 1) & 0xFFFF
        self.timestamp = (self.timestamp + SAMPLES_PER_FRAME) & 0xFFFFFFFF
        # A vanished peer must not stop the clock for every other call.
        with contextlib.suppress(OSError):
            self.transport.sendto(header + payload, self.remote)

    def relay(self, packet: bytes) -> None:
        """Forward a bridged peer's audio packet as this stream's own.

        Called as packets arrive, not by the clock: a relay adds no delay of its own and the
        sender's timing is kept. SSRC and sequence are this stream's; the timestamp keeps the
        sender's spacing shifted onto this stream's base, so gaps (lost packets) stay visible
        to the far end's jitter buffer. The other G.711 law is translated by table; anything
        that is not G.711 (telephone-events, comfort noise) is not forwarded.
        """
        parsed = rtp_payload(packet)
        if parsed is None:
            return
        pt, timestamp, payload = parsed
        if pt not in SILENCE:
            return
        if pt != self.payload_type:
            payload = payload.translate(translate_table(pt, self.payload_type))
        if self._ts_offset is None:
            self._ts_offset = (self.timestamp - timestamp) & 0xFFFFFFFF
        out_ts = (timestamp + self._ts_offset) & 0xFFFFFFFF
        if self.tap is not None:
            self.tap(self.payload_type, payload)
        header = struct.pack(
            "!BBHII", 0x80, (packet[1] & 0x80) | self.payload_type, self.seq, out_ts, self.ssrc
        )
        self.seq = (self.seq + 1) & 0xFFFF
        self.timestamp = (out_ts + SAMPLES_PER_FRAME) & 0xFFFFFFFF
        with contextlib.suppress(OSError):
            self.transport.sendto(header + payload, self.remote)


def rtp_payload(packet: bytes) -> tuple[int, int, bytes] | None:
    """(payload type, timestamp, payload) of an RTP packet, or None if it is not one."""
    if len(packet) < 12 or packet[0] >> 6 != 2:
        return None
    cc = packet[0] & 0x0F
    offset = 12 + 4 * cc
    if packet[0] & 0x10:  # header extension
        if len(packet) < offset + 4:
            return None
        offset += 4 + 4 * struct.unpack_from("!H", packet, offset + 2)[0]
    end = len(packet)
    if packet[0] & 0x20 and end > offset:  # padding
        end -= packet[-1]
    if end < offset:
        return None
    timestamp = struct.unpack_from("!I", packet, 4)[0]
    return packet[1] & 0x7F, timestamp, packet[offset:end]


class DigitReceiver:
    """RFC 4733 telephone-events: one digit per event, reported on its end bit.

    The end packet is sent three times and all packets of one event share an RTP timestamp,
    so the timestamp is what de-duplicates. A caller who offered no telephone-event has its
    G.711 audio listened to for tones instead (media/dtmf.py), and only then.
    """

    def __init__(self, event_pt: int | None, on_digit: Callable[[str], None]) -> None:
        self.event_pt = event_pt
        self.on_digit = on_digit
        self._last_ts: int | None = None
        self._inband: InbandDetector | None = None

    def packet(self, data: bytes) -> None:
        parsed = rtp_payload(data)
        if parsed is None:
            return
        pt, timestamp, payload = parsed
        if self.event_pt is None:
            if pt in SILENCE:  # G.711
                if self._inband is None:
                    self._inband = InbandDetector(self.on_digit)
                self._inband.payload(pt, payload)
            return
        if pt != self.event_pt or len(payload) < 4:
            return
        event, flags = payload[0], payload[1]
        if not flags & 0x80 or event >= len(EVENT_DIGITS) or timestamp == self._last_ts:
            return
        self._last_ts = timestamp
        self.on_digit(EVENT_DIGITS[event])


class RtpProtocol(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.receiver: DigitReceiver | None = None
        self.transport: asyncio.DatagramTransport | None = None
        self.last_packet = asyncio.get_running_loop().time()  # for the inactivity timeout
        # Symmetric RTP (RFC 4961) for callers behind NAT, whose SDP names a private address:
        # the first packet from the signalling host re-aims the stream at where it came from.
        # Only that host, and only once, so a stranger spraying ports cannot steal the audio.
        self.stream: RtpStream | None = None
        self.latch_host: str | None = None
        # While bridged to an operator: the other leg's stream, which forwards our packets.
        self.relay_to: RtpStream | None = None
        self.relayed = 0
        # Call recording: sees each packet received (the caller's voice), never blocks.
        self.tap: Callable[[bytes], None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        self.last_packet = asyncio.get_running_loop().time()
        if self.latch_host is not None and self.stream is not None:
            if addr[0] == self.latch_host and isinstance(addr[1], int):
                self.stream.remote = (self.latch_host, addr[1])
            self.latch_host = None
        if self.tap is not None:
            with contextlib.suppress(Exception):
                self.tap(data)
        if self.relay_to is not None:
            self.relayed += 1
            with contextlib.suppress(Exception):
                self.relay_to.relay(data)
        # Tones are listened for only until the caller is bridged: the other end hears them,
        # and a conversation's speech would cost the detector's work for nothing.
        receiver = self.receiver
        if receiver is not None and (self.relay_to is None or receiver.event_pt is not None):
            # Bad media must never reach the event loop; digits come again or by INFO.
            with contextlib.suppress(Exception):
                receiver.packet(data)

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP port unreachable from a peer that went away: the call ends by SIP


class PortPool:
    """Even RTP ports (RFC 3550 §11) handed out round-robin within a range."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low + low % 2, high
        self._next = self.low
        self.used: set[int] = set()

    async def open(self, host: str) -> tuple[int, RtpProtocol, asyncio.DatagramTransport]:
        loop = asyncio.get_running_loop()
        span = max(1, (self.high - self.low) // 2)
        for _ in range(span):
            port = self._next
            self._next = self.low if self._next + 2 > self.high else self._next + 2
            if port in self.used:
                continue
            try:
                transport, protocol = await loop.create_datagram_endpoint(
                    RtpProtocol, local_addr=(host, port)
                )
            except OSError:
                continue
            self.used.add(port)
            return port, protocol, transport
        raise OSError("no free RTP port")

    def release(self, port: int) -> None:
        self.used.discard(port)
