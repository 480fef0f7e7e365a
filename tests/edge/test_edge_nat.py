"""Phones that are not where their Contact says: behind NAT on UDP (a private address in
Contact, the packets from another), and on TCP/TLS (reachable only through the connection
they opened). The line rings them through the edge as its queue does."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from pathlib import Path

import pytest

from hotline.settings import Settings
from hotline.telephony.sip.message import parse, response_to
from hotline.telephony.sip.route import routed
from hotline.telephony.sip.ua import UserAgent
from tests.edge.peers import FarEnd, TlsPhone, place_call
from tests.edge.test_edge_neutral import self_naming
from tests.edge.topology import EDGE_HOST, require_tools, running_edge
from tests.telephony.test_acd import PASSWORD, add_operator
from tests.telephony.test_baresip import poll
from tests.telephony.test_door_guard import Peer

pytestmark = pytest.mark.anyio
PRIVATE = "10.20.30.40:5060"  # what the phone writes: its address inside the NAT
# A phone registering through the edge takes the Path the edge adds (RFC 3327).
SUPPORTED = "Supported: path\r\n"


async def with_op1(settings: Settings, ua: UserAgent | None) -> UserAgent:
    await add_operator(settings, available=False)
    assert ua is not None
    await poll(lambda: "op1" in ua.credentials, 5, "the line's poll loads op1's SIP login")
    return ua


async def test_a_phone_behind_nat_on_udp_gets_the_dialogs_requests(
    settings: Settings, tmp_path: Path
) -> None:
    """The phone registers and answers with a private Contact while sending from loopback:
    the line's ACK and BYE (requests to that Contact) reach the address it was seen from."""
    require_tools()
    conf = settings.model_copy(update={"sip_agent_poll_seconds": 0.2})
    async with running_edge(conf, tmp_path / "edge") as edge:
        ua = await with_op1(settings, edge.line.phone.ua)
        peer = Peer(0)
        peer.server = (EDGE_HOST, edge.sip_port)
        phone = FarEnd(contact=PRIVATE, sock=peer.sock)
        try:
            status = await asyncio.to_thread(
                peer.register, "op1", PASSWORD, SUPPORTED, f"sip:op1@{PRIVATE}"
            )
            assert status == 200, edge.logs()
            binding = ua.registrar.lookup("op1")
            assert binding is not None and PRIVATE in binding.contact, binding
            where = routed(binding.contact, binding.path)
            assert where is not None
            answering = asyncio.ensure_future(asyncio.to_thread(phone.answer, 5))
            out = await place_call(ua, where)
            with contextlib.suppress(TimeoutError):
                await answering  # the ACK came, or TimeoutError below
            acked = any(m.method == "ACK" for m in phone.received)
            hanging_up = asyncio.ensure_future(asyncio.to_thread(phone.answer_bye, 5))
            await out.hangup()
            with contextlib.suppress(TimeoutError):
                await hanging_up
            got_bye = any(m.method == "BYE" for m in phone.received)
            logged = edge.kamailio_log
        finally:
            phone.close()
    assert out.answered
    assert acked, "the line's ACK did not reach the phone\n" + logged[-3000:]
    assert got_bye, "the line's BYE did not reach the phone\n" + logged[-3000:]


async def test_a_phone_whose_tls_connection_is_gone_is_not_redialled(
    settings: Settings, tmp_path: Path
) -> None:
    """The phone registered over TLS, then its connection died (the NAT forgot it, the
    phone went away). The line's call to it is answered 480 by the edge at once, and
    the edge opens no connection to the address the phone was seen from (which may now
    be anyone's): a listener there sees nothing."""
    require_tools()
    conf = settings.model_copy(update={"sip_agent_poll_seconds": 0.2})
    async with running_edge(conf, tmp_path / "edge") as edge:
        ua = await with_op1(settings, edge.line.phone.ua)
        phone = await asyncio.to_thread(TlsPhone, EDGE_HOST, edge.tls_port)
        try:
            status = await asyncio.to_thread(phone.register_tls, "op1", PASSWORD)
        finally:
            # The connection is gone, reset (no TIME_WAIT keeps its address).
            phone.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            phone.sock.close()
        assert status == 200, edge.logs()
        binding = ua.registrar.lookup("op1")
        assert binding is not None
        where = routed(binding.contact, binding.path)
        assert where is not None
        # Someone else now listens at the address the phone's connection came from.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((phone.host, phone.port))
        listener.listen(4)
        listener.setblocking(False)
        try:
            await asyncio.sleep(0.5)  # the edge has seen the connection close
            out = await place_call(ua, where, ring_seconds=5)
            await asyncio.sleep(0.5)
            with pytest.raises(BlockingIOError):
                listener.accept()[0].close()
            logged = edge.kamailio_log
        finally:
            listener.close()
    assert out.status == 480, (out.status, logged[-3000:])
    assert "no connection to sip:127.0.0.1:" in logged, logged[-3000:]


