"""Which side a request came from, and more than one line: a line's request is taken only
from the lines' socket (a UDP source address is easy to forge on the public one), and a
phone's REGISTER fails over to another line when the one its Call-ID picks is down."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from hotline.settings import Settings
from hotline.telephony.sip.message import parse, response_to
from tests.edge.peers import FarEnd, sdp
from tests.edge.topology import EDGE_HOST, require_tools, running_edge
from tests.telephony.test_acd import PASSWORD, add_operator
from tests.telephony.test_baresip import poll
from tests.telephony.test_door_guard import Peer

pytestmark = pytest.mark.anyio


def lines_invite(source: socket.socket, edge_port: int, target: str, n: int) -> bytes:
    """An INVITE as a line sends one out through the edge (its outbound proxy)."""
    host, port = source.getsockname()
    body = sdp(host, 4000)
    return (
        f"INVITE {target} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK-spoof{n};rport\r\n"
        f"Route: <sip:{EDGE_HOST}:{edge_port};lr>\r\nMax-Forwards: 70\r\n"
        f"From: <sip:84912345678@{host}:{port}>;tag=s{n}\r\nTo: <{target}>\r\n"
        f"Call-ID: spoof-{n}-{port}@hotline\r\nCSeq: 1 INVITE\r\n"
        f"Contact: <sip:hotline@{host}:{port}>\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def test_a_request_from_a_lines_address_on_the_public_socket_is_not_a_lines(
    settings: Settings, tmp_path: Path
) -> None:
    """The second line of the list is a socket of the test's: what it sends to the public
    side, looking like a line's call out, is an outsider's request (not relayed out); the
    same sent to the lines' side is relayed."""
    require_tools()
    spoofer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    spoofer.bind(("127.0.0.1", 0))
    spoofed_line = f"sip:127.0.0.1:{spoofer.getsockname()[1]}"
    far = FarEnd()
    target = f"sip:115@127.0.0.1:{far.port}"
    try:
        async with running_edge(settings, tmp_path / "edge", more_lines=(spoofed_line,)) as edge:
            spoofer.sendto(
                lines_invite(spoofer, edge.sip_port, target, 1), (EDGE_HOST, edge.sip_port)
            )
            with pytest.raises(TimeoutError):
                await asyncio.to_thread(far.recv, 3, lambda m: m.method == "INVITE")
            # Control: from the lines' side the same request is a line's, relayed out.
            spoofer.sendto(
                lines_invite(spoofer, edge.lines_port, target, 2), (EDGE_HOST, edge.lines_port)
            )
            invite, _ = await asyncio.to_thread(far.recv, 5, lambda m: m.method == "INVITE")
            logged = edge.kamailio_log
    finally:
        spoofer.close()
        far.close()
    assert invite.get("from").endswith(";tag=s2") or "tag=s2" in invite.get("from"), invite
    calls_out = [line for line in logged.splitlines() if "edge: line 127.0.0.1 calls" in line]
    assert len(calls_out) == 1, logged


class DeadLine:
    """A line that is down: a socket that answers nothing (or 503 to REGISTER, a full line).
    What reached it is kept."""

    def __init__(self, answer: int | None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        self.registers = 0
        self.stopped = False

    def run(self) -> None:
        while not self.stopped:
            try:
                data, addr = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            message = parse(data)
            if message.method != "REGISTER":
                continue
            self.registers += 1
            if self.answer is not None:
                reply = response_to(message, self.answer, "Service Unavailable")
                self.sock.sendto(reply.serialise(), addr)


@pytest.mark.parametrize("answer", [None, 503], ids=["silent", "503"])
async def test_a_phones_register_fails_over_when_its_line_is_down(
    settings: Settings, tmp_path: Path, answer: int | None
) -> None:
    """Two lines, the second down (and not yet found out by the edge's probes): every
    phone registers, those whose Call-ID picks the dead line through the other one."""
    require_tools()
    dead = DeadLine(answer)
    conf = settings.model_copy(update={"sip_agent_poll_seconds": 0.2})
    # Probes far apart (the edge would otherwise take the dead line out before any REGISTER)
    # and a short transaction timer (the phone waits 2 s for its challenge).
    defines = ("PING_INTERVAL=600", "FR_TIMER=1000")
    running = asyncio.ensure_future(asyncio.to_thread(dead.run))
    statuses: list[int] = []
    try:
        async with running_edge(
            conf, tmp_path / "edge", defines=defines, more_lines=(f"sip:127.0.0.1:{dead.port}",)
        ) as edge:
            await add_operator(settings, available=False)
            ua = edge.line.phone.ua
            assert ua is not None
            await poll(lambda: "op1" in ua.credentials, 5, "the line's poll loads op1's login")
            for _ in range(30):  # new Call-IDs until one picked the dead line
                phone = Peer(0)
                phone.server = (EDGE_HOST, edge.sip_port)
                try:
                    statuses.append(
                        await asyncio.to_thread(
                            phone.register, "op1", PASSWORD, "Supported: path\r\n"
                        )
                    )
                finally:
                    phone.close()
                if dead.registers:
                    break
            logged = edge.kamailio_log
    finally:
        dead.stopped = True
        await running
        dead.sock.close()
    assert dead.registers, "no REGISTER's Call-ID picked the dead line"
    assert statuses and set(statuses) == {200}, (statuses, logged[-3000:])
    assert "edge: failover REGISTER " in logged, logged[-3000:]
