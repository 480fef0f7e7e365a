"""The SIP protocol on the wire, spoken by raw UDP peers: server transactions (RFC 3261
§17.2.3), Via `received`/`rport` and where in-dialog requests go (RFC 3261 §12.2.1.1, RFC
3581), option tags and session timers (RFC 4028), offers and answers within a dialog (RFC
3264: re-INVITE, UPDATE, hold) and INVITEs without an offer."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
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


async def test_responses_carry_received_and_rport_and_go_where_requests_came_from(
    settings: Settings,
):
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
        # Without rport, and a Via naming another port and a host name: answered all the
        # same where the request came from (a phone behind NAT need not ask for rport).
        text = invite(
            peer, call_id="norport", branch="z9hG4bKnorport", via=f"localhost:{listener.port}"
        )
        peer.send(text.replace("INVITE", "OPTIONS", 1).replace("1 INVITE", "1 OPTIONS"))
        ok = await asyncio.to_thread(peer.recv, 2)
        assert (ok.status, ok.vias[0].params.get("received")) == (200, "127.0.0.1")
        assert "rport" not in ok.vias[0].params
        assert await asyncio.to_thread(listener.silent, 0.3)
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


async def test_a_session_interval_below_our_min_se_gets_422(phone_line: Line):
    peer = Peer(phone_line.port)
    try:
        extra = "Supported: timer\r\nSession-Expires: 30\r\n"
        peer.send(invite(peer, call_id="se", branch="z9hG4bKse", body=offer(4000), extra=extra))
        answer = await asyncio.to_thread(peer.recv, 3, lambda m: m.status >= 200)
        assert (answer.status, answer.get("min-se")) == (422, "90")
        # Asked again above it: answered, with the timer and Require: timer.
        extra = "Supported: timer\r\nSession-Expires: 600\r\nMin-SE: 90\r\n"
        peer.send(invite(peer, call_id="se2", branch="z9hG4bKse2", body=offer(4000), extra=extra))
        ok = await asyncio.to_thread(peer.recv, 5, lambda m: m.status >= 200)
        assert ok.status == 200
        assert (ok.get("session-expires"), ok.get("require")) == ("600;refresher=uac", "timer")
        assert "timer" in ok.get("supported")
    finally:
        peer.close()


@pytest.fixture
async def timed_line(settings: Settings) -> AsyncIterator[Line]:
    """Session timers of a few seconds (the least the RFC allows is 90)."""
    values = {"sip_min_se": 2, "sip_session_expires": 1800, "sip_digit_timeout": 30.0}
    running = await start_line(line_settings(settings, **values))
    yield running
    await running.phone.stop()


async def test_the_callers_refreshes_keep_the_session_and_without_them_it_ends(timed_line: Line):
    call = Call(timed_line, "refreshed")
    try:
        extra = "Supported: timer\r\nSession-Expires: 4;refresher=uac\r\n"
        text = invite(
            call.peer,
            call_id=call.call_id,
            branch="z9hG4bKrefreshed",
            body=sdp(call.media.port),
            extra=extra,
        )
        call.ok = await asyncio.to_thread(answer_call, call.peer, text)
        assert call.ok.get("session-expires") == "4;refresher=uac"
        # Refreshed every 1.5 s (UPDATE, re-INVITE, UPDATE): alive past the first 4 s.
        for method in ("UPDATE", "INVITE", "UPDATE"):
            with pytest.raises(TimeoutError):
                await asyncio.to_thread(call.peer.recv, 1.5, lambda m: m.method == "BYE")
            call.peer.send(
                call.request(method, sdp(call.media.port) if method == "INVITE" else "", extra)
            )
            cseq = call.cseq
            ok = await asyncio.to_thread(
                call.peer.recv, 3, lambda m, key=(cseq, method): m.cseq == key
            )
            assert (ok.status, ok.get("session-expires")) == (200, "4;refresher=uac")
            if method == "INVITE":
                call.peer.send(
                    in_dialog(call.peer, "ACK", call.ok, cseq=cseq, branch=f"z9hG4bKa{cseq}")
                )
        # No more refreshes: the line ends the session.
        bye = await asyncio.to_thread(call.peer.recv, 6, lambda m: m.method == "BYE")
        call.peer.send(response_to(bye, 200, "OK").serialise().decode())
    finally:
        await asyncio.to_thread(call.close)


async def test_a_timed_call_that_ends_leaves_no_timer_behind(timed_line: Line):
    call = Call(timed_line, "short")
    ua = timed_line.phone.ua
    assert ua is not None
    try:
        extra = "Supported: timer\r\nSession-Expires: 600\r\n"
        text = invite(
            call.peer,
            call_id="short",
            branch="z9hG4bKshort",
            body=sdp(call.media.port),
            extra=extra,
        )
        call.ok = await asyncio.to_thread(answer_call, call.peer, text)
        assert call.ok.get("session-expires") == "600;refresher=uac"
        for _ in range(40):  # the session timer's task is running
            if any(t.get_coro().__name__ == "keep_session" for t in ua._tasks):  # type: ignore[union-attr]
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("no session timer task")
        call.peer.send(call.request("BYE"))
        await asyncio.to_thread(call.peer.recv, 3, lambda m: m.cseq[1] == "BYE")
        for _ in range(40):  # the call's tasks end with it, not when its timer would run out
            if not ua._tasks:
                break
            await asyncio.sleep(0.05)
        assert not ua._tasks
    finally:
        await asyncio.to_thread(call.close)


@pytest.mark.parametrize("allow_update", [True, False])
async def test_the_line_refreshes_when_it_is_the_refresher(timed_line: Line, allow_update: bool):
    call = Call(timed_line, f"uas-{allow_update}")
    try:
        allow = "Allow: INVITE, ACK, BYE, CANCEL, UPDATE\r\n" if allow_update else ""
        extra = f"{allow}Supported: timer\r\nSession-Expires: 2;refresher=uas\r\n"
        text = invite(
            call.peer,
            call_id=call.call_id,
            branch=f"z9hG4bK{call.call_id}",
            body=sdp(call.media.port),
            extra=extra,
        )
        call.ok = await asyncio.to_thread(answer_call, call.peer, text)
        assert call.ok.get("session-expires") == "2;refresher=uas"
        method = "UPDATE" if allow_update else "INVITE"
        for _ in range(2):  # refreshed, and again
            refresh = await asyncio.to_thread(call.peer.recv, 4, lambda m: m.method == method)
            # The line is the UAC of its refresh: it asks, and is granted, refresher=uac.
            assert refresh.get("session-expires") == "2;refresher=uac"
            assert bool(refresh.body) is (method == "INVITE")
            ok = response_to(refresh, 200, "OK", to_tag=call.ok.from_addr.tag)
            ok.add("Session-Expires", "2;refresher=uac")
            if method == "INVITE":
                ok.add("Content-Type", "application/sdp")
                ok.body = sdp(call.media.port).encode()
            call.peer.send(ok.serialise().decode())
            if method == "INVITE":
                ack = await asyncio.to_thread(call.peer.recv, 2, lambda m: m.method == "ACK")
                assert ack.cseq == (refresh.cseq[0], "ACK")
        # The caller no longer knows the dialog: the line hangs up.
        refresh = await asyncio.to_thread(call.peer.recv, 4, lambda m: m.method == method)
        call.peer.send(
            response_to(refresh, 481, "Call/Transaction Does Not Exist").serialise().decode()
        )
        bye = await asyncio.to_thread(call.peer.recv, 3, lambda m: m.method == "BYE")
        assert bye.call_id == call.call_id
        call.peer.send(response_to(bye, 200, "OK").serialise().decode())
    finally:
        await asyncio.to_thread(call.close)


# -- offers within the dialog: re-INVITE, UPDATE, hold (RFC 3264) ----------------------------


def sdp(port: int, *, pts: str = "8 101", direction: str = "") -> str:
    lines = [
        "v=0",
        "o=- 1 1 IN IP4 127.0.0.1",
        "s=-",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        f"m=audio {port} RTP/AVP {pts}",
        "a=rtpmap:101 telephone-event/8000",
    ]
    if direction:
        lines.append(f"a={direction}")
    return "\r\n".join(lines) + "\r\n"


class Media:
    """A caller's RTP socket: what the line sends to it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()

    def drain(self) -> None:
        self.sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while True:
                self.sock.recv(2048)
        self.sock.setblocking(True)

    def packets(self, seconds: float) -> list[bytes]:
        got, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            with contextlib.suppress(TimeoutError):
                got.append(self.sock.recv(2048))
        return got


