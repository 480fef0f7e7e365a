"""The SIP protocol on the wire, spoken by raw UDP peers: server transactions (RFC 3261
§17.2.3), Via `received`/`rport` and where in-dialog requests go (RFC 3261 §12.2.1.1, RFC
3581), option tags and session timers (RFC 4028), offers and answers within a dialog (RFC
3264: re-INVITE, UPDATE, hold) and INVITEs without an offer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hotline.settings import Settings
from hotline.telephony.sip.message import Message
from tests.telephony.conftest import Line, line_settings, start_line
from tests.telephony.test_door_guard import Peer, offer

pytestmark = pytest.mark.anyio


def invite(
    peer: Peer,
    *,
    call_id: str,
    branch: str,
    body: str = "",
    extra: str = "",
    contact: str = "",
    via: str = "",
) -> str:
    """An INVITE from `peer`; `via` and `contact` replace its own sent-by and Contact."""
    host, port = peer.host, peer.port
    sdp = "Content-Type: application/sdp\r\n" if body else ""
    return (
        f"INVITE sip:1022@{peer.server[0]}:{peer.server[1]} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {via or f'{host}:{port}'};branch={branch}\r\n"
        f"From: <sip:0912345678@{host}>;tag=caller-{call_id}\r\n"
        f"To: <sip:1022@{peer.server[0]}>\r\n"
        f"Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\n"
        f"Contact: <{contact or f'sip:0912345678@{host}:{port}'}>\r\nMax-Forwards: 70\r\n"
        f"{extra}{sdp}Content-Length: {len(body)}\r\n\r\n{body}"
    )


def in_dialog(
    peer: Peer,
    method: str,
    ok: Message,
    *,
    cseq: int,
    branch: str,
    body: str = "",
    extra: str = "",
) -> str:
    """A request in the dialog that `ok` (the line's 200 to our INVITE) set up."""
    sdp = "Content-Type: application/sdp\r\n" if body else ""
    return (
        f"{method} sip:hotline@{peer.server[0]}:{peer.server[1]} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {peer.host}:{peer.port};branch={branch}\r\n"
        f"From: {ok.get('from')}\r\nTo: {ok.get('to')}\r\n"
        f"Call-ID: {ok.call_id}\r\nCSeq: {cseq} {method}\r\n"
        f"Contact: <sip:0912345678@{peer.host}:{peer.port}>\r\nMax-Forwards: 70\r\n"
        f"{extra}{sdp}Content-Length: {len(body)}\r\n\r\n{body}"
    )


@pytest.fixture
async def phone_line(settings: Settings) -> AsyncIterator[Line]:
    running = await start_line(line_settings(settings, sip_digit_timeout=5.0))
    yield running
    await running.phone.stop()


# -- server transactions --------------------------------------------------------------------


async def test_one_branch_from_many_peers_is_many_transactions(phone_line: Line):
    """25 INVITEs that share a branch but not their sent-by or Call-ID are 25 calls; a
    genuine retransmission is still answered from the transaction."""
    peers = [Peer(phone_line.port) for _ in range(25)]
    try:
        texts = []
        for n, peer in enumerate(peers):
            texts.append(
                invite(peer, call_id=f"shared-{n}", branch="z9hG4bKshared", body=offer(4000))
            )
            peer.send(texts[-1])
        oks = []
        for n, peer in enumerate(peers):
            trying = await asyncio.to_thread(peer.recv, 3, lambda m: m.status == 100)
            assert trying.call_id == f"shared-{n}"
            oks.append(await asyncio.to_thread(peer.recv, 5, lambda m: m.status == 200))
            assert oks[-1].call_id == f"shared-{n}"
        # A retransmission of the first INVITE: the same call's answer again, no new call.
        peers[0].send(texts[0])
        again = await asyncio.to_thread(peers[0].recv, 3, lambda m: m.status >= 200)
        assert (again.call_id, again.to_addr.tag) == ("shared-0", oks[0].to_addr.tag)
        ua = phone_line.phone.ua
        assert ua is not None and len(ua.calls) == 25
        for n, (peer, ok) in enumerate(zip(peers, oks, strict=True)):
            peer.send(in_dialog(peer, "BYE", ok, cseq=2, branch=f"z9hG4bKbye{n}"))
            bye_ok = await asyncio.to_thread(peer.recv, 3, lambda m: m.cseq[1] == "BYE")
            assert bye_ok.status == 200
    finally:
        for peer in peers:
            peer.close()
