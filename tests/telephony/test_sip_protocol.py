"""The SIP protocol on the wire, spoken by raw UDP peers: server transactions (RFC 3261
§17.2.3), Via `received`/`rport` and where in-dialog requests go (RFC 3261 §12.2.1.1, RFC
3581), option tags and session timers (RFC 4028), offers and answers within a dialog (RFC
3264: re-INVITE, UPDATE, hold) and INVITEs without an offer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from hotline.settings import Settings
from hotline.telephony.sip.message import Message, response_to
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


# -- Via received/rport, and where in-dialog requests go ------------------------------------


def bye_of(call_id: str) -> Callable[[Message], bool]:
    return lambda m: m.method == "BYE" and m.call_id == call_id


def answer_call(peer: Peer, text: str, *, ack_to: Peer | None = None) -> Message:
    """Send an INVITE, take the 200 and ACK it; the 200."""
    peer.send(text)
    ok = peer.recv(5, lambda m: m.status == 200)
    ack = in_dialog(peer, "ACK", ok, cseq=1, branch="z9hG4bKack" + ok.call_id)
    (ack_to or peer).send(ack)
    return ok


async def test_responses_follow_rport_and_the_via_port(settings: Settings):
    line = await start_line(line_settings(settings))
    peer, listener = Peer(line.port), Peer(line.port)
    try:
        # With rport: the answer comes back to the port the request came from, and the Via
        # says where that was, though the Via names another port.
        text = invite(peer, call_id="rport", branch="z9hG4bKrport", via="127.0.0.1:9;rport")
        peer.send(text.replace("INVITE", "OPTIONS", 1).replace("1 INVITE", "1 OPTIONS"))
        ok = await asyncio.to_thread(peer.recv, 2)
        assert ok.status == 200
        assert ok.vias[0].params["rport"] == str(peer.port)
        assert ok.vias[0].params["received"] == "127.0.0.1"
        # Without rport: to the port in the Via's sent-by (RFC 3261 §18.2.2).
        text = invite(
            peer, call_id="norport", branch="z9hG4bKnorport", via=f"localhost:{listener.port}"
        )
        peer.send(text.replace("INVITE", "OPTIONS", 1).replace("1 INVITE", "1 OPTIONS"))
        ok = await asyncio.to_thread(listener.recv, 2)
        assert (ok.status, ok.vias[0].params.get("received")) == (200, "127.0.0.1")
        assert await asyncio.to_thread(peer.silent, 0.3)
    finally:
        peer.close()
        listener.close()
        await line.phone.stop()


async def test_in_dialog_requests_go_to_the_contact_or_the_first_route(settings: Settings):
    # No RTP from the callers: after a second the line hangs up, so it sends a BYE.
    line = await start_line(line_settings(settings, sip_rtp_timeout=1.0, sip_digit_timeout=5.0))
    peer, contact, proxy = Peer(line.port), Peer(line.port), Peer(line.port)
    try:
        # The Contact is another port than the source: the BYE goes to the Contact.
        text = invite(
            peer,
            call_id="contact",
            branch="z9hG4bKcontact",
            body=offer(4000),
            contact=f"sip:0912345678@127.0.0.1:{contact.port}",
        )
        await asyncio.to_thread(answer_call, peer, text)
        bye = await asyncio.to_thread(contact.recv, 5, bye_of("contact"))
        contact.send(response_to(bye, 200, "OK").serialise().decode())
        assert bye.uri == f"sip:0912345678@127.0.0.1:{contact.port}" and not bye.get("route")
        # A loose-routing proxy recorded its route: the BYE goes to it, for the Contact.
        rr = f"Record-Route: <sip:127.0.0.1:{proxy.port};lr>\r\n"
        text = invite(
            peer,
            call_id="loose",
            branch="z9hG4bKloose",
            body=offer(4000),
            contact=f"sip:0912345678@127.0.0.1:{contact.port}",
            extra=rr,
        )
        await asyncio.to_thread(answer_call, peer, text)
        bye = await asyncio.to_thread(proxy.recv, 5, bye_of("loose"))
        proxy.send(response_to(bye, 200, "OK").serialise().decode())
        assert bye.uri == f"sip:0912345678@127.0.0.1:{contact.port}"
        assert bye.get_all("route") == [f"<sip:127.0.0.1:{proxy.port};lr>"]
        # A strict router (no lr, RFC 2543): it becomes the Request-URI, the Contact the route.
        text = invite(
            peer,
            call_id="strict",
            branch="z9hG4bKstrict",
            body=offer(4000),
            contact=f"sip:0912345678@127.0.0.1:{contact.port}",
            extra=rr.replace(";lr", ""),
        )
        await asyncio.to_thread(answer_call, peer, text)
        bye = await asyncio.to_thread(proxy.recv, 5, bye_of("strict"))
        proxy.send(response_to(bye, 200, "OK").serialise().decode())
        assert bye.uri == f"sip:127.0.0.1:{proxy.port}"
        assert bye.get_all("route") == [f"<sip:0912345678@127.0.0.1:{contact.port}>"]
    finally:
        for p in (peer, contact, proxy):
            p.close()
        await line.phone.stop()


async def test_a_caller_behind_nat_gets_the_bye_where_its_invite_came_from(settings: Settings):
    """Its Contact names a private address it cannot be reached at: the line's BYE goes to
    the address and port its INVITE came from."""
    line = await start_line(line_settings(settings, sip_rtp_timeout=1.0, sip_digit_timeout=5.0))
    peer = Peer(line.port)
    try:
        text = invite(
            peer,
            call_id="nat",
            branch="z9hG4bKnat",
            body=offer(4000),
            via="192.168.1.20:5062;rport",
            contact="sip:0912345678@192.168.1.20:5062",
        )
        await asyncio.to_thread(answer_call, peer, text)
        bye = await asyncio.to_thread(peer.recv, 5, bye_of("nat"))
        peer.send(response_to(bye, 200, "OK").serialise().decode())
        assert bye.uri == "sip:0912345678@192.168.1.20:5062"
    finally:
        peer.close()
        await line.phone.stop()


# -- option tags and session timers (RFC 4028) -----------------------------------------------


@pytest.mark.parametrize("require", ["100rel", "foo, 100rel", "precondition"])
async def test_a_required_extension_we_lack_gets_420(phone_line: Line, require: str):
    peer = Peer(phone_line.port)
    try:
        text = invite(
            peer,
            call_id="ext",
            branch="z9hG4bKext",
            body=offer(4000),
            extra=f"Require: {require}\r\n",
        )
        peer.send(text)
        answer = await asyncio.to_thread(peer.recv, 3, lambda m: m.status >= 200)
        assert answer.status == 420
        assert answer.get("unsupported") == require
        assert await asyncio.to_thread(peer.silent, 0.5)  # no call was started
        assert phone_line.phone.ua is not None and not phone_line.phone.ua.calls
    finally:
        peer.close()
