"""A real softphone as the operator's phone: baresip (headless, its own config directory)
REGISTERs with digest, auto-answers a queued call, and the line bridges it to a caller. What
each side *heard* is checked by its spectrum: the caller sends a 600 Hz tone and must hear
baresip's 1400 Hz; baresip must record the caller's 600 Hz."""

from __future__ import annotations

import asyncio
import contextlib
import math
import select
import shutil
import signal
import socket
import struct
import threading
import time
import wave
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hotline.db import create_engine, make_sessionmaker
from hotline.events import EventBus
from hotline.settings import Settings
from hotline.site import Site
from hotline.telephony.media.g711 import decode, encode
from hotline.telephony.sip.message import Message, parse
from tests.conftest import missing_tool
from tests.telephony.conftest import (
    Line,
    free_udp_port,
    line_settings,
    on_duty,
    start_line,
    web_feed,
)
from tests.telephony.test_acd import PASSWORD, QUEUE_TEXTS, add_operator, agent_row

pytestmark = pytest.mark.anyio
RATE = 8000
SECOND = 2 * RATE  # bytes of 16-bit PCM
CALLER_HZ = 600.0  # neither is the line's stand-in tone (440 Hz) nor a harmonic of the other
PHONE_HZ = 1400.0
MODULES = "/usr/lib/baresip/modules"


def sine_pcm(hz: float, seconds: float, amplitude: float = 0.3) -> bytes:
    """16-bit little-endian mono PCM at 8 kHz."""
    count = int(RATE * seconds)
    peak = amplitude * 32767
    return struct.pack(
        f"<{count}h", *(round(peak * math.sin(2 * math.pi * hz * i / RATE)) for i in range(count))
    )


def spectrum_peak(pcm: bytes, low: float = 100.0, high: float = 3500.0) -> tuple[float, float]:
    """The strongest frequency (10 Hz steps, Goertzel) and its share of the scanned power."""
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm[: len(pcm) // 2 * 2])
    powers = {}
    for step in range(int(low), int(high) + 1, 10):
        coeff = 2 * math.cos(2 * math.pi * step / RATE)
        s1 = s2 = 0.0
        for x in samples:
            s1, s2 = x + coeff * s1 - s2, s1
        powers[step] = s1 * s1 + s2 * s2 - coeff * s1 * s2
    best = max(powers, key=powers.__getitem__)
    # A pure tone leaks into the neighbouring bins: count ±20 Hz around the peak as the tone.
    near = sum(p for f, p in powers.items() if abs(f - best) <= 20)
    return float(best), near / sum(powers.values())


@dataclass
class Caller:
    """A SIP/RTP caller over UDP (blocking sockets, used from threads so the line's loop runs).
    It offers A-law, sends a tone as RTP every 20 ms and keeps what the line sends back."""

    server_port: int
    sip: socket.socket = field(init=False)
    rtp: socket.socket = field(init=False)
    heard: list[tuple[float, bytes]] = field(default_factory=list)
    to_tag: str = ""
    media: tuple[str, int] = ("127.0.0.1", 0)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind(("127.0.0.1", 0))
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))

    def close(self) -> None:
        self.sip.close()
        self.rtp.close()

    def request(self, method: str, cseq: int, body: str = "", content_type: str = "") -> None:
        port = self.sip.getsockname()[1]
        head = (
            f"{method} sip:1022@127.0.0.1:{self.server_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-bs-{method}{cseq}\r\n"
            f"From: <sip:0912345678@127.0.0.1>;tag=baresip-test\r\n"
            f"To: <sip:1022@127.0.0.1>{self.to_tag}\r\n"
            f"Call-ID: baresip-bridge-1\r\nCSeq: {cseq} {method}\r\n"
            f"Contact: <sip:0912345678@127.0.0.1:{port}>\r\nMax-Forwards: 70\r\n"
        )
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        text = f"{head}Content-Length: {len(body)}\r\n\r\n{body}"
        self.sip.sendto(text.encode(), ("127.0.0.1", self.server_port))

    def invite(self) -> None:
        sdp = (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {self.rtp.getsockname()[1]} RTP/AVP 8 101\r\n"
            "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
        )
        self.request("INVITE", 1, sdp, "application/sdp")

    def wait_for(self, wanted: Callable[[Message], bool], seconds: float) -> Message:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.sip.settimeout(left)
            with contextlib.suppress(TimeoutError):
                message = parse(self.sip.recv(65535))
                if wanted(message):
                    return message
        raise AssertionError(f"no such SIP message within {seconds} s")

    def talk(self, pcm: bytes) -> None:
        """Send `pcm` as A-law RTP on a 20 ms grid (looping), recording what arrives meanwhile."""
        frames = [encode(pcm[i : i + 320], 8) for i in range(0, len(pcm) - 319, 320)]
        start, n = time.monotonic(), 0
        while not self._stop.is_set():
            due = start + n * 0.02
            while (wait := due - time.monotonic()) > 0:
                ready, _, _ = select.select([self.rtp], [], [], wait)
                if ready:
                    with contextlib.suppress(OSError):
                        self.heard.append((time.monotonic(), self.rtp.recv(2048)))
            header = struct.pack("!BBHII", 0x80, 8, n & 0xFFFF, 160 * n, 0x600)
            with contextlib.suppress(OSError):
                self.rtp.sendto(header + frames[n % len(frames)], self.media)
            n += 1

    def stop_talking(self) -> None:
        self._stop.set()


