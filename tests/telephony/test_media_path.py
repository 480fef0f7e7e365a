"""A raw-socket caller: what the line actually sends (200 retransmission, prompt audio) and
what a digit does to it (barge-in), checked packet by packet."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import struct

import pytest

from hotline.settings import Settings
from hotline.telephony.sip.message import Message, parse, response_to
from tests.conftest import missing_tool
from tests.telephony.conftest import line_settings, start_line

pytestmark = pytest.mark.anyio


class Caller:
    """Blocking UDP sockets used from a thread, so the line's event loop keeps running."""

    def __init__(self, server_port: int) -> None:
        self.server = ("127.0.0.1", server_port)
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind(("127.0.0.1", 0))
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.port = self.sip.getsockname()[1]
        self.rtp_port = self.rtp.getsockname()[1]

    def close(self) -> None:
        self.sip.close()
        self.rtp.close()

    def headers(self, method: str, cseq: int, to_tag: str = "") -> str:
        return (
            f"{method} sip:1022@127.0.0.1:{self.server[1]} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{method}{cseq}\r\n"
            f"From: <sip:+84987654321@127.0.0.1>;tag=caller\r\n"
            f"To: <sip:1022@127.0.0.1>{to_tag}\r\n"
            f"Call-ID: media-path-1\r\nCSeq: {cseq} {method}\r\n"
            f"Contact: <sip:caller@127.0.0.1:{self.port}>\r\nMax-Forwards: 70\r\n"
        )

    def invite(self) -> None:
        sdp = (
            f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {self.rtp_port} RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
        )
        msg = self.headers("INVITE", 1) + "Content-Type: application/sdp\r\n"
        self.send(msg + f"Content-Length: {len(sdp)}\r\n\r\n{sdp}")

    def send(self, text: str) -> None:
        self.sip.sendto(text.encode(), self.server)

    def responses(self, seconds: float) -> list[Message]:
        self.sip.settimeout(0.1)
        out, deadline = [], _now() + seconds
        while _now() < deadline:
            with contextlib.suppress(TimeoutError):  # nothing this 100 ms: look again
                out.append(parse(self.sip.recv(65535)))
        return out

    def audio(self, count: int) -> list[bytes]:
        self.rtp.settimeout(2)
        return [self.rtp.recv(2048) for _ in range(count)]

    def drain(self) -> list[bytes]:
        """What has arrived so far (the stream never pauses, so no waiting for a gap)."""
        self.rtp.setblocking(False)
        out = []
        try:
            while True:
                out.append(self.rtp.recv(2048))
        except BlockingIOError:
            return out

    def digit(self, to: tuple[str, int], code: int) -> None:
        for i, end in enumerate([False, False, True, True, True]):
            header = struct.pack("!BBHII", 0x80, 101, 100 + i, 8000, 77)
            self.rtp.sendto(header + struct.pack("!BBH", code, 0x80 if end else 0, 160 * i), to)


def _now() -> float:
    import time

    return time.monotonic()


async def test_200_is_retransmitted_until_ack_then_prompt_plays_and_a_digit_cuts_it(
    settings: Settings,
):
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        missing_tool("needs a spoken greeting: espeak-ng and sox (make debian-test-deps)")
    long_greeting = "Tổng đài 1022 xin nghe. Muốn gặp điện thoại viên, xin bấm phím 4."
    line = await start_line(line_settings(settings), texts={"greeting": long_greeting})
    caller = Caller(line.port)
    try:
        caller.invite()
        # No ACK yet: the 200 comes again after T1 = 0.5 s and then 1 s later.
        got = await asyncio.to_thread(caller.responses, 1.8)
        oks = [m for m in got if m.status == 200]
        assert got[0].status == 100 and len(oks) >= 3
        to_tag = f";tag={oks[0].to_addr.tag}"
        caller.send(caller.headers("ACK", 1, to_tag) + "Content-Length: 0\r\n\r\n")
        assert [m for m in await asyncio.to_thread(caller.responses, 1.2) if m.status] == []

        answer = oks[0].body.decode()
        assert "m=audio" in answer and "RTP/AVP 8 101" in answer
        media_port = int(answer.split("m=audio ")[1].split()[0])
        prompts = line.phone.ua._handler.prompts  # type: ignore[union-attr]
        greeting, queue = prompts["greeting"].frames[8], prompts["queue"].frames[8]
        assert len(greeting) > 150  # long enough that the digit lands while it plays

        # What arrived so far holds the start of the greeting, frame for frame, in A-law.
        heard = [p[12:] for p in await asyncio.to_thread(caller.drain) if p[1] & 0x7F == 8]
        # Found by its first non-silent frame: leading silence looks like the idle stream.
        first_sound = next(i for i, f in enumerate(greeting) if f != b"\xd5" * 160)
        start = heard.index(greeting[first_sound]) - first_sound
        assert heard[start:] == list(greeting[: len(heard) - start])
        assert len(heard) - start < len(greeting)

        caller.digit(("127.0.0.1", media_port), 4)  # "4": operator queue, barging in
        after = await asyncio.to_thread(caller.audio, 25)
        # The queue announcement starts (marker bit) within half a second, long before the
        # greeting would have ended.
        starts = [p[12:] for p in after if p[1] & 0x80]
        assert queue[0] in starts
        caller.send(caller.headers("BYE", 2, to_tag) + "Content-Length: 0\r\n\r\n")
        bye = [m for m in await asyncio.to_thread(caller.responses, 0.5) if m.status == 200]
        assert bye and bye[-1].cseq == (2, "BYE")
        [call] = await line.calls()
        assert (call.caller, call.branch) == ("+84987654321", "operator")
        assert call.menu_path == "4"
        assert call.outcome is not None and call.outcome.value == "abandoned_queue"
    finally:
        caller.close()
        await line.phone.stop()


async def test_call_whose_media_goes_silent_is_ended_by_the_line(settings: Settings):
    line = await start_line(line_settings(settings, sip_rtp_timeout=1.0))
    caller = Caller(line.port)
    try:
        caller.invite()
        ok = next(m for m in await asyncio.to_thread(caller.responses, 0.6) if m.status == 200)
        caller.send(
            caller.headers("ACK", 1, f";tag={ok.to_addr.tag}") + "Content-Length: 0\r\n\r\n"
        )
        # The caller never sends RTP (its network "died"): the line sends BYE by itself.
        got = await asyncio.to_thread(caller.responses, 3.0)
        bye = next(m for m in got if m.method == "BYE")
        caller.send(response_to(bye, 200, "OK").serialise().decode())
        [call] = await line.calls()
        # Not the caller abandoning: the line dropped the call.
        assert call.outcome is not None and call.outcome.value == "dropped"
        assert (call.ended_by, call.release_cause) == ("line", "rtp_timeout")
        assert call.ended_at is not None
    finally:
        caller.close()
        await line.phone.stop()