class Call:
    """An answered call from a raw UDP caller, and its offers within the dialog."""

    def __init__(self, line: Line, call_id: str) -> None:
        self.peer, self.media, self.call_id = Peer(line.port), Media(), call_id
        self.cseq = 1
        self.ok: Message | None = None

    def close(self) -> None:
        """Hang up if the call is still up (so the line writes its record before it stops)."""
        if self.ok is not None:
            with contextlib.suppress(TimeoutError):
                self.peer.send(self.request("BYE"))
                cseq = self.cseq
                self.peer.recv(2, lambda m: m.cseq == (cseq, "BYE"))
        self.peer.close()
        self.media.close()

    def start(self, body: str) -> Message:
        text = invite(self.peer, call_id=self.call_id, branch=f"z9hG4bK{self.call_id}", body=body)
        self.ok = answer_call(self.peer, text)
        return self.ok

    def request(self, method: str, body: str = "", extra: str = "") -> str:
        assert self.ok is not None
        self.cseq += 1
        branch = f"z9hG4bK{self.call_id}-{self.cseq}"
        return in_dialog(
            self.peer, method, self.ok, cseq=self.cseq, branch=branch, body=body, extra=extra
        )

    def offer(self, method: str, body: str) -> Message:
        """A re-INVITE (ACKed) or UPDATE with `body`; the line's final answer."""
        self.peer.send(self.request(method, body))
        cseq = self.cseq
        resp = self.peer.recv(3, lambda m: m.status >= 200 and m.cseq == (cseq, method))
        if method == "INVITE":
            assert self.ok is not None
            ack = in_dialog(self.peer, "ACK", self.ok, cseq=cseq, branch=f"z9hG4bKack{cseq}")
            self.peer.send(ack)
        return resp

    def digit(self, digit: str) -> None:
        body = f"Signal={digit}\r\nDuration=160\r\n"
        self.peer.send(self.request("INFO", body, "Content-Type: application/dtmf-relay\r\n"))
        cseq = self.cseq
        self.peer.recv(3, lambda m: m.cseq == (cseq, "INFO"))