@dataclass
class Baresip:
    process: asyncio.subprocess.Process
    directory: Path
    log: Path


@pytest.fixture
def baresip_installed() -> None:
    if shutil.which("baresip") is None:
        missing_tool("baresip is not installed (make debian-test-deps installs baresip-core)")


@pytest.fixture
async def bus(settings: Settings) -> AsyncIterator[EventBus]:
    """The consoles' events as a web process reads them from the event log."""
    async with web_feed(settings) as web:
        yield web


@pytest.fixture
async def bridge_line(settings: Settings, baresip_installed: None) -> AsyncIterator[Line]:
    running = await start_line(
        line_settings(settings, sip_agent_poll_seconds=0.2), texts=QUEUE_TEXTS
    )
    yield running
    await running.phone.stop()


def write_wav(path: Path, pcm: bytes) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm)


def read_wav(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        return wav.readframes(wav.getnframes())


def _free_udp_and_tcp_port() -> int:
    """A port free for UDP and TCP alike: baresip opens its SIP port on both, and a port
    free for UDP alone may be some other test's TCP connection (workers run side by side)."""
    for _ in range(50):
        port = free_udp_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            try:
                tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no port free for both UDP and TCP on 127.0.0.1")


def baresip_config(directory: Path, *, line_port: int, user: str) -> None:
    """A headless phone: no sound card (aufile plays a WAV as the microphone, sndfile writes
    what is heard), G.711 only, auto-answer (the menu module acts on `answermode=auto`).
    aubridge is only a player that goes nowhere: the sndfile filter has written the decoded
    audio before it. The phone listens on 127.0.0.1 so its Contact and SDP name loopback."""
    (directory / "dump").mkdir(parents=True)
    write_wav(directory / "mic.wav", sine_pcm(PHONE_HZ, 30))  # aufile hangs up at its end
    sip_port = _free_udp_and_tcp_port()
    (directory / "config").write_text(
        f"""sip_listen 127.0.0.1:{sip_port}
audio_source aufile,{directory / "mic.wav"}
audio_player aubridge,nowhere
audio_alert aubridge,nowhere
module_path {MODULES}
module g711.so
module aufile.so
module aubridge.so
module sndfile.so
module_tmp account.so
module_app menu.so
snd_path {directory / "dump"}
"""
    )
    (directory / "accounts").write_text(
        f"<sip:{user}@127.0.0.1:{line_port}>;auth_pass={PASSWORD};regint=60;"
        "answermode=auto;audio_codecs=PCMA,PCMU\n"
    )
    (directory / "contacts").write_text("")


async def start_baresip(directory: Path) -> Baresip:
    log = directory / "baresip.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            "baresip",
            "-f",
            str(directory),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    return Baresip(process, directory, log)


async def stop_baresip(phone: Baresip) -> None:
    if phone.process.returncode is not None:
        return
    phone.process.send_signal(signal.SIGTERM)  # it unregisters and closes its files
    try:
        await asyncio.wait_for(phone.process.wait(), 5)
    except TimeoutError:
        phone.process.kill()
        await phone.process.wait()


async def poll(check: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        await asyncio.sleep(0.05)


async def test_baresip_operator_answers_a_queued_call_and_audio_flows_both_ways(
    settings: Settings, bridge_line: Line, bus: EventBus, tmp_path: Path
):
    user_id = await add_operator(settings, available=False)
    ua = bridge_line.phone.ua
    assert ua is not None
    await poll(lambda: "op1" in ua.credentials, 5, "the line's poll loads op1's SIP login")
    directory = tmp_path / "baresip"
    baresip_config(directory, line_port=bridge_line.port, user="op1")
    phone = await start_baresip(directory)
    caller = Caller(bridge_line.port)
    talking: asyncio.Future[None] | None = None
    try:
        await poll(
            lambda: ua.registrar.lookup("op1") or phone.process.returncode is not None,
            10,
            "baresip registers",
        )
        assert phone.process.returncode is None, phone.log.read_text()
        await _set_available(settings, user_id)

        async with bus.subscribe() as events:
            caller.invite()
            ok = await asyncio.to_thread(caller.wait_for, lambda m: m.status == 200, 5)
            caller.to_tag = f";tag={ok.to_addr.tag}"
            caller.request("ACK", 1)
            answer = ok.body.decode()
            caller.media = ("127.0.0.1", int(answer.split("m=audio ")[1].split()[0]))
            tone = sine_pcm(CALLER_HZ, 1.0)
            talking = asyncio.ensure_future(asyncio.to_thread(caller.talk, tone))
            # Key 4 (SIP INFO): the operator queue; the line rings baresip, which answers.
            caller.request("INFO", 2, "Signal=4\r\nDuration=160\r\n", "application/dtmf-relay")
            async with asyncio.timeout(10):
                while (event := await events.get()).kind != "call.answered":
                    pass
        answered = time.monotonic()
        assert event.data["operator_id"] == user_id
        await asyncio.sleep(2.5)  # the conversation
        caller.request("BYE", 3)
        await asyncio.to_thread(caller.wait_for, lambda m: m.cseq == (3, "BYE"), 5)
        [call] = await bridge_line.calls()
    finally:
        caller.stop_talking()
        if talking is not None:
            with contextlib.suppress(Exception):  # a failure above is the one to report
                await talking
        caller.close()
        await stop_baresip(phone)  # SIGTERM: it unregisters and closes its recordings

    assert call.outcome is not None and call.outcome.value == "answered"
    assert (call.branch, call.operator_id, call.menu_path) == ("operator", user_id, "4")
    assert call.answered_at is not None and call.answered_at >= call.started_at
    assert call.queue_wait_seconds is not None and 0 <= call.queue_wait_seconds <= 5
    assert call.talk_seconds >= 2
    agent = await agent_row(bridge_line, user_id)
    assert agent.status.value == "available" and agent.current_call_id is None

    # What reached the caller once bridged: baresip's tone, relayed (re-stamped) in A-law.
    bridged = b"".join(
        p[12:] for t, p in caller.heard if t > answered + 0.3 and len(p) > 12 and p[1] & 0x7F == 8
    )
    assert len(bridged) >= RATE, "less than a second of audio reached the caller after the answer"
    hz, share = spectrum_peak(decode(bridged[-RATE:], 8))
    assert abs(hz - PHONE_HZ) <= 10 and share > 0.8, (hz, share)

    # What baresip heard: its decoded stream as the sndfile module wrote it.
    recordings = sorted((directory / "dump").glob("*-dec.wav"))
    assert len(recordings) == 1, phone.log.read_text()[-3000:]
    [recording] = recordings
    pcm = read_wav(recording)
    assert len(pcm) >= 2 * SECOND, f"baresip recorded {len(pcm) / SECOND:.2f} s"
    hz, share = spectrum_peak(pcm[SECOND // 2 : SECOND // 2 + SECOND])  # after the start-up
    assert abs(hz - CALLER_HZ) <= 10 and share > 0.8, (hz, share)


async def _set_available(settings: Settings, user_id: int) -> None:
    engine = create_engine(settings.effective_database_url, pool_size=2)
    try:
        sessionmaker = make_sessionmaker(engine, Site.from_settings(settings))
        async with sessionmaker() as session, session.begin():
            await on_duty(session, user_id)
    finally:
        await engine.dispose()
