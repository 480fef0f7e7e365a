"""A call we place: the INVITE client transaction (RFC 3261 §17.1.1) to an operator's phone,
a citizen (a callback) or a destination (a bridged transfer).

INVITE retransmitted T1 doubling until a provisional response; ringing bounded by the ACD's
ring time, then CANCEL; a non-2xx final is ACKed on the same branch, a 2xx with a new one
(and again for each retransmitted 2xx); BYE either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog

from hotline.telephony.media.rtp import DISCARD, RtpProtocol, RtpStream
from hotline.telephony.sip.message import (
    Message,
    ParseError,
    new_branch,
    new_tag,
    parse_address,
    parse_uri,
    response_to,
)
from hotline.telephony.sip.route import dialog_request, hop_of
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

if TYPE_CHECKING:
    from hotline.telephony.sip.ua import UserAgent

log = structlog.get_logger("hotline.telephony.sip")
T1, T2 = 0.5, 4.0


class OutboundLeg:
    def __init__(
        self,
        ua: UserAgent,
        *,
        target: str,
        hop: tuple[str, int],
        caller: str,
        codec: int,
        rtp: tuple[int, RtpProtocol, asyncio.DatagramTransport],
        route: Sequence[str] = (),
    ) -> None:
        self.ua = ua
        self.target = target
        self.hop = hop
        self.rtp_port, self.rtp, self.rtp_transport = rtp
        self.call_id = new_tag() + new_tag()
        self.local_tag = new_tag()
        self.branch = new_branch()
        self.remote_tag = ""
        self.remote_target = target
        # Pre-loaded (a Path, the outbound proxy) until the answer's Record-Route replaces it.
        self.route_set: list[str] = list(route)
        self.cseq = 1
        self.answered = False
        self.ended = asyncio.Event()
        self.stream: RtpStream | None = None
        self.status: int | None = None  # the INVITE's final status, once it came
        self._provisional = asyncio.Event()
        self._final: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        user = caller.lstrip("+") or "anonymous"
        self.from_value = f"<sip:{user}@{ua.sent_by}>;tag={self.local_tag}"
        # Offer the caller's law first so that the bridge needs no translation.
        other = PCMA if codec == PCMU else PCMU
        # One SDP session for the call; its version goes up with each new SDP (RFC 3264 §8).
        self.sdp_session, self.sdp_version = secrets.randbelow(2**31), 0
        self.sdp = build_offer(
            (codec, other),
            address=ua.config.media_address,
            port=self.rtp_port,
            session_id=self.sdp_session,
        )
        self.invite = self._request("INVITE", self.branch)
        self.invite.add("Content-Type", "application/sdp")
        self.invite.body = self.sdp
        # The phone's own requests in the dialog (its hold key's re-INVITE), and the media
        # as last agreed with it.
        self.remote_cseq = 0
        self._answer: Answer | None = None
        self._answer_in_ack: int | None = None

    def _request(self, method: str, branch: str, cseq: int | None = None) -> Message:
        uri, routes, _ = dialog_request(self.route_set, parse_uri(self.remote_target))
        req = Message(method=method, uri=uri)
        req.add("Via", f"SIP/2.0/UDP {self.ua.sent_by};branch={branch};rport")
        req.add("Max-Forwards", "70")
        req.add("From", self.from_value)
        to = f"<{self.target}>" + (f";tag={self.remote_tag}" if self.remote_tag else "")
        req.add("To", to)
        req.add("Call-ID", self.call_id)
        req.add("CSeq", f"{cseq if cseq is not None else self.cseq} {method}")
        for route in routes:
            req.add("Route", route)
        req.add("Contact", f"<{self.ua.contact_uri}>")
        return req

    # -- the INVITE transaction ---------------------------------------------------------------
    async def call(self, ring_seconds: float) -> bool:
        """Ring the phone; True once it answered (200 OK, ACK sent)."""
        self.ua.invites[self.branch] = self
        self.ua.outbound[self.call_id] = self
        data, interval = self.invite.serialise(), T1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ring_seconds
        try:
            while not self._final.done() and loop.time() < deadline:
                if not self._provisional.is_set():
                    self.ua.send(data, self.hop)
                wait = min(interval, deadline - loop.time())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self._final), max(0.0, wait))
                interval = min(interval * 2, T2)
            if not self._final.done():
                # No answer in time: CANCEL in the background (a dead phone would hold the
                # next operator's turn for the whole CANCEL transaction otherwise).
                self.ua.spawn(self._cancel())
                return False
            final = self._final.result()
            if 200 <= final.status < 300 and self.stream is not None:
                return True
            if final.status >= 300:
                self.end()
            return False
        except asyncio.CancelledError:
            # The caller hung up while the phone rang: stop it ringing.
            if not self._final.done():
                self.ua.spawn(self._cancel())
            raise

    async def _cancel(self) -> None:
        cancel = Message(method="CANCEL", uri=self.target)
        for name in ("via", "from", "to", "call-id"):
            cancel.add(name, self.invite.get(name))
        cancel.add("CSeq", f"{self.cseq} CANCEL")
        cancel.add("Max-Forwards", "70")
        for route in self.invite.get_all("route"):  # the INVITE's own (RFC 3261 §9.1)
            cancel.add("Route", route)
        await self.ua.client_request(cancel, self.hop)
        # The phone answers the INVITE with 487 (ACKed in on_response), or with a 200 that
        # crossed our CANCEL: then it is answered and we hang up at once.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._final), 4.0)
        if self.answered:
            await self.hangup()
        self.end()

    def on_response(self, msg: Message) -> None:
        if msg.status < 200:
            self._provisional.set()
            return
        if self.status is None:
            self.status = msg.status
        if msg.status >= 300:
            self._ack_failure(msg)
            if not self._final.done():
                self._final.set_result(msg)
            return
        if self.answered:  # a retransmitted 200: our ACK was lost
            self._send_ack()
            return
        try:
            answer = negotiate(parse_offer(msg.body))
            contacts = msg.get_all("contact")
            if contacts:
                self.remote_target = str(parse_address(contacts[0]).uri)
        except (SdpError, ParseError) as exc:
            # Answered with media we cannot bridge: confirm and hang up at once.
            log.info("operator_answer_unusable", error=str(exc))
            self.remote_tag = msg.to_addr.tag
            self.answered = True
            self._send_ack()
            self.ua.spawn(self.hangup())
            if not self._final.done():
                self._final.set_result(msg)
            return
        self.remote_tag = msg.to_addr.tag
        # UAC: the Record-Route reversed (§12.1.2). A callee that does not echo it (some
        # UAs behind a proxy that does not record-route) leaves the pre-loaded route: the
        # dialog's requests keep going through the edge that reaches it.
        self.route_set = list(reversed(msg.get_all("record-route"))) or self.route_set
        self.stream = RtpStream(self.rtp_transport, answer.remote, answer.codec)
        self._answer = answer
        self.answered = True
        self._send_ack()
        if not self._final.done():
            self._final.set_result(msg)

    def _ack_failure(self, msg: Message) -> None:
        ack = Message(method="ACK", uri=self.target)
        ack.add("Via", self.invite.get("via"))
        ack.add("From", self.from_value)
        ack.add("To", msg.get("to"))
        ack.add("Call-ID", self.call_id)
        ack.add("CSeq", f"{self.cseq} ACK")
        ack.add("Max-Forwards", "70")
        for route in self.invite.get_all("route"):  # the INVITE's own (RFC 3261 §17.1.1.3)
            ack.add("Route", route)
        self.ua.send(ack.serialise(), self.hop)

    def _send_ack(self) -> None:
        self.ua.send(self._request("ACK", new_branch()).serialise(), self._next_hop())

    def _next_hop(self) -> tuple[str, int]:
        try:
            return hop_of(self.route_set, parse_uri(self.remote_target), self.hop)
        except ParseError:
            return self.hop

    # -- after the answer ---------------------------------------------------------------------
    def on_offer(self, msg: Message, source: tuple[str, int]) -> None:
        """The phone's re-INVITE or UPDATE (its hold key, a new address), answered as the
        caller's are (offer_answer.py): the direction mirrored, so a held phone is sent
        nothing. Answered 481 instead, a phone must end the call (RFC 3261 §12.2.1.2), and
        the citizen bridged to it would be cut off."""
        number, stream = msg.cseq[0], self.stream
        if number <= self.remote_cseq or stream is None:
            self._answer_offer(msg, source, 500, "Server Internal Error")
            return
        self.remote_cseq = number
        if msg.body:
            try:
                answer = negotiate(parse_offer(msg.body))
            except SdpError as exc:  # refused: the call goes on as it was (RFC 3261 §14.2)
                self._answer_offer(msg, source, 488, "Not Acceptable Here", f'399 - "{exc}"')
                return
            self._apply(answer)
        elif msg.method == "INVITE":  # no offer: ours goes in the 200, the ACK answers it
            other = PCMA if stream.payload_type == PCMU else PCMU
            self.sdp_version += 1
            self.sdp = build_offer(
                (stream.payload_type, other),
                address=self.ua.config.media_address,
                port=self.rtp_port,
                session_id=self.sdp_session,
                version=self.sdp_version,
            )
            self._answer_in_ack = number
        contacts = msg.get_all("contact")
        if contacts:
            with contextlib.suppress(ParseError):
                self.remote_target = str(parse_address(contacts[0]).uri)
        # Retransmitted by the transaction layer: the phone's INVITE, resent until an
        # answer reaches it, gets this 200 again (UserAgent.send_response).
        sdp = msg.body or msg.method == "INVITE"
        self._answer_offer(msg, source, 200, "OK", body=self.sdp if sdp else b"")

    def _answer_offer(
        self,
        msg: Message,
        source: tuple[str, int],
        status: int,
        reason: str,
        warning: str = "",
        body: bytes = b"",
    ) -> None:
        resp = response_to(msg, status, reason, to_tag=self.local_tag)
        if status == 200:
            resp.add("Contact", f"<{self.ua.contact_uri}>")
        if warning:
            resp.add("Warning", warning)
        if body:
            resp.add("Content-Type", "application/sdp")
            resp.body = body
        self.ua.send_response(msg, resp, source)

    def _apply(self, answer: Answer) -> None:
        stream = self.stream
        if stream is None or answer == self._answer:
            return  # nothing changed: the same SDP, the same version
        self._answer = answer
        if answer.codec != stream.payload_type:
            stream.switch_codec(answer.codec, None)  # the relay translates into it
        stream.remote = answer.remote
        stream.transport = self.rtp_transport if answer.we_send else DISCARD
        self.sdp_version += 1
        self.sdp = build_answer(
            answer,
            address=self.ua.config.media_address,
            port=self.rtp_port,
            session_id=self.sdp_session,
            version=self.sdp_version,
        )

    def on_ack(self, msg: Message) -> None:
        """The ACK of our 200 to the phone's offerless re-INVITE carries its answer."""
        if msg.cseq[0] != self._answer_in_ack:
            return
        self._answer_in_ack = None
        with contextlib.suppress(SdpError):  # no usable answer: the media stay as they were
            self._apply(negotiate(parse_offer(msg.body)))

    def in_dialog(self, msg: Message) -> bool:
        """A request from the phone within this call: its tag in From, ours in To."""
        tags = (msg.from_addr.tag, msg.to_addr.tag)
        return bool(self.remote_tag) and tags == (self.remote_tag, self.local_tag)

    async def hangup(self) -> None:
        if self.ended.is_set():
            return
        self.cseq += 1
        bye = self._request("BYE", new_branch())
        self.end()
        if self.answered:
            await self.ua.client_request(bye, self._next_hop())

    def end(self) -> None:
        if self.ended.is_set():
            return
        self.ended.set()
        self.ua.invites.pop(self.branch, None)
        self.ua.outbound.pop(self.call_id, None)
        self.rtp.relay_to = None
        self.rtp_transport.close()
        self.ua.ports.release(self.rtp_port)


def placed(ua: UserAgent, msg: Message) -> OutboundLeg | None:
    """The call the line placed that this request is in (Call-ID and both tags)."""
    leg = ua.outbound.get(msg.call_id)
    return leg if leg is not None and leg.in_dialog(msg) else None
