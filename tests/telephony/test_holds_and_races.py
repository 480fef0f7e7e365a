"""A caller's phone and an operator's phone doing what phones do at awkward moments, spoken
by raw UDP peers: holding in the queue the old way (`c=0.0.0.0`) or by UPDATE past the RTP
timeout, a CANCEL crossing the 200 (RFC 3261 §9.2), and a session timer required rather than
only supported (RFC 4028 §9)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hotline.settings import Settings
from hotline.telephony.sip.message import response_to
from tests.telephony.conftest import Line, line_settings, start_line
from tests.telephony.test_door_guard import Peer
from tests.telephony.test_sip_protocol import Call, Media, in_dialog, invite

pytestmark = pytest.mark.anyio


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
