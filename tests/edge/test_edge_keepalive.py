"""Keep-alives toward operators' phones: those on UDP keep being pinged across a restart of
the edge (the list is written to the edge's store when it stops and read back when it
starts), and those on TCP/TLS have TCP keep-alive on their connection and get a CRLF pong
for their CRLF ping (RFC 5626)."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from pathlib import Path

import pytest

from hotline.settings import Settings
from tests.edge.peers import TlsPhone
from tests.edge.test_edge_nat import PRIVATE, SUPPORTED, keepalives, with_op1
from tests.edge.topology import EDGE_HOST, require_tools, running_edge
from tests.telephony.test_acd import PASSWORD
from tests.telephony.test_door_guard import Peer

pytestmark = pytest.mark.anyio


def drain(peer: Peer) -> None:
    """Forget what already waits on the phone's socket (sent before a restart)."""
    peer.sock.setblocking(False)
    with contextlib.suppress(BlockingIOError):
        while True:
            peer.sock.recv(65535)
    peer.sock.setblocking(True)


async def test_a_phone_on_udp_is_still_kept_alive_after_the_edge_restarts(
    settings: Settings, tmp_path: Path
) -> None:
    """The phone registered once; the edge restarts (SIGTERM, as a service restart does);
    the phone does not register again, and the keep-alives go on from the new process."""
    require_tools()
    conf = settings.model_copy(update={"sip_agent_poll_seconds": 0.2})
    defines = ("KEEPALIVE_INTERVAL=1",)
    async with running_edge(conf, tmp_path / "edge", defines=defines) as edge:
        await with_op1(settings, edge.line.phone.ua)
        peer = Peer(0)
        peer.server = (EDGE_HOST, edge.sip_port)
        try:
            status = await asyncio.to_thread(
                peer.register, "op1", PASSWORD, SUPPORTED, f"sip:op1@{PRIVATE}"
            )
            assert status == 200, edge.logs()
            before = await asyncio.to_thread(keepalives, peer.sock, 2.5)
            await edge.restart_kamailio()
            drain(peer)
            after = await asyncio.to_thread(keepalives, peer.sock, 3.5)
            logged = edge.kamailio_log
        finally:
            peer.close()
    assert before, logged[-3000:]
    assert len(after) >= 2, logged[-3000:]
    assert {addr for addr, _ in after} == {(EDGE_HOST, edge.sip_port)}, after
    assert f"edge: keep-alives resumed to sip:127.0.0.1:{peer.port}" in logged, logged[-3000:]


def edge_side(tls_port: int, phone_port: int) -> str:
    """`ss` on the edge's end of the phone's connection: its timers (-o)."""
    return subprocess.run(
        [
            *("ss", "-tnoH", "state", "established"),
            f"( sport = :{tls_port} and dport = :{phone_port} )",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout


async def test_a_phone_on_tls_has_tcp_keepalive_and_its_crlf_ping_is_answered(
    settings: Settings, tmp_path: Path
) -> None:
    """The edge's end of the phone's TLS connection has TCP keep-alive on (the kernel probes
    it after TCP_KEEPIDLE quiet seconds: `ss` shows its keepalive timer), and the phone's
    CRLF ping (RFC 5626 §4.4.1) gets its CRLF pong on the same connection."""
    require_tools()
    conf = settings.model_copy(update={"sip_agent_poll_seconds": 0.2})
    async with running_edge(conf, tmp_path / "edge") as edge:
        await with_op1(settings, edge.line.phone.ua)
        phone = await asyncio.to_thread(TlsPhone, EDGE_HOST, edge.tls_port)
        try:
            status = await asyncio.to_thread(phone.register_tls, "op1", PASSWORD)
            assert status == 200, edge.logs()
            # While the edge's 200 is unacknowledged, ss shows the retransmission timer
            # instead: looked at until the connection is quiet.
            for _ in range(30):
                sockets = await asyncio.to_thread(edge_side, edge.tls_port, phone.port)
                if "timer:(on," not in sockets:
                    break
                await asyncio.sleep(0.1)
            phone.sock.sendall(b"\r\n\r\n")
            phone.sock.settimeout(5)
            pong = phone.sock.recv(16)
        finally:
            phone.sock.close()
    assert sockets.strip(), "no connection seen from the edge's side"
    assert "timer:(keepalive," in sockets, sockets
    assert pong == b"\r\n", pong
