"""The edge (deploy/edge) in front of a line: a caller over TLS reaches the menu, a flood from
one address is stopped by pike while a call from elsewhere goes on, and a caller speaking SRTP
is heard by the line (plain RTP behind rtpengine) and hears it. Kamailio and rtpengine run the
checked-in configuration; the line trusts the edge's X-Hotline-Source."""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import socket
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.settings import Settings
from hotline.telephony.media.g711 import decode
from hotline.telephony.sip.leg import SipLeg
from tests.edge.topology import (
    EDGE_HOST,
    TRUNK_PASSWORD,
    TRUNK_USER,
    Edge,
    baresip_config,
    require_tools,
    running_edge,
    start_baresip,
    stop_baresip,
)
from tests.telephony.conftest import SCENARIOS, free_udp_port
from tests.telephony.test_baresip import (
    PHONE_HZ,
    RATE,
    poll,
    read_wav,
    sine_pcm,
    spectrum_peak,
    write_wav,
)

pytestmark = pytest.mark.anyio
TRUNK_SCENARIOS = Path(__file__).parent / "scenarios"
FLOOD_INVITES = 400


@pytest.fixture
async def edge(settings: Settings, tmp_path: Path) -> AsyncIterator[Edge]:
    require_tools()
    # The line ends calls after 6 s itself (its sweeper checks every 3 s): the TLS test waits
    # for that, to see the line's BYE reach the caller over its TLS connection.
    line = settings.model_copy(update={"sip_max_call_seconds": 6.0})
    async with running_edge(line, tmp_path / "edge") as running:
        yield running


async def sipp(*args: str, timeout: float = 40) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        "sipp", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode("utf-8", "replace")[-3000:]


async def call_through_edge(
    edge: Edge,
    tmp_path: Path,
    *,
    transport: str,
    mediaenc: str = "",
    seconds: float = 4.0,
    line_hangs_up: bool = False,
) -> tuple[SipLeg, bytes, Path]:
    """baresip calls 1022 through the edge, sending a PHONE_HZ tone, for `seconds` once the
    line has the call, then hangs up (or, with `line_hangs_up`, waits for the line's BYE).
    The line's leg, the RTP the line received, baresip's directory."""
    require_tools(("baresip", "baresip-core"))
    directory = tmp_path / "baresip"
    mic = tmp_path / "mic.wav"
    write_wav(mic, sine_pcm(PHONE_HZ, 30))  # aufile hangs up at its end: longer than the call
    baresip_config(directory, mediaenc=mediaenc, mic=mic)
    port = edge.tls_port if transport == "tls" else edge.sip_port
    phone = await start_baresip(directory, f"sip:1022@{EDGE_HOST}:{port};transport={transport}")
    ua = edge.line.phone.ua
    assert ua is not None
    heard: list[bytes] = []
    try:
        await poll(
            lambda: ua.calls or phone.returncode is not None, 10, "the call reaches the line"
        )
        assert phone.returncode is None, (directory / "baresip.log").read_text()[-3000:]
        [leg] = ua.calls.values()
        leg.rtp.tap = heard.append  # what the line receives from the caller
        if line_hangs_up:
            await poll(lambda: not ua.calls, 15, "the line hangs up")
            await poll(lambda: ended(directory), 5, "the line's BYE reaches baresip")
        else:
            await asyncio.sleep(seconds)
    finally:
        await stop_baresip(phone)  # SIGTERM: baresip hangs up (BYE) and closes its files
    await poll(lambda: not ua.calls, 10, "the caller's BYE ends the call")
    received = b"".join(p[12:] for p in heard if len(p) > 12 and p[1] & 0x7F == 0)
    return leg, received, directory


def established(directory: Path) -> bool:
    return "Call established" in (directory / "baresip.log").read_text(errors="replace")


def ended(directory: Path) -> bool:
    return "terminated (duration" in (directory / "baresip.log").read_text(errors="replace")


def what_baresip_heard(directory: Path) -> bytes:
    [dump] = (directory / "dump").glob("*-dec.wav")
    return read_wav(dump)


