"""What leaves through the edge names neither the product nor the lines: a refusal's Warning,
the line's Call-IDs and Contact, the REFER's Referred-By. Checked on what peers outside the
edge receive."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path

import pytest

from hotline.settings import Settings
from hotline.telephony.sip.message import Message, parse
from tests.edge.topology import EDGE_HOST, require_tools, running_edge
from tests.telephony.conftest import free_udp_port

pytestmark = pytest.mark.anyio
SCENARIOS = Path(__file__).parent / "scenarios"
# The default OUTSIDE_DOMAIN (the From host of the lines' calls): the hotline's SIP domain as
# carriers know it, set by the operator. Anything else naming the product is a leak.
OUTSIDE = "hotline1022.invalid"


def self_naming(text: str) -> list[str]:
    """The lines of `text` that name the product, the edge's own domain set aside."""
    return [
        line
        for line in text.splitlines()
        if "hotline" in line.lower().replace(OUTSIDE, "") and "x-hotline-source" not in line.lower()
    ]


def received(trace: Path) -> list[str]:
    """The messages sipp received, from its -trace_msg file."""
    text = trace.read_text(errors="replace")
    parts = re.split(r"\n-{20,}[^\n]*\n", text)
    return [p.split("\n\n", 1)[1] for p in parts if " message received " in p.split("\n", 1)[0]]


def not_acceptable_invite(host: str, port: int, edge_port: int) -> bytes:
    body = (
        f"v=0\r\no=- 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"
    )
    return (
        f"INVITE sip:1022@{EDGE_HOST}:{edge_port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK-g729-{port};rport\r\n"
        f"From: <sip:0912345678@{host}>;tag=g729\r\nTo: <sip:1022@{EDGE_HOST}>\r\n"
        f"Call-ID: g729-{port}@{host}\r\nCSeq: 1 INVITE\r\n"
        f"Contact: <sip:0912345678@{host}:{port}>\r\nMax-Forwards: 70\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


async def test_a_refusal_leaving_the_edge_does_not_name_the_product(
    settings: Settings, tmp_path: Path
) -> None:
    """A caller offering only G.729 gets the line's 488 through the edge; its Warning (why)
    carries no product name as its agent."""
    require_tools()
    async with running_edge(settings, tmp_path / "edge") as edge:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            invite = not_acceptable_invite("127.0.0.1", port, edge.sip_port)
            sock.sendto(invite, (EDGE_HOST, edge.sip_port))

            def final() -> tuple[Message, str]:
                sock.settimeout(5)
                while True:
                    data = sock.recv(65535)
                    if (reply := parse(data)).status >= 200:
                        return reply, data.decode(errors="replace")

            reply, text = await asyncio.to_thread(final)
    assert reply.status == 488, text + edge.logs()
    assert reply.get("warning").startswith("399 "), text
    assert self_naming(text) == [], text


async def test_a_lines_refer_through_the_edge_names_neither_the_line_nor_the_product(
    settings: Settings, tmp_path: Path
) -> None:
    """A caller through the edge presses 1: the line's REFER reaches it through the edge, its
    Referred-By (and the rest) without the line's address or the product's name."""
    require_tools()
    trace = tmp_path / "caller.msg"
    async with running_edge(settings, tmp_path / "edge") as edge:
        proc = await asyncio.create_subprocess_exec(
            *(
                "sipp",
                f"{EDGE_HOST}:{edge.sip_port}",
                "-sf",
                str(SCENARIOS / "refer_through_edge.xml"),
            ),
            *(
                "-m",
                "1",
                "-i",
                "127.0.0.1",
                "-p",
                str(free_udp_port()),
                "-mp",
                str(free_udp_port()),
            ),
            *("-d", "1000", "-trace_msg", "-message_file", str(trace)),
            *("-timeout", "25s", "-timeout_error", "-nostdin"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 40)
        assert proc.returncode == 0, out.decode(errors="replace")[-3000:] + edge.logs()
        await edge.line.calls()  # the line's own try at 115 is over before it stops
    refers = [m for m in received(trace) if m.startswith("REFER ")]
    assert refers, trace.read_text(errors="replace")
    assert "Referred-By:" in refers[0], refers[0]
    for message in received(trace):
        assert f":{edge.line.port}" not in message, message
        assert self_naming(message) == [], message
