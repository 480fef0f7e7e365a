"""Requests that overlap or come out of order in a call's dialog, spoken by raw UDP peers: a
re-INVITE while another waits for its ACK (RFC 3261 §14.2), an offer crossing the line's own
(RFC 3311 §5.2), old CSeq numbers (§12.2.2), a merged INVITE (§8.2.2.2), case-sensitive
method names (§7.1), and what a stranger's request learns before the door."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hotline.settings import Settings
from tests.telephony.conftest import Line, line_settings, start_line
from tests.telephony.test_door_guard import Peer, offer, start_guarded
from tests.telephony.test_sip_protocol import Call, Media, in_dialog, invite, sdp

pytestmark = pytest.mark.anyio


@pytest.fixture
async def phone_line(settings: Settings) -> AsyncIterator[Line]:
    running = await start_line(line_settings(settings))
    yield running
    await running.phone.stop()


def final(call: Call, cseq: int, method: str, seconds: float = 3) -> int:
    return call.peer.recv(seconds, lambda m: m.status >= 200 and m.cseq == (cseq, method)).status


async def test_a_reinvite_while_another_awaits_its_ack_gets_500_and_the_call_stays(
    phone_line: Line,
):
    c, new = Call(phone_line, "overlap"), Media()
    try:
        await asyncio.to_thread(c.start, sdp(c.media.port))
        first = c.request("INVITE", sdp(new.port))
        n2 = c.cseq
        second = c.request("INVITE", sdp(c.media.port))
        n3 = c.cseq
        c.peer.send(first)
        c.peer.send(second)
        assert await asyncio.to_thread(final, c, n2, "INVITE") == 200
        refused = await asyncio.to_thread(
            c.peer.recv, 3, lambda m: m.status >= 200 and m.cseq == (n3, "INVITE")
        )
        assert refused.status == 500
        assert 0 <= int(refused.get("retry-after")) <= 10
        # The caller ACKs both (the 500's ACK goes hop by hop); the first's ACK ends its 200s.
        assert c.ok is not None
        for n in (n2, n3):
            c.peer.send(in_dialog(c.peer, "ACK", c.ok, cseq=n, branch=f"z9hG4bKack{n}"))
        await asyncio.to_thread(c.peer.silent, 2.5)  # a resent 200 would arrive by now
        assert await asyncio.to_thread(c.peer.silent, 3), "200 resent after its ACK"
        # The call goes on: the caller retries, and that re-INVITE is answered.
        ok = await asyncio.to_thread(c.offer, "INVITE", sdp(c.media.port))
        assert ok.status == 200
    finally:
        new.close()
        await asyncio.to_thread(c.close)


async def test_an_update_offer_while_the_lines_offer_is_unanswered_gets_491(phone_line: Line):
    c = Call(phone_line, "glare")
    try:
        await asyncio.to_thread(c.start, sdp(c.media.port))
        c.peer.send(c.request("INVITE"))  # no offer: the line's 200 carries one
        n = c.cseq
        ok = await asyncio.to_thread(
            c.peer.recv, 3, lambda m: m.status >= 200 and m.cseq == (n, "INVITE")
        )
        assert ok.status == 200 and b"m=audio" in ok.body
        c.peer.send(c.request("UPDATE", sdp(c.media.port, direction="sendonly")))
        assert await asyncio.to_thread(final, c, c.cseq, "UPDATE") == 491
        assert c.ok is not None
        ack = in_dialog(
            c.peer, "ACK", c.ok, cseq=n, branch="z9hG4bKackglare", body=sdp(c.media.port)
        )
        c.peer.send(ack)
        # The offer answered: the same UPDATE now goes through.
        c.peer.send(c.request("UPDATE", sdp(c.media.port, direction="sendonly")))
        assert await asyncio.to_thread(final, c, c.cseq, "UPDATE") == 200
    finally:
        await asyncio.to_thread(c.close)


async def test_requests_with_an_old_cseq_get_500_and_are_not_acted_on(phone_line: Line):
    c = Call(phone_line, "oldcseq")
    try:
        await asyncio.to_thread(c.start, sdp(c.media.port))
        assert c.ok is not None
        info = in_dialog(
            c.peer,
            "INFO",
            c.ok,
            cseq=1,
            branch="z9hG4bKold1",
            body="Signal=1\r\nDuration=160\r\n",
            extra="Content-Type: application/dtmf-relay\r\n",
        )
        c.peer.send(info)
        assert await asyncio.to_thread(final, c, 1, "INFO") == 500
        c.peer.send(in_dialog(c.peer, "BYE", c.ok, cseq=1, branch="z9hG4bKold2"))
        assert await asyncio.to_thread(final, c, 1, "BYE") == 500
        # Still up: a request in order is answered.
        c.peer.send(c.request("INFO", "Signal=2\r\nDuration=160\r\n"))
        assert await asyncio.to_thread(final, c, c.cseq, "INFO") == 200
    finally:
        await asyncio.to_thread(c.close)


async def test_a_merged_invite_gets_482(phone_line: Line):
    c = Call(phone_line, "merged")
    other = Peer(phone_line.port)
    try:
        await asyncio.to_thread(c.start, sdp(c.media.port))
        text = invite(other, call_id="merged", branch="z9hG4bKmerged2", body=sdp(c.media.port))
        other.send(text)
        got = await asyncio.to_thread(other.recv, 3, lambda m: m.status >= 200)
        assert got.status == 482
    finally:
        other.close()
        await asyncio.to_thread(c.close)


async def test_a_lowercase_method_is_an_unknown_method(phone_line: Line):
    p = Peer(phone_line.port)
    try:
        text = invite(p, call_id="lc", branch="z9hG4bKlc", body=offer(4000))
        p.send(text.replace("INVITE sip:", "invite sip:", 1).replace("1 INVITE", "1 invite"))
        got = await asyncio.to_thread(p.recv, 3, lambda m: m.status >= 200)
        assert got.status == 501
        assert await asyncio.to_thread(p.silent, 1), "the call was started"
    finally:
        p.close()


async def test_a_stranger_learns_no_more_than_the_door_tells(settings: Settings):
    line = await start_guarded(settings, sip_trunk_networks=["10.9.9.0/24"])
    p = Peer(line.port)
    try:

        async def answer(text: str) -> int | None:
            p.send(text)
            try:
                got = await asyncio.to_thread(p.recv, 1.5, lambda m: m.status >= 200)
            except TimeoutError:
                return None
            return got.status

        plain = await answer(invite(p, call_id="s1", branch="z9hG4bKs1", body=offer(4000)))
        extra = "Require: foo\r\n"
        text = invite(p, call_id="s2", branch="z9hG4bKs2", body=offer(4000), extra=extra)
        assert await answer(text) == plain != 420
        text = invite(p, call_id="s3", branch="z9hG4bKs3").replace("INVITE", "FOO")
        assert await answer(text) is None
    finally:
        p.close()
        await line.phone.stop()


async def test_a_refer_accepted_but_never_confirmed_is_no_transfer(phone_line: Line):
    """202, a NOTIFY `180 Ringing`, then nothing: past the destination's ring time the caller,
    still on the line, is not counted as put through to 115; the line tries its own call.
    The attempt keeps the last status heard (the sipfrag's 180)."""
    from hotline.telephony.sip.message import response_to

    c = Call(phone_line, "unconfirmed")
    ua = phone_line.phone.ua
    assert ua is not None
    try:
        await asyncio.to_thread(c.start, sdp(c.media.port))
        await asyncio.to_thread(c.digit, "1")
        refer = await asyncio.to_thread(c.peer.recv, 15, lambda m: m.method == "REFER")
        c.peer.sock.sendto(response_to(refer, 202, "Accepted").serialise(), c.peer.server)
        extra = "Event: refer\r\nSubscription-State: active\r\nContent-Type: message/sipfrag\r\n"
        c.peer.send(c.request("NOTIFY", "SIP/2.0 180 Ringing\r\n", extra))
        record = ua.calls["unconfirmed"].record
        for _ in range(900):  # the ring time (30 s, the default), then the line's own try
            if len(record.attempts) > 1:
                break
            await asyncio.sleep(0.1)
        first = record.attempts[0]
        assert (first.method, first.result, first.sip_status) == ("refer", "timeout", 180)
        assert record.attempts[1].method == "bridge"
        assert "unconfirmed" in ua.calls  # the caller was not hung up on
    finally:
        await asyncio.to_thread(c.close)
    [call] = await phone_line.calls()
    assert call.outcome is None or call.outcome.value != "transferred_115"