def rms(pcm: bytes) -> float:
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm[: len(pcm) // 2 * 2])
    return math.sqrt(sum(x * x for x in samples) / max(1, len(samples)))


async def test_a_caller_over_tls_reaches_the_menu_through_the_edge(
    edge: Edge, tmp_path: Path
) -> None:
    leg, _, directory = await call_through_edge(edge, tmp_path, transport="tls", line_hangs_up=True)
    assert established(directory), edge.logs()
    # Topology hiding: nothing the caller received (baresip's SIP trace, SDP included) names
    # the line's SIP address or its RTP port; the edge masked Via and Contact.
    trace = (directory / "baresip.log").read_text(errors="replace")
    assert f"127.0.0.1:{edge.line.port}" not in trace
    assert f"m=audio {leg.rtp_port} " not in trace
    assert "sip:hotline@" not in trace
    assert re.search(r"edge: dispatch \S+ from 127\.0\.0\.1 over tls", edge.kamailio_log)
    # Call-ID masking (topoh mask_callid) leaves a Call-ID from outside as it came, both ways:
    # every message the caller saw, the line's BYE included, carries the caller's own.
    call_ids = set(re.findall(r"^Call-ID: (\S+)", trace, re.M))
    assert len(call_ids) == 1 and not call_ids.pop().startswith("!!:"), call_ids
    # The menu played to the caller: what baresip heard is not silence.
    assert rms(what_baresip_heard(directory)) > 300
    [call] = await edge.line.calls()
    assert call.caller == "+84912345678"
    # The record's Call-ID is the one the caller used (and the edge logged).
    assert call.sip_call_id is not None and call.sip_call_id in trace
    assert f"edge: dispatch {call.sip_call_id} " in edge.kamailio_log


async def test_srtp_caller_and_the_line_hear_each_other_through_rtpengine(
    edge: Edge, tmp_path: Path
) -> None:
    # SDES keys travel in the SDP, so SRTP goes with TLS; srtp-mand: baresip offers
    # RTP/SAVP and fails the call unless the answer is SRTP too.
    leg, received, directory = await call_through_edge(
        edge, tmp_path, transport="tls", mediaenc="srtp-mand"
    )
    assert established(directory), edge.logs()
    # The line got plain RTP/AVP, no keys, from rtpengine, not the caller's address.
    offer = leg.invite.body.decode()
    assert "RTP/AVP" in offer and "RTP/SAVP" not in offer and "a=crypto" not in offer, offer
    # Caller -> line: the caller's tone, decrypted by rtpengine.
    assert len(received) >= RATE, "less than a second of the caller's audio reached the line"
    hz, share = spectrum_peak(decode(received[-RATE:], 0))
    assert abs(hz - PHONE_HZ) <= 10 and share > 0.8, (hz, share)
    # Line -> caller: the menu, encrypted by rtpengine, decrypted by baresip.
    assert rms(what_baresip_heard(directory)) > 300
    assert "RTP/SAVP" in edge.rtpengine_log or "SRTP" in edge.rtpengine_log.upper()


def flood_invite(n: int, port: int, host: str, target: tuple[str, int]) -> bytes:
    return (
        f"INVITE sip:1022@{target[0]}:{target[1]} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK-flood{n}\r\n"
        f"From: <sip:0900000000@{host}>;tag=f{n}\r\n"
        f"To: <sip:1022@{target[0]}>\r\nCall-ID: flood-{n}\r\n"
        "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
        f"Contact: <sip:0900000000@{host}:{port}>\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def flood(count: int, target: tuple[str, int]) -> None:
    """INVITEs as fast as a socket sends them, from 127.0.0.3, each a new call."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.3", 0))
        port = sock.getsockname()[1]
        for n in range(count):
            sock.sendto(flood_invite(n, port, "127.0.0.3", target), target)


async def test_a_flood_from_one_address_is_stopped_while_another_callers_call_goes_on(
    edge: Edge,
) -> None:
    good = asyncio.ensure_future(
        sipp(
            f"{EDGE_HOST}:{edge.sip_port}",
            *("-sf", str(SCENARIOS / "call_hold_hangup.xml"), "-m", "1", "-d", "3000"),
            *("-i", "127.0.0.2", "-p", str(free_udp_port("127.0.0.2"))),
            *("-mp", str(free_udp_port("127.0.0.2"))),
            *("-timeout", "25s", "-timeout_error", "-nostdin"),
        )
    )
    await asyncio.sleep(0.5)  # the good call is up when the flood starts
    await asyncio.to_thread(flood, FLOOD_INVITES, (EDGE_HOST, edge.sip_port))
    code, out = await good
    assert code == 0, out + edge.logs()
    log = edge.kamailio_log
    assert "edge: pike blocking INVITE from 127.0.0.3" in log, edge.logs()
    let_through = len(re.findall(r"edge: dispatch flood-\d+ from 127\.0\.0\.3", log))
    # pike's density is 30 requests per 2 s: what passed before the ban, a small share.
    assert let_through < FLOOD_INVITES // 4, let_through
    assert re.search(r"edge: dispatch \S+ from 127\.0\.0\.2 over udp", log)


async def test_new_calls_over_the_edges_rate_get_503_with_retry_after(
    settings: Settings, tmp_path: Path
) -> None:
    """ratelimit's pipe caps new calls from all sources together (here 2 a second, with
    pike's per-address density raised out of the way)."""
    require_tools()
    defines = ('CALL_PIPE="1:TAILDROP:2"', "PIKE_REQS=1000")
    async with running_edge(settings, tmp_path / "edge", defines=defines) as edge:
        loop = asyncio.get_running_loop()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.2", 0))
            sock.setblocking(False)
            port = sock.getsockname()[1]
            for n in range(10):
                sock.sendto(
                    flood_invite(n, port, "127.0.0.2", (EDGE_HOST, edge.sip_port)),
                    (EDGE_HOST, edge.sip_port),
                )
            busy: list[bytes] = []
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(3):
                    while True:
                        reply = await loop.sock_recv(sock, 65535)
                        if reply.startswith(b"SIP/2.0 503"):
                            busy.append(reply)
    assert busy, edge.logs()
    assert all(b"\r\nRetry-After: 5\r\n" in reply for reply in busy)


@pytest.mark.parametrize(
    ("password", "scenario"),
    [(TRUNK_PASSWORD, "trunk_digest_call.xml"), ("guessed", "trunk_digest_refused.xml")],
)
async def test_a_trunk_known_by_digest_calls_through_the_edge(
    edge: Edge, password: str, scenario: str
) -> None:
    """From 127.0.0.4, not a trunk address: the line challenges through the edge, and takes
    the call only with the right password."""
    code, out = await sipp(
        f"{EDGE_HOST}:{edge.sip_port}",
        *("-sf", str(TRUNK_SCENARIOS / scenario), "-m", "1"),
        *("-au", TRUNK_USER, "-ap", password),
        *("-i", "127.0.0.4", "-p", str(free_udp_port("127.0.0.4"))),
        *("-mp", str(free_udp_port("127.0.0.4"))),
        *("-timeout", "25s", "-timeout_error", "-nostdin"),
    )
    assert code == 0, out + edge.logs()
    assert re.search(r"edge: dispatch \S+ from 127\.0\.0\.4 over udp", edge.kamailio_log)
    calls = await edge.line.calls()
    assert len(calls) == (1 if password == TRUNK_PASSWORD else 0)