@pytest.fixture
async def call(phone_line: Line) -> AsyncIterator[Call]:
    c = Call(phone_line, "offers")
    yield c
    await asyncio.to_thread(c.close)


async def test_a_reinvite_moves_the_media_to_the_new_port(call: Call):
    new = Media()
    try:
        await asyncio.to_thread(call.start, sdp(call.media.port))
        assert len(await asyncio.to_thread(call.media.packets, 0.4)) > 10
        ok = await asyncio.to_thread(call.offer, "INVITE", sdp(new.port))
        assert ok.status == 200 and b"a=sendrecv" in ok.body
        call.media.drain()  # what was on its way before the answer
        assert len(await asyncio.to_thread(new.packets, 0.5)) > 10
        assert await asyncio.to_thread(call.media.packets, 0.5) == []
    finally:
        new.close()


async def test_hold_and_resume_by_reinvite_and_update(call: Call):
    await asyncio.to_thread(call.start, sdp(call.media.port))
    assert len(await asyncio.to_thread(call.media.packets, 0.3)) > 5
    steps = [
        ("INVITE", "sendonly", b"a=recvonly", False),
        ("INVITE", "inactive", b"a=inactive", False),
        ("UPDATE", "", b"a=sendrecv", True),
        ("UPDATE", "sendonly", b"a=recvonly", False),
        ("INVITE", "sendrecv", b"a=sendrecv", True),
    ]
    versions = []
    for method, direction, answered, flows in steps:
        ok = await asyncio.to_thread(call.offer, method, sdp(call.media.port, direction=direction))
        assert ok.status == 200 and answered in ok.body, (method, direction, ok.body)
        versions.append(ok.body.split(b"\r\n")[1].split()[2])
        call.media.drain()
        got = await asyncio.to_thread(call.media.packets, 0.4)
        assert (len(got) > 5) if flows else got == [], (method, direction)
    assert len(set(versions)) == len(versions)  # each answer a new SDP version


async def test_a_reinvite_switches_to_another_codec_we_support(call: Call):
    await asyncio.to_thread(call.start, sdp(call.media.port, pts="8 101"))
    assert {p[1] & 0x7F for p in await asyncio.to_thread(call.media.packets, 0.3)} == {8}
    ok = await asyncio.to_thread(call.offer, "INVITE", sdp(call.media.port, pts="18 0 101"))
    assert b"m=audio" in ok.body and b"RTP/AVP 0 101" in ok.body
    call.media.drain()
    assert {p[1] & 0x7F for p in await asyncio.to_thread(call.media.packets, 0.3)} == {0}
    # Nothing we speak: refused, and the call goes on as it was.
    refused = await asyncio.to_thread(call.offer, "INVITE", sdp(call.media.port, pts="18"))
    assert refused.status == 488
    assert {p[1] & 0x7F for p in await asyncio.to_thread(call.media.packets, 0.3)} == {0}