def keepalives(sock: socket.socket, seconds: float, answer: bool = True) -> list[tuple]:
    """The OPTIONS a phone's socket receives within `seconds` (answered 200): their sources."""
    seen = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data, addr = sock.recvfrom(65535)
        except TimeoutError:
            break
        message = parse(data)
        if message.method == "OPTIONS":
            seen.append((addr, message))
            if answer:
                sock.sendto(response_to(message, 200, "OK").serialise(), addr)
    return seen


async def test_a_phone_on_udp_gets_keepalives_from_the_edge(
    settings: Settings, tmp_path: Path
) -> None:
    """A phone registered through the edge over UDP (behind NAT: its Contact is private) gets
    OPTIONS from the edge's public address every KEEPALIVE_INTERVAL, which keep its NAT
    mapping open; they name neither the product nor the line."""
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
            seen = await asyncio.to_thread(keepalives, peer.sock, 3.5)
            logged = edge.kamailio_log
        finally:
            peer.close()
    assert len(seen) >= 2, logged[-3000:]
    for addr, options in seen:
        assert addr == (EDGE_HOST, edge.sip_port), addr
        text = options.serialise().decode()
        assert self_naming(text) == [] and f":{edge.line.port}" not in text, text
    assert f"edge: keep-alives to sip:127.0.0.1:{peer.port} for sip:op1@" in logged, logged[-3000:]


async def test_a_phone_whose_nat_moved_it_is_rung_and_kept_alive_at_its_new_port(
    settings: Settings, tmp_path: Path
) -> None:
    """The phone's NAT gave it a new port: its next REGISTER (the same registration, its
    Call-ID) comes from there. The line's call reaches the new port at once, the
    keep-alives follow it, and the old port gets nothing more."""
    require_tools()
    conf = settings.model_copy(update={"sip_agent_poll_seconds": 0.2})
    defines = ("KEEPALIVE_INTERVAL=1",)
    async with running_edge(conf, tmp_path / "edge", defines=defines) as edge:
        ua = await with_op1(settings, edge.line.phone.ua)
        old, new = Peer(0), Peer(0)
        for peer in (old, new):
            peer.server = (EDGE_HOST, edge.sip_port)
        call_id = f"moving-{old.port}"
        phone = FarEnd(contact=PRIVATE, sock=new.sock)
        try:
            for peer in (old, new):
                status = await asyncio.to_thread(
                    peer.register, "op1", PASSWORD, SUPPORTED, f"sip:op1@{PRIVATE}", call_id
                )
                assert status == 200, edge.logs()
            binding = ua.registrar.lookup("op1")
            assert binding is not None
            where = routed(binding.contact, binding.path)
            assert where is not None
            answering = asyncio.ensure_future(asyncio.to_thread(phone.answer, 5))
            out = await place_call(ua, where)
            with contextlib.suppress(TimeoutError):
                await answering
            await out.hangup()
            await asyncio.to_thread(keepalives, old.sock, 1.5)  # any already on their way
            at_old, at_new = await asyncio.gather(
                asyncio.to_thread(keepalives, old.sock, 2.5),
                asyncio.to_thread(keepalives, new.sock, 2.5),
            )
            logged = edge.kamailio_log
        finally:
            old.close()
            phone.close()
    assert out.answered and phone.invite is not None, logged[-3000:]
    assert at_new and not at_old, (at_new, at_old, logged[-3000:])
