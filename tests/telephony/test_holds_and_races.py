"""A caller's phone and an operator's phone doing what phones do at awkward moments, spoken
by raw UDP peers: holding in the queue the old way (`c=0.0.0.0`) or by UPDATE past the RTP
timeout, a CANCEL crossing the 200 (RFC 3261 §9.2), a session timer required rather than
only supported (RFC 4028 §9), and the operator putting the citizen on hold (RFC 3264 §8) or
pressing a key that their phone sends as SIP INFO."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import AsyncIterator

import pytest

from hotline.settings import Settings
from hotline.telephony.sip.message import Message, response_to
from tests.telephony.conftest import Line, line_settings, start_line
from tests.telephony.test_door_guard import DIGIT, PASSWORD, Peer, guarded, offer
from tests.telephony.test_sip_protocol import Call, Media, answer_call, in_dialog, invite

pytestmark = pytest.mark.anyio
__all__ = ["guarded"]  # the fixture, from the door's tests


def media_sdp(port: int, *, address: str = "127.0.0.1", direction: str = "") -> str:
    lines = [
        "v=0",
        "o=- 7 7 IN IP4 127.0.0.1",
        "s=-",
        f"c=IN IP4 {address}",
        "t=0 0",
        f"m=audio {port} RTP/AVP 8 101",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
    ]
    if direction:
        lines.append(f"a={direction}")
    return "\r\n".join(lines) + "\r\n"


@pytest.fixture
async def phone_line(settings: Settings) -> AsyncIterator[Line]:
    running = await start_line(line_settings(settings, sip_digit_timeout=5.0))
    yield running
    await running.phone.stop()


# -- the caller holds while queued ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "hold"),
    [
        ("INVITE", {"address": "0.0.0.0"}),  # RFC 2543's hold, still sent by old phones
        ("UPDATE", {"direction": "inactive"}),
    ],
)
async def test_a_caller_holding_in_the_queue_past_the_rtp_timeout_comes_back_to_the_music(
    settings: Settings, method: str, hold: dict[str, str]
):
    line = await start_line(line_settings(settings, sip_rtp_timeout=1.0, sip_digit_timeout=5.0))
    call = Call(line, f"hold-{method.lower()}")
    try:
        await asyncio.to_thread(call.start, media_sdp(call.media.port))
        await asyncio.to_thread(call.digit, "4")  # the operator queue: nobody is free
        ok = await asyncio.to_thread(call.offer, method, media_sdp(call.media.port, **hold))
        assert ok.status == 200
        assert (b"a=inactive" if "direction" in hold else b"a=recvonly") in ok.body
        call.media.drain()
        # Held and silent for three RTP timeouts: no BYE, and nothing sent to the caller.
        with pytest.raises(TimeoutError):
            await asyncio.to_thread(call.peer.recv, 3.0, lambda m: m.method == "BYE")
        assert await asyncio.to_thread(call.media.packets, 0.3) == []
        # Back: the hold music flows again, and the silence is timed from now.
        ok = await asyncio.to_thread(call.offer, method, media_sdp(call.media.port))
        assert ok.status == 200 and b"a=sendrecv" in ok.body
        assert len(await asyncio.to_thread(call.media.packets, 0.5)) > 10
        bye = await asyncio.to_thread(call.peer.recv, 4.0, lambda m: m.method == "BYE")
        call.peer.send(response_to(bye, 200, "OK").serialise().decode())
        call.ok = None  # the line ended it
        [record] = await line.calls()
        assert (record.branch, record.release_cause) == ("operator", "rtp_timeout")
    finally:
        await asyncio.to_thread(call.close)
        await line.phone.stop()


# -- a CANCEL crossing the 200 ------------------------------------------------------------------


async def test_a_cancel_crossing_the_200_gets_200_and_the_answered_call_goes_on(
    phone_line: Line,
):
    """RFC 3261 §9.2: once the INVITE has its final answer a CANCEL changes nothing; it is
    answered 200 (its own transaction), no 487 follows, and the caller ACKs and hangs up."""
    peer, media = Peer(phone_line.port), Media()
    try:
        text = invite(
            peer, call_id="crossing", branch="z9hG4bKcrossing", body=media_sdp(media.port)
        )
        peer.send(text)
        ok = await asyncio.to_thread(peer.recv, 5, lambda m: m.status == 200)
        head, _, _ = text.partition("\r\nContent-Type")
        cancel = (
            head.replace("INVITE sip:", "CANCEL sip:", 1).replace(
                "CSeq: 1 INVITE", "CSeq: 1 CANCEL"
            )
            + "\r\nContent-Length: 0\r\n\r\n"
        )
        peer.send(cancel)
        answer = await asyncio.to_thread(peer.recv, 2, lambda m: m.cseq == (1, "CANCEL"))
        assert answer.status == 200
        peer.send(in_dialog(peer, "ACK", ok, cseq=1, branch="z9hG4bKcrossing-ack"))
        with pytest.raises(TimeoutError):
            await asyncio.to_thread(peer.recv, 1.0, lambda m: m.status == 487 or m.method == "BYE")
        assert len(await asyncio.to_thread(media.packets, 0.4)) > 10
        peer.send(in_dialog(peer, "BYE", ok, cseq=2, branch="z9hG4bKcrossing-bye"))
        bye_ok = await asyncio.to_thread(peer.recv, 2, lambda m: m.cseq == (2, "BYE"))
        assert bye_ok.status == 200
        [record] = await phone_line.calls()
        assert (record.sip_status, record.release_cause) == (200, "caller_hangup")
    finally:
        peer.close()
        media.close()


# -- the ACK of the 200 lost ----------------------------------------------------------------


async def test_a_200_never_acked_is_resent_until_64_t1_and_then_ended_by_bye(phone_line: Line):
    """RFC 3261 §13.3.1.4: the 200 is resent at T1 doubling up to T2 for 64*T1 (32 s); with
    no ACK by then the session is ended by BYE, at 32 s, not one more T2 later."""
    peer, media = Peer(phone_line.port), Media()
    try:
        peer.send(invite(peer, call_id="no-ack", branch="z9hG4bKnoack", body=media_sdp(media.port)))
        start, sent = time.monotonic(), []
        while True:
            got = await asyncio.to_thread(
                peer.recv, 40, lambda m: m.status == 200 or m.method == "BYE"
            )
            at = time.monotonic() - start
            if got.method == "BYE":
                peer.send(response_to(got, 200, "OK").serialise().decode())
                break
            sent.append(at)
        expected = [0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
        assert len(sent) == len(expected), sent
        assert all(abs(a - b) < 0.3 for a, b in zip(sent, expected, strict=True)), sent
        assert 31.8 <= at <= 32.6, at
        [record] = await phone_line.calls()
        assert (record.ended_by, record.release_cause) == ("line", "no_ack")
    finally:
        peer.close()
        media.close()


# -- session timers required ----------------------------------------------------------------


async def test_a_caller_requiring_timers_is_refused_below_min_se_and_keeps_its_refresher(
    phone_line: Line,
):
    """`Require: timer` says the caller supports timers (RFC 4028 §7.1) as much as
    `Supported: timer`: the refresher it names stands, and the 2xx requires timer back."""
    peer, media = Peer(phone_line.port), Media()
    try:
        extra = "Require: timer\r\nSession-Expires: 60\r\n"
        peer.send(
            invite(
                peer, call_id="req1", branch="z9hG4bKreq1", body=media_sdp(media.port), extra=extra
            )
        )
        answer = await asyncio.to_thread(peer.recv, 3, lambda m: m.status >= 200)
        assert (answer.status, answer.get("min-se")) == (422, "90")
        extra = "Require: timer\r\nSession-Expires: 120;refresher=uac\r\n"
        peer.send(
            invite(
                peer, call_id="req2", branch="z9hG4bKreq2", body=media_sdp(media.port), extra=extra
            )
        )
        ok = await asyncio.to_thread(peer.recv, 5, lambda m: m.status >= 200)
        peer.send(in_dialog(peer, "ACK", ok, cseq=1, branch="z9hG4bKreq2-ack"))
        assert ok.status == 200
        assert (ok.get("session-expires"), ok.get("require")) == ("120;refresher=uac", "timer")
        peer.send(in_dialog(peer, "BYE", ok, cseq=2, branch="z9hG4bKreq2-bye"))
        await asyncio.to_thread(peer.recv, 2, lambda m: m.cseq == (2, "BYE"))
    finally:
        peer.close()
        media.close()


# -- the operator holds ---------------------------------------------------------------------


def rtp_packet(seq: int) -> bytes:
    return struct.pack("!BBHII", 0x80, 8, seq, seq * 160, 0x1234) + b"\xd5" * 160


def count_packets(sock: socket.socket, seconds: float) -> int:
    sock.settimeout(seconds)
    count = 0
    try:
        while True:
            sock.recv(2048)
            count += 1
            sock.settimeout(0.05)
    except TimeoutError:
        return count


async def test_the_operator_putting_the_citizen_on_hold_and_back_keeps_the_call(
    settings: Settings, guarded: Line
):
    """A desk phone's hold key re-INVITEs with `a=sendonly`. Answered 481, the phone must end
    the dialog (RFC 3261 §12.2.1.2) and the citizen is cut off; answered 200 `recvonly`, the
    call stays, the caller's audio stops going to the held phone and resumes after."""
    phone, caller, media = Peer(guarded.port), Peer(guarded.port), Media()
    phone_rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    phone_rtp.bind(("127.0.0.1", 0))
    rtp_port = phone_rtp.getsockname()[1]
    assert guarded.phone.ua is not None
    line_uri = guarded.phone.ua.sent_by
    try:
        ok, ring = await asyncio.to_thread(put_through, phone, caller, media, rtp_port, "op-hold")
        line_rtp = int(ok.body.split(b"m=audio ")[1].split()[0])

        def reinvite(cseq: int, direction: str) -> Message:
            body = media_sdp(rtp_port, direction=direction)
            phone.send(
                f"INVITE sip:{line_uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{phone.port};branch=z9hG4bKophold-re{cseq}\r\n"
                f"From: <sip:op1@127.0.0.1>;tag=phone\r\n"
                f"To: {ring.get('from')}\r\nCall-ID: {ring.call_id}\r\nCSeq: {cseq} INVITE\r\n"
                f"Contact: <sip:op1@127.0.0.1:{phone.port}>\r\nMax-Forwards: 70\r\n"
                f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}"
            )
            got = phone.recv(3, lambda m: m.cseq == (cseq, "INVITE") and m.status >= 200)
            phone.send(
                f"ACK sip:{line_uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{phone.port};branch=z9hG4bKophold-ack{cseq}\r\n"
                f"From: <sip:op1@127.0.0.1>;tag=phone\r\n"
                f"To: {got.get('to')}\r\nCall-ID: {ring.call_id}\r\nCSeq: {cseq} ACK\r\n"
                "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            )
            return got

        def caller_speaks(first: int) -> int:
            """The caller's audio for 0.4 s; how many packets the phone got of it."""
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
                for n in range(20):
                    out.sendto(rtp_packet(first + n), ("127.0.0.1", line_rtp))
            return count_packets(phone_rtp, 0.4)

        assert await asyncio.to_thread(caller_speaks, 1) > 10  # bridged
        held = await asyncio.to_thread(reinvite, 2, "sendonly")
        assert held.status == 200 and b"a=recvonly" in held.body
        with pytest.raises(TimeoutError):  # no BYE for the citizen
            await asyncio.to_thread(caller.recv, 1.0, lambda m: m.method == "BYE")
        assert await asyncio.to_thread(caller_speaks, 100) == 0
        back = await asyncio.to_thread(reinvite, 3, "sendrecv")
        assert back.status == 200 and b"a=sendrecv" in back.body
        assert await asyncio.to_thread(caller_speaks, 200) > 10
        # The operator hangs up: the citizen gets the line's BYE, the call was answered.
        phone.send(
            f"BYE sip:{line_uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{phone.port};branch=z9hG4bKophold-bye\r\n"
            f"From: <sip:op1@127.0.0.1>;tag=phone\r\n"
            f"To: {ring.get('from')}\r\nCall-ID: {ring.call_id}\r\nCSeq: 4 BYE\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        bye = await asyncio.to_thread(caller.recv, 3, lambda m: m.method == "BYE")
        caller.send(response_to(bye, 200, "OK").serialise().decode())
        [record] = await guarded.calls()
        assert record.outcome is not None and record.outcome.value == "answered"
    finally:
        for peer in (phone, caller):
            peer.close()
        media.close()
        phone_rtp.close()


def put_through(
    phone: Peer, caller: Peer, media: Media, rtp_port: int, call_id: str
) -> tuple[Message, Message]:
    """op1's phone registers, a caller presses 4 and the phone answers: the line's 200 to
    the caller and its INVITE to the phone."""
    assert phone.register("op1", PASSWORD) == 200
    text = invite(caller, call_id=call_id, branch=f"z9hG4bK{call_id}", body=media_sdp(media.port))
    ok = answer_call(caller, text)
    key = "Signal=4\r\n"
    caller.send(
        in_dialog(caller, "INFO", ok, cseq=2, branch=f"z9hG4bK{call_id}-4", body=key, extra=DIGIT)
    )
    ring = phone.recv(5, lambda m: m.method == "INVITE")
    answered = response_to(ring, 200, "OK", to_tag="phone")
    answered.add("Contact", f"<sip:op1@127.0.0.1:{phone.port}>")
    answered.add("Content-Type", "application/sdp")
    answered.body = offer(rtp_port).encode()
    phone.send(answered.serialise().decode())
    phone.recv(2, lambda m: m.method == "ACK")
    return ok, ring


def from_phone(
    phone: Peer,
    ring: Message,
    line_uri: str,
    method: str,
    cseq: int,
    extra: str = "",
    body: str = "",
) -> None:
    phone.send(
        f"{method} sip:{line_uri} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{phone.port};branch=z9hG4bK{ring.call_id}-{method}{cseq}\r\n"
        f"From: <sip:op1@127.0.0.1>;tag=phone\r\n"
        f"To: {ring.get('from')}\r\nCall-ID: {ring.call_id}\r\nCSeq: {cseq} {method}\r\n"
        f"Contact: <sip:op1@127.0.0.1:{phone.port}>\r\nMax-Forwards: 70\r\n"
        f"{extra}Content-Length: {len(body)}\r\n\r\n{body}"
    )


async def test_a_key_the_operator_presses_by_info_does_not_end_the_call(
    settings: Settings, guarded: Line
):
    """Phones set to send keys as SIP INFO send one when the operator presses a key (an
    extension, a menu of theirs). Answered 481, the phone ends the dialog and the citizen
    with it; answered 200, the call goes on."""
    phone, caller, media = Peer(guarded.port), Peer(guarded.port), Media()
    assert guarded.phone.ua is not None
    line_uri = guarded.phone.ua.sent_by
    try:
        _ok, ring = await asyncio.to_thread(put_through, phone, caller, media, 40000, "op-info")
        from_phone(phone, ring, line_uri, "INFO", 2, DIGIT, "Signal=5\r\nDuration=160\r\n")
        answer = await asyncio.to_thread(phone.recv, 2, lambda m: m.cseq == (2, "INFO"))
        assert answer.status == 200
        with pytest.raises(TimeoutError):  # no BYE for the citizen
            await asyncio.to_thread(caller.recv, 1.0, lambda m: m.method == "BYE")
        from_phone(phone, ring, line_uri, "BYE", 3)
        bye = await asyncio.to_thread(caller.recv, 3, lambda m: m.method == "BYE")
        caller.send(response_to(bye, 200, "OK").serialise().decode())
        [record] = await guarded.calls()
        assert (record.outcome.value if record.outcome else None, record.menu_path) == (
            "answered",
            "4",
        )
    finally:
        for peer in (phone, caller):
            peer.close()
        media.close()
