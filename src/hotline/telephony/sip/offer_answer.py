"""SDP offer/answer within a call's dialog (RFC 3264 §8): the caller's re-INVITE or UPDATE
answered, our offer when an INVITE brought none, and the ACK that carries the answer to it."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import TYPE_CHECKING

import structlog

from hotline.telephony.media.rtp import DISCARD
from hotline.telephony.sip.message import Message, ParseError, parse_address, response_to
from hotline.telephony.sip.sdp import (
    PCMA,
    PCMU,
    Answer,
    SdpError,
    build_answer,
    build_offer,
    negotiate,
    parse_offer,
)
from hotline.telephony.sip.timers import SessionTimer, TooSmall, add_timer, negotiate_timer

if TYPE_CHECKING:
    from hotline.sip_uri import SipUri
    from hotline.telephony.backend import CallProgress
    from hotline.telephony.media.rtp import RtpProtocol, RtpStream
    from hotline.telephony.prompts import Prompt
    from hotline.telephony.sip.ua import UserAgent

log = structlog.get_logger("hotline.telephony.sip")

T1, T2, TIMEOUT = 0.5, 4.0, 32.0  # RFC 3261 timers: retransmit T1 doubling to T2, give up at 64*T1


class OfferAnswer:
    """The media a call agreed on and its renegotiation: SipLeg's offer/answer half.

    SipLeg's __init__ sets every attribute named here; they are declared for the type checker.
    """

    ua: UserAgent
    record: CallProgress
    call_id: str
    source: tuple[str, int]
    local_tag: str
    remote_target: SipUri
    remote_cseq: int
    ended: asyncio.Event
    acked: asyncio.Event
    task: asyncio.Task[None] | None
    rtp_port: int
    rtp: RtpProtocol
    rtp_transport: asyncio.DatagramTransport
    stream: RtpStream
    codec: int
    remote_media: tuple[str, int]
    held: bool
    sdp: bytes
    sdp_session: int
    sdp_version: int
    session_timer: SessionTimer | None
    refreshed: asyncio.Event
    _answer: Answer
    _answer_in_ack: int | None
    _unacked: dict[int, asyncio.Event]
    offering: bool
    _prompt: Prompt | None

    if TYPE_CHECKING:

        async def hangup(self) -> None: ...

    def _direction(self, answer: Answer) -> None:
        """Send only when our answer says so (not to a caller holding the call), and time
        the caller's silence only while the call is not on hold."""
        self.held = answer.held
        self.stream.transport = self.rtp_transport if answer.we_send else DISCARD

    def apply(self, answer: Answer) -> None:
        """Take a new offer, as answered: codec, telephone-event, address, direction."""
        if answer == self._answer:
            return  # nothing changed: the same SDP, the same version (RFC 3264 §8)
        self._answer = answer
        if answer.codec != self.codec:
            self.codec = answer.codec
            prompt = self._prompt
            self.stream.switch_codec(answer.codec, prompt.frames[answer.codec] if prompt else None)
        if self.rtp.receiver is not None:
            self.rtp.receiver.event_pt = answer.event_pt
        if answer.remote != self.remote_media:
            self.remote_media = self.stream.remote = answer.remote
            # The SDP names the host the signalling comes from: trust it. Another host (a
            # private address behind NAT): latch again onto where the caller's RTP comes from.
            self.rtp.latch_host = None if answer.remote[0] == self.source[0] else self.source[0]
        if self.held and not answer.held:  # off hold: silence counts from now
            self.rtp.last_packet = asyncio.get_running_loop().time()
        self._direction(answer)
        self.sdp_version += 1
        self.sdp = build_answer(
            answer,
            address=self.ua.config.media_address,
            port=self.rtp_port,
            session_id=self.sdp_session,
            version=self.sdp_version,
        )

    def _offer(self) -> bytes:
        """Our offer, for an INVITE that brought none: both laws, ours first."""
        other = PCMA if self.codec == PCMU else PCMU
        return build_offer(
            (self.codec, other),
            address=self.ua.config.media_address,
            port=self.rtp_port,
            session_id=self.sdp_session,
            version=self.sdp_version,
        )

    def on_offer(self, msg: Message, source: tuple[str, int]) -> None:
        """A re-INVITE or UPDATE from the caller: answer its offer (if any) and refresh the
        remote target from its Contact (RFC 3261 §12.2.2, RFC 3311)."""
        number = msg.cseq[0]
        if self._refuse_overlap(msg, source):
            return
        try:
            timer = negotiate_timer(
                msg, default=self.ua.config.session_expires, min_se=self.ua.config.min_se
            )
        except TooSmall:
            resp = response_to(msg, 422, "Session Interval Too Small", to_tag=self.local_tag)
            resp.add("Min-SE", str(self.ua.config.min_se))
            self.ua.send_response(msg, resp, source)
            return
        self.remote_cseq = number
        if msg.body:
            try:
                answer = negotiate(parse_offer(msg.body))
            except SdpError as exc:  # refused: the session goes on as it was (§14.2)
                resp = response_to(msg, 488, "Not Acceptable Here", to_tag=self.local_tag)
                resp.add("Warning", f'399 - "{exc}"')
                self.ua.send_response(msg, resp, source)
                return
            self.apply(answer)
        contacts = msg.get_all("contact")
        if contacts:
            with contextlib.suppress(ParseError):
                self.remote_target = parse_address(contacts[0]).uri
        # A refresh (RFC 4028 §10): the new interval, or none if the caller dropped it.
        self.session_timer = timer
        self.refreshed.set()
        resp = response_to(msg, 200, "OK", to_tag=self.local_tag)
        resp.add("Contact", f"<{self.ua.contact_uri}>")
        resp.add("Allow", self.ua.ALLOW)
        resp.add("Supported", "timer")
        add_timer(resp, timer)
        if msg.method == "INVITE" and not msg.body:  # offerless: we offer, the ACK answers
            self.sdp_version += 1
            self.sdp, self._answer_in_ack = self._offer(), number
        if msg.body or msg.method == "INVITE":
            resp.add("Content-Type", "application/sdp")
            resp.body = self.sdp
        if msg.method != "INVITE":
            self.ua.send_response(msg, resp, source)
            return
        self._unacked[number] = asyncio.Event()
        self.ua.spawn(self._until_acked(msg, resp, source, self._unacked[number]))

    def _refuse_overlap(self, msg: Message, source: tuple[str, int]) -> bool:
        """An offer that crosses one in progress is refused, the session unchanged: a
        re-INVITE while an INVITE of the caller's still waits for its ACK gets 500 and a
        random Retry-After (RFC 3261 §14.2); an offer (a re-INVITE, an UPDATE with SDP) while
        ours is unanswered gets 491 (RFC 3261 §14.2, RFC 3311 §5.2), and the caller retries."""
        invite = msg.method == "INVITE"
        if invite and (not self.acked.is_set() or self._unacked):
            resp = response_to(msg, 500, "Server Internal Error", to_tag=self.local_tag)
            resp.add("Retry-After", str(secrets.randbelow(11)))
        elif (invite or msg.body) and (self.offering or self._answer_in_ack is not None):
            resp = response_to(msg, 491, "Request Pending", to_tag=self.local_tag)
        else:
            return False
        self.ua.send_response(msg, resp, source)
        return True

    async def _until_acked(
        self, req: Message, resp: Message, source: tuple[str, int], acked: asyncio.Event
    ) -> None:
        try:
            if await self._retransmit(req, resp, source, acked):
                return
        finally:
            self._unacked.pop(req.cseq[0], None)
        if self.ended.is_set():
            return
        self.record.release("line", "no_ack")
        await self.hangup()  # no ACK: end the dialog with BYE (RFC 3261 §13.3.1.4)
        if self.task is not None:
            self.task.cancel()

    async def _retransmit(
        self, req: Message, resp: Message, source: tuple[str, int], acked: asyncio.Event
    ) -> bool:
        """Send the 200 until its ACK (True) or 64*T1 without one (False)."""
        interval, waited = T1, 0.0
        while waited < TIMEOUT and not self.ended.is_set():
            self.ua.send_response(req, resp, source)
            wait = min(interval, TIMEOUT - waited)  # BYE at 64*T1, not one more T2 later
            try:
                await asyncio.wait_for(acked.wait(), wait)
                return True
            except TimeoutError:
                waited += wait
                interval = min(interval * 2, T2)
        return False

    def on_ack(self, msg: Message) -> None:
        if msg.cseq[0] == self._answer_in_ack:
            self._answer_in_ack = None
            try:
                answer = negotiate(parse_offer(msg.body))
            except SdpError as exc:
                if not self.acked.is_set():  # no media for the call at all: end it (BYE)
                    log.info("sip_ack_answer_unusable", call_id=self.call_id, error=str(exc))
                    self.record.release("line", "codec_not_acceptable")
                    self.ua.spawn(self._hang_up_now())
                # Otherwise (a re-INVITE) the session goes on as it was.
            else:
                self.apply(answer)
        self.acked.set()
        # Each re-INVITE's ACK ends its own retransmissions, in whatever order they come.
        waiting = self._unacked.get(msg.cseq[0])
        if waiting is not None:
            waiting.set()

    async def _hang_up_now(self) -> None:
        await self.hangup()
        if self.task is not None:
            self.task.cancel()