@pytest.mark.parametrize(
    ("offered", "answered"), [("sendonly", b"a=recvonly"), ("inactive", b"a=inactive")]
)
async def test_an_initial_invite_on_hold_is_answered_so(call: Call, offered: str, answered: bytes):
    ok = await asyncio.to_thread(call.start, sdp(call.media.port, direction=offered))
    assert answered in ok.body
    assert await asyncio.to_thread(call.media.packets, 0.5) == []
    ok = await asyncio.to_thread(call.offer, "INVITE", sdp(call.media.port))
    assert b"a=sendrecv" in ok.body
    assert len(await asyncio.to_thread(call.media.packets, 0.4)) > 5


async def test_a_caller_holding_in_the_queue_is_not_cut_off_by_the_rtp_timeout(settings: Settings):
    line = await start_line(line_settings(settings, sip_rtp_timeout=1.0, sip_digit_timeout=5.0))
    call = Call(line, "held")
    try:
        await asyncio.to_thread(call.start, sdp(call.media.port))
        await asyncio.to_thread(call.digit, "4")  # to the operator queue: nobody is free
        ok = await asyncio.to_thread(
            call.offer, "INVITE", sdp(call.media.port, direction="sendonly")
        )
        assert b"a=recvonly" in ok.body
        # Held (and silent) for three times the RTP timeout: still up.
        with pytest.raises(TimeoutError):
            await asyncio.to_thread(call.peer.recv, 3.0, lambda m: m.method == "BYE")
        # Back from hold and still silent: now the timeout runs again.
        await asyncio.to_thread(call.offer, "INVITE", sdp(call.media.port))
        bye = await asyncio.to_thread(call.peer.recv, 4.0, lambda m: m.method == "BYE")
        call.peer.send(response_to(bye, 200, "OK").serialise().decode())
        [record] = await line.calls()
        assert record.branch == "operator"
    finally:
        await asyncio.to_thread(call.close)
        await line.phone.stop()


# -- INVITEs without an offer ---------------------------------------------------------------


async def test_an_invite_without_sdp_gets_our_offer_and_the_ack_answers_it(call: Call):
    peer = call.peer
    peer.send(invite(peer, call_id="late", branch="z9hG4bKlate"))
    ok = await asyncio.to_thread(peer.recv, 5, lambda m: m.status >= 200)
    assert ok.status == 200 and ok.get("content-type") == "application/sdp"
    call.ok = ok
    assert b"RTP/AVP 0 8 101" in ok.body and b"a=sendrecv" in ok.body
    port = int(ok.body.split(b"m=audio ")[1].split()[0])
    assert port > 0
    # Nothing is sent before the answer: there is nowhere to send it.
    assert await asyncio.to_thread(call.media.packets, 0.3) == []
    ack = in_dialog(peer, "ACK", ok, cseq=1, branch="z9hG4bKlateack", body=sdp(call.media.port))
    peer.send(ack)
    got = await asyncio.to_thread(call.media.packets, 0.5)
    assert len(got) > 10 and {p[1] & 0x7F for p in got} == {8}  # the answer chose PCMA


async def test_an_ack_without_the_answer_ends_the_call(call: Call):
    peer = call.peer
    peer.send(invite(peer, call_id="late-none", branch="z9hG4bKlatenone"))
    ok = await asyncio.to_thread(peer.recv, 5, lambda m: m.status >= 200)
    assert ok.status == 200
    peer.send(in_dialog(peer, "ACK", ok, cseq=1, branch="z9hG4bKlatenoneack"))
    bye = await asyncio.to_thread(peer.recv, 3, lambda m: m.method == "BYE")
    assert bye.call_id == "late-none"
    peer.send(response_to(bye, 200, "OK").serialise().decode())


async def test_a_reinvite_without_sdp_gets_an_offer_answered_in_the_ack(call: Call):
    new = Media()
    try:
        await asyncio.to_thread(call.start, sdp(call.media.port))
        peer = call.peer
        peer.send(call.request("INVITE"))
        cseq = call.cseq
        ok = await asyncio.to_thread(peer.recv, 3, lambda m: m.cseq == (cseq, "INVITE"))
        assert ok.status == 200 and b"RTP/AVP 8 0 101" in ok.body
        assert call.ok is not None
        ack = in_dialog(peer, "ACK", call.ok, cseq=cseq, branch="z9hG4bKreack", body=sdp(new.port))
        peer.send(ack)
        call.media.drain()
        assert len(await asyncio.to_thread(new.packets, 0.4)) > 5
        assert await asyncio.to_thread(call.media.packets, 0.3) == []
    finally:
        new.close()
