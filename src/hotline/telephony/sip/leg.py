"""One answered (or ringing) call as the IVR sees it: a SIP dialog plus its RTP stream."""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from typing import TYPE_CHECKING

from hotline.db import utcnow
from hotline.telephony.backend import CallEnded, CallProgress
from hotline.telephony.media.rtp import DigitReceiver, RtpProtocol, RtpStream
from hotline.telephony.prompts import Prompt
from hotline.telephony.sip.message import (
    Message,
    new_branch,
    new_tag,
    parse_address,
    response_to,
)
from hotline.telephony.sip.offer_answer import T1, T2, TIMEOUT, OfferAnswer
from hotline.telephony.sip.refer import ReferProgress, sipfrag_status
from hotline.telephony.sip.route import dialog_request, hop_of
from hotline.telephony.sip.sdp import NO_ANSWER_YET, PCMA, PCMU, Answer, build_answer
from hotline.telephony.sip.timers import SessionTimer, add_timer, keep_session

if TYPE_CHECKING:
    from hotline.telephony.sip.ua import UserAgent

CODEC_NAMES = {PCMU: "PCMU", PCMA: "PCMA"}


class SipLeg(OfferAnswer):
    """The dialog (responses, requests, transfer, hang-up) and the prompts and digits; the
    offer/answer exchanges within the dialog are OfferAnswer's (offer_answer.py)."""

    # The caller's INVITE chose the Call-ID: after a 491 the line waits 0-2 s, not 2.1-4 s
    # (RFC 3261 §14.1, timers.glare_delay).
    owns_call_id = False

    def __init__(
        self,
        ua: UserAgent,
        invite: Message,
        source: tuple[str, int],
        answer: Answer | None,
        rtp: tuple[int, RtpProtocol, asyncio.DatagramTransport],
        record: CallProgress,
        timer: SessionTimer | None = None,
    ) -> None:
        self.ua = ua
        self.invite = invite
        self.call_id = invite.call_id
        self.invite_branch = invite.vias[0].branch
        self.source = source
        self.record = record
        self.local_tag = new_tag()
        self.remote_tag = invite.from_addr.tag
        contacts = invite.get_all("contact")
        self.remote_target = parse_address(contacts[0]).uri if contacts else invite.from_addr.uri
        # A UAS keeps the Record-Route order as received (RFC 3261 §12.1.1).
        self.route_set = invite.get_all("record-route")
        self.local_cseq = 0
        self.remote_cseq = invite.cseq[0]
        self.answered = False
        self.ended = asyncio.Event()
        self.acked = asyncio.Event()
        self.digits: deque[str] = deque()
        self._digit_event = asyncio.Event()
        self._barge = False
        self.rtp_port, self.rtp, self.rtp_transport = rtp
        protocol = self.rtp
        self.created = asyncio.get_running_loop().time()
        # An INVITE without an offer: ours goes in the 200, the caller's answer in the ACK.
        self._answer_in_ack = invite.cseq[0] if answer is None else None
        answer = answer or NO_ANSWER_YET
        self.codec = answer.codec
        self.remote_media = answer.remote
        # One SDP session per call; its version goes up with each answer (RFC 3264 §8).
        self.sdp_session, self.sdp_version = secrets.randbelow(2**31), 0
        if self._answer_in_ack is None:
            self.sdp = build_answer(
                answer,
                address=ua.config.media_address,
                port=self.rtp_port,
                session_id=self.sdp_session,
            )
        else:
            self.sdp = self._offer()
        self.stream = RtpStream(self.rtp_transport, answer.remote, answer.codec)
        self.held = False  # while the caller holds: no RTP timeout
        self._direction(answer)
        protocol.receiver = DigitReceiver(answer.event_pt, self.on_digit)
        protocol.stream, protocol.latch_host = self.stream, source[0]
        self.task: asyncio.Task[None] | None = None
        # Our REFER's reports (its NOTIFYs), from the moment it is sent: a NOTIFY may
        # overtake the 202 (RFC 3515 §2.4.4 lets it come first).
        self.refer_progress: ReferProgress | None = None
        self._prompt: Prompt | None = None  # being played, to switch codec mid-prompt
        # The 200 to a re-INVITE is retransmitted until its ACK (RFC 3261 §13.3.1.4): the
        # ACKs awaited, by CSeq number; and whether our own re-INVITE is in progress.
        self._unacked: dict[int, asyncio.Event] = {}
        self.offering = False
        self._answer = answer  # the media as last agreed
        # RFC 4028: the session's timer, and a refresh from the caller (re-INVITE, UPDATE).
        self.session_timer = timer
        self.refreshed = asyncio.Event()

    # -- responses to the INVITE ------------------------------------------------------------
    def invite_response(self, status: int, reason: str) -> Message:
        resp = response_to(self.invite, status, reason, to_tag=self.local_tag)
        resp.add("Contact", f"<{self.ua.contact_uri}>")
        for rr in self.route_set:
            resp.add("Record-Route", rr)
        return resp

    async def ring(self) -> None:
        self._check()
        self.ua.send_response(self.invite, self.invite_response(180, "Ringing"), self.source)

    async def answer(self) -> None:
        self._check()
        resp = self.invite_response(200, "OK")
        resp.add("Allow", self.ua.ALLOW)
        resp.add("Supported", "timer")
        add_timer(resp, self.session_timer)
        resp.add("Content-Type", "application/sdp")
        resp.body = self.sdp
        self.answered = True
        self.record.sip_status = 200
        self.rtp.last_packet = asyncio.get_running_loop().time()  # silence is timed from here
        self.record.answered_at = utcnow()
        self.ua.clock.streams.add(self.stream)
        # The 200 is ours to retransmit until the ACK arrives (RFC 3261 §13.3.1.4).
        interval, waited = T1, 0.0
        while waited < TIMEOUT:
            self.ua.send_response(self.invite, resp, self.source)
            wait = min(interval, TIMEOUT - waited)  # BYE at 64*T1, not one more T2 later
            try:
                await asyncio.wait_for(self.acked.wait(), wait)
            except TimeoutError:
                waited += wait
                interval = min(interval * 2, T2)
                self._check()
                continue
            if self.session_timer is not None:
                self.ua.spawn(keep_session(self))
            return
        self.record.release("line", "no_ack")
        await self.hangup()
        raise CallEnded("no ACK for the 200 OK")

    # -- media ------------------------------------------------------------------------------
    def on_digit(self, digit: str) -> None:
        if self.ended.is_set():
            return
        self.digits.append(digit)
        self._digit_event.set()
        if self._barge:
            self.stream.stop()

    async def play(self, prompt: Prompt, *, barge_in: bool = True) -> str | None:
        self._check()
        if barge_in and self.digits:
            return self.digits.popleft()
        done = self.stream.play(prompt.frames[self.codec])
        self._barge, self._prompt = barge_in, prompt
        try:
            await done
        finally:
            self._barge, self._prompt = False, None
            # Cancelling this task cancels `done` too; the stream must still stop playing.
            if done.cancelled() or not done.done():
                self.stream.stop()
        self._check()
        if barge_in and self.digits:
            return self.digits.popleft()
        return None

    async def collect_digit(self, timeout: float) -> str | None:
        self._check()
        if not self.digits:
            self._digit_event.clear()
            try:
                await asyncio.wait_for(self._digit_event.wait(), timeout)
            except TimeoutError:
                return None
        self._check()
        return self.digits.popleft() if self.digits else None

    # -- requests within the dialog ---------------------------------------------------------
    def request(self, method: str) -> tuple[Message, tuple[str, int]]:
        uri, routes, _ = dialog_request(self.route_set, self.remote_target)
        req = Message(method=method, uri=uri)
        req.add("Via", f"SIP/2.0/UDP {self.ua.sent_by};branch={new_branch()};rport")
        req.add("Max-Forwards", "70")
        req.add("From", f"{self.invite.get('to')};tag={self.local_tag}")
        req.add("To", self.invite.get("from"))
        req.add("Call-ID", self.call_id)
        self.local_cseq += 1
        req.add("CSeq", f"{self.local_cseq} {method}")
        for route in routes:
            req.add("Route", route)
        req.add("Contact", f"<{self.ua.contact_uri}>")
        return req, hop_of(self.route_set, self.remote_target, self.source)

    async def refer(self, target: str, timeout: float) -> int | None:
        self._check()
        req, hop = self.request("REFER")
        self.refer_progress = ReferProgress(self.local_cseq)
        req.add("Refer-To", f"<{target}>")
        req.add("Referred-By", f"<{self.ua.contact_uri}>")
        resp = await self.ua.client_request(req, hop, timeout)
        return None if resp is None else resp.status

    def on_notify(self, msg: Message) -> None:
        """The REFER's progress (RFC 3515): a sipfrag status line such as `SIP/2.0 200 OK`.

        A 2xx ends our part of the call whenever it comes, also after the line gave up on
        the REFER and called the destination itself: the caller's side then has its own
        call with the destination, and the line's ends (transfer.py hangs it up)."""
        status = sipfrag_status(msg.body)
        progress = self.refer_progress
        if status is None or progress is None or not progress.report(status):
            return
        if progress.answered:
            self.record.release("line", "transferred")
            if progress.late is not None:
                progress.late()
            self.ua.spawn(self.hangup())

    async def hangup(self) -> None:
        if self.ended.is_set():
            return
        self.record.release("line", "line_hangup")  # unless a reason was given before
        if not self.answered:
            self.record.sip_status = 480
            resp = self.invite_response(480, "Temporarily Unavailable")
            self.ua.send_response(self.invite, resp, self.source)
            self.end()
            return
        req, hop = self.request("BYE")
        self.end()
        await self.ua.client_request(req, hop)

    def expired(self, now: float, rtp_timeout: float, max_seconds: float) -> str | None:
        """Why the line must end this call now ("max_duration", "rtp_timeout"), or None."""
        if max_seconds > 0 and now - self.created > max_seconds:
            return "max_duration"
        # Only once answered: before that the caller has no reason to send media.
        # And not while the caller holds: a held phone need send nothing.
        silent = now - self.rtp.last_packet > rtp_timeout
        if self.answered and not self.held and rtp_timeout > 0 and silent:
            return "rtp_timeout"
        return None

    async def wait_ended(self) -> None:
        await self.ended.wait()

    def end(self) -> None:
        if self.ended.is_set():
            return
        self.ended.set()
        self.refreshed.set()  # wakes the session timer's task, which then sees the end
        self.record.ended_at = utcnow()
        self.record.codec = CODEC_NAMES.get(self.codec, str(self.codec))
        self.stream.stop()
        self.ua.clock.streams.discard(self.stream)
        self.rtp_transport.close()
        # The digit receiver calls back into this leg (a cycle: leg, protocol, receiver, leg):
        # cut it, so reference counting frees the ended call at once. Cyclic garbage would
        # wait for a full collection, whose pause grows with every call it has to walk.
        self.rtp.receiver = None
        if self.refer_progress is not None:
            self.refer_progress.late = None  # the same kind of cycle (transfer.py's hook)
            # The REFER's subscription is a usage of its own: its final NOTIFY may follow
            # the BYE (sip/subscription.py).
            self.ua.subscriptions.keep(self)
        self.ua.ports.release(self.rtp_port)
        self.ua.calls.pop(self.call_id, None)

    def in_dialog(self, msg: Message) -> bool:
        """A request from the caller's side of this dialog: their tag in From, ours in To."""
        return msg.from_addr.tag == self.remote_tag and msg.to_addr.tag == self.local_tag

    def _check(self) -> None:
        if self.ended.is_set():
            raise CallEnded(self.call_id)
