"""The asyncio UDP SIP user agent server: answers trunk calls and hands each to the IVR.

Anything that arrives is parsed first; malformed requests get a 400 when one can be formed
and are dropped otherwise, and no exception from one datagram can reach the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, cast

import structlog

from hotline.telephony.backend import CallAmendHook, CallEndHook, CallHandler
from hotline.telephony.lockouts import SharedLockouts
from hotline.telephony.media.rtp import MediaClock, PortPool
from hotline.telephony.sip import admission, register, subscription
from hotline.telephony.sip.config import SUPPORTED, UaConfig
from hotline.telephony.sip.digest import DigestAuth, Registrar
from hotline.telephony.sip.guard import LogLimiter, RegisterGuard
from hotline.telephony.sip.inbound import bad_request, info_digit, stable_tag
from hotline.telephony.sip.kept import KeptFor
from hotline.telephony.sip.leg import SipLeg
from hotline.telephony.sip.message import (
    Message,
    ParseError,
    new_branch,
    parse,
    response_to,
    stamp_via,
    transaction_key,
)
from hotline.telephony.sip.offer_answer import T1, T2, TIMEOUT
from hotline.telephony.sip.outbound import OutboundLeg, placed
from hotline.telephony.sip.screen import screen
from hotline.telephony.sip.trunk import TrunkDoor, TrunkRegistrant, within

log = structlog.get_logger("hotline.telephony.sip")


class UserAgent(asyncio.DatagramProtocol):
    ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, REGISTER, UPDATE"

    def __init__(self, config: UaConfig, clock: MediaClock | None = None) -> None:
        self.config = config
        self.clock = clock or MediaClock()
        self.ports = PortPool(*config.rtp_ports)
        self.calls: dict[str, SipLeg] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self._handler: CallHandler | None = None
        self._on_end: CallEndHook | None = None
        # A finished call's attempt changed by a report after its end (the REFER's
        # subscription outlives the call: subscription.py), for its stored record.
        self.on_amend: CallAmendHook | None = None
        self.subscriptions = subscription.Subscriptions()
        # The last response of each server transaction (message.transaction_key), to answer
        # its retransmissions.
        self._responses: KeptFor[tuple[str, ...], bytes] = KeptFor(TIMEOUT)
        # The ACKs of our re-INVITEs' 2xx, by Call-ID and CSeq: sent again for each
        # retransmitted 2xx (RFC 3261 §13.2.2.4).
        self._acks: KeptFor[tuple[str, int], tuple[bytes, tuple[str, int]]] = KeptFor(TIMEOUT)
        # Our requests awaiting their final answer, by branch.
        self._pending: dict[str, tuple[Message, asyncio.Future[Message]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        # INVITEs between the 100 Trying and their leg existing (the RTP port is being opened),
        # by Call-ID; a CANCEL in that gap marks its entry so the call never starts.
        # Counted against `max_calls` as well as `calls`: a call holds its place from the
        # moment its INVITE is accepted.
        self._starting: dict[str, Message] = {}
        self._cancelled: set[str] = set()
        self.auth = DigestAuth(config.realm, lifetime=config.nonce_seconds)
        self.registrar = Registrar()
        self.register_guard = RegisterGuard(config.register_users, config.register_addresses)
        # Lockouts all lines share (set by the phone line), REGISTERs being decided (register.py).
        self.shared_lockouts: SharedLockouts | None = None
        self.registering: set[tuple[str, ...]] = set()
        self.log_limit = LogLimiter(config.log_interval)
        # SIP user name -> HA1, from the operators' rows (the line polls them); a lookup in
        # memory, so a REGISTER never waits for the database.
        self.credentials: dict[str, str] = {}
        # Calls we placed (to operators' phones), by Call-ID, and their INVITEs by branch.
        self.outbound: dict[str, OutboundLeg] = {}
        self.invites: dict[str, OutboundLeg] = {}
        self.trunk_door = TrunkDoor(
            config.realm, config.trunk_users, nonce_seconds=config.nonce_seconds
        )
        self.registrant = (
            TrunkRegistrant(self, config.registration) if config.registration else None
        )

    @property
    def sent_by(self) -> str:
        return f"{self.config.media_address}:{self.port}"

    @property
    def contact_uri(self) -> str:
        return f"sip:{self.sent_by}"

    @property
    def port(self) -> int:
        if self.transport is None:
            return self.config.port
        return int(self.transport.get_extra_info("sockname")[1])

    async def start(self, handler: CallHandler, on_end: CallEndHook) -> None:
        self._handler, self._on_end = handler, on_end
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(
            lambda: self, local_addr=(self.config.host, self.config.port)
        )
        self.clock.start()
        self._sweeper = loop.create_task(self._sweep(), name="sip-sweeper")
        if self.registrant is not None:
            self.registrant.start()

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self.registrant is not None:
            await self.registrant.stop()
        for leg in list(self.calls.values()):
            if leg.task is not None:
                leg.task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        self.subscriptions.close()
        await self.clock.stop()
        if self.transport is not None:
            self.transport.close()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run in a task that is kept referenced (the loop holds only weak ones) and awaited
        on stop."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _sweep(self) -> None:
        """End calls whose media went silent or that outlived the longest allowed call, and
        report the log lines held back."""
        limits = [t for t in (self.config.rtp_timeout, self.config.max_call_seconds) if t > 0]
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min([5.0, *(t / 2 for t in limits)]))
            for (event, host), held in self.log_limit.flush():
                log.info("sip_log_suppressed", event=event, source=host, suppressed=held)
            self._expire(loop.time())

    def _expire(self, now: float) -> None:
        # A function of its own: a loop variable in `_sweep` would keep the last call it
        # looked at alive, ended or not, until the next sweep.
        for leg in list(self.calls.values()):
            why = leg.expired(now, self.config.rtp_timeout, self.config.max_call_seconds)
            if why is not None:
                log.info("sip_call_timed_out", call_id=leg.call_id, cause=why)
                leg.record.release("line", why)
                self.spawn(leg.hangup())
                if leg.task is not None:
                    leg.task.cancel()

    # -- transport --------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def error_received(self, exc: Exception) -> None:
        log.debug("sip_socket_error", error=str(exc))

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        source = (str(addr[0]), int(addr[1]))
        try:
            self._receive(data, source)
        except Exception:  # one bad datagram must never take the line down
            self.log_limited("sip_datagram_failed", source, level="exception")

    def log_limited(
        self, event: str, source: tuple[str, int], *, level: str = "info", **fields: object
    ) -> None:
        """Once per event, source and interval (a flood is no flood of logs); the next counts."""
        held = self.log_limit.allow((event, source[0]))
        if held is None:
            return
        if held:
            fields["suppressed"] = held
        getattr(log, level)(event, source=source[0], port=source[1], **fields)

    def send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None:
            try:
                self.transport.sendto(data, addr)
            except OSError as exc:
                log.debug("sip_send_failed", error=str(exc))

    def send_response(self, req: Message, resp: Message, addr: tuple[str, int]) -> None:
        """Send, and keep it to answer retransmissions of the same request (its transaction).

        To `addr`, where the request came from, as `rport` asks (RFC 3581), also without
        `rport` (RFC 3261 §18.2.2 would name the Via's port): a phone behind NAT that does
        not ask for it is still answered (Asterisk's `force_rport`)."""
        data = resp.serialise()
        key = transaction_key(req)
        self._responses.set(key, data)
        self.send(data, addr)

    def reply(self, req: Message, status: int, reason: str, addr: tuple[str, int]) -> Message:
        resp = response_to(req, status, reason, to_tag=stable_tag(req.call_id))
        if status == 405 or req.method == "OPTIONS":
            resp.add("Allow", self.ALLOW)
        if req.method == "OPTIONS" and status == 200:
            resp.add("Accept", "application/sdp")
            resp.add("Supported", ", ".join(sorted(SUPPORTED)))
        self.send_response(req, resp, addr)
        return resp

    def send_ack(self, invite: Message, resp: Message, hop: tuple[str, int]) -> None:
        """ACK a final answer to our (re-)INVITE, CSeq number of the INVITE; kept to answer
        the answer's retransmissions. A 2xx's ACK is a new transaction (RFC 3261 §13.2.2.4),
        a failure's belongs to the INVITE's, on its branch (§17.1.1.3)."""
        ack = Message(method="ACK", uri=invite.uri)
        branch = new_branch() if resp.status < 300 else invite.vias[0].branch
        ack.add("Via", f"SIP/2.0/UDP {self.sent_by};branch={branch};rport")
        ack.add("Max-Forwards", "70")
        for name in ("from", "call-id", "route"):
            for value in invite.get_all(name):
                ack.add(name, value)
        ack.add("To", resp.get("to"))
        ack.add("CSeq", f"{invite.cseq[0]} ACK")
        key = (invite.call_id, invite.cseq[0])
        kept = (ack.serialise(), hop)
        self._acks.set(key, kept)
        self.send(*kept)

    async def client_request(
        self, req: Message, addr: tuple[str, int], timeout: float = TIMEOUT
    ) -> Message | None:
        """Send a request in a dialog, retransmitting (RFC 3261 §17.1.2) until a final answer,
        or None after `timeout` seconds (64*T1 unless the caller cannot wait that long).
        A refresh re-INVITE goes this way too: retransmitted after a provisional answer as
        well, which the far end's transaction absorbs."""
        branch = req.vias[0].branch
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[branch] = (req, future)
        data, interval, waited = req.serialise(), T1, 0.0
        try:
            while waited < timeout:
                self.send(data, addr)
                wait = min(interval, timeout - waited)
                try:
                    return await asyncio.wait_for(asyncio.shield(future), wait)
                except TimeoutError:
                    waited += wait
                    interval = min(interval * 2, T2)
            return None
        finally:
            self._pending.pop(branch, None)

    # -- dispatch ---------------------------------------------------------------------------
    def _receive(self, data: bytes, source: tuple[str, int]) -> None:
        if not data.strip():
            return  # CRLF keep-alive
        try:
            msg = parse(data)
        except ParseError as exc:
            bad = bad_request(data, str(exc)) if self._known(source[0]) else None
            if bad is not None:
                self.send(bad, source)
            self.log_limited("sip_malformed", source, error=str(exc)[:200])
            return
        if not msg.is_request:
            # A response belongs to the request we sent with its branch, Call-ID and CSeq.
            outbound = self.invites.get(msg.vias[0].branch)
            if outbound is not None and msg.cseq[1] == "INVITE":
                if msg.call_id == outbound.call_id:
                    outbound.on_response(msg)
                return
            pending = self._pending.get(msg.vias[0].branch)
            # A final answer to our re-INVITE again (its ACK was lost): the ACK again.
            if pending is None and msg.cseq[1] == "INVITE" and msg.status >= 200:
                ack = self._acks.get((msg.call_id, msg.cseq[0]))
                if ack is not None:
                    self.send(*ack)
                return
            if pending is None or msg.status < 200:
                return
            request, future = pending
            if msg.call_id == request.call_id and msg.cseq == request.cseq and not future.done():
                future.set_result(msg)
            return
        stamp_via(msg, source)  # before any response copies the Via
        cached = self._responses.get(transaction_key(msg))
        if cached is not None and msg.method != "ACK":
            self.send(cached, source)  # a retransmission: the same answer again
            return
        if screen(self, msg, source) or (msg.method != "INVITE" and self.unsupported(msg, source)):
            return
        # Methods are case-sensitive (RFC 3261 §7.1): `invite` is no INVITE.
        handler = getattr(self, f"_on_{msg.method.lower()}", None) if msg.method.isupper() else None
        if handler is not None:
            handler(msg, source)
        elif msg.to_addr.tag and self._dialog(msg) is None:
            self.reply(msg, 481, "Call/Transaction Does Not Exist", source)
        else:
            self.reply(msg, 501, "Not Implemented", source)

    def unsupported(self, msg: Message, source: tuple[str, int]) -> bool:
        """A request requiring an extension we lack gets 420 naming them (RFC 3261
        §8.2.2.3); ACK and CANCEL cannot be refused so. An OPTIONS from a stranger still
        hears nothing."""
        if msg.method in ("ACK", "CANCEL"):
            return False
        required = [t.strip() for v in msg.get_all("require") for t in v.split(",")]
        unknown = [t for t in required if t and t.lower() not in SUPPORTED]
        if not unknown:
            return False
        if msg.method == "OPTIONS" and not (
            self.config.options_answer_all or self._known(source[0])
        ):
            return True
        resp = response_to(msg, 420, "Bad Extension", to_tag=stable_tag(msg.call_id))
        resp.add("Unsupported", ", ".join(unknown))
        self.send_response(msg, resp, source)
        return True

    def _dialog(self, msg: Message) -> SipLeg | None:
        """The caller's dialog this request is in: the Call-ID *and* both tags must match
        (RFC 3261 §12.2.2). The Call-ID alone is no secret: it travels in every message."""
        leg = self.calls.get(msg.call_id)
        return leg if leg is not None and leg.in_dialog(msg) else None

    def _known(self, host: str) -> bool:
        """A trunk, a registered phone or the edge (its OPTIONS probes): may know we exist."""
        return (
            self._from_trunk(host)
            or self.registrar.has_source(host)
            or within(host, self.config.edges)
        )

    def _on_options(self, msg: Message, source: tuple[str, int]) -> None:
        if not (self.config.options_answer_all or self._known(source[0])):
            self.log_limited("sip_options_ignored", source)
            return
        self.reply(msg, 200, "OK", source)

    def _on_invite(self, msg: Message, source: tuple[str, int]) -> None:
        admission.on_invite(self, msg, source)

    def _from_trunk(self, host: str) -> bool:
        return admission.from_trunk(self, host)

    def _on_ack(self, msg: Message, source: tuple[str, int]) -> None:
        leg = self._dialog(msg) or placed(self, msg)
        if leg is not None:
            leg.on_ack(msg)

    def _on_update(self, msg: Message, source: tuple[str, int]) -> None:
        leg = self._dialog(msg) or placed(self, msg)
        if leg is None:
            self.reply(msg, 481, "Call/Transaction Does Not Exist", source)
            return
        leg.on_offer(msg, source)

    def _on_bye(self, msg: Message, source: tuple[str, int]) -> None:
        outbound = self.outbound.get(msg.call_id)
        if outbound is not None and outbound.in_dialog(msg):
            self.reply(msg, 200, "OK", source)
            outbound.end()
            return
        leg = self._dialog(msg)
        if leg is None:
            self.reply(msg, 481, "Call/Transaction Does Not Exist", source)
            return
        self.reply(msg, 200, "OK", source)
        leg.record.release("caller", "caller_hangup")
        self._end(leg)

    def _on_cancel(self, msg: Message, source: tuple[str, int]) -> None:
        admission.on_cancel(self, msg, source)

    def _on_info(self, msg: Message, source: tuple[str, int]) -> None:
        leg = self._dialog(msg)  # an operator's phone's key (placed) is taken, not acted on
        if leg is None and placed(self, msg) is None:
            self.reply(msg, 481, "Call/Transaction Does Not Exist", source)
            return
        self.reply(msg, 200, "OK", source)
        digit = info_digit(msg)
        if digit and leg is not None:
            leg.on_digit(digit)

    def _on_notify(self, msg: Message, source: tuple[str, int]) -> None:
        subscription.on_notify(self, msg, source)

    def _on_register(self, msg: Message, source: tuple[str, int]) -> None:
        register.on_register(self, msg, source)

    def _end(self, leg: SipLeg) -> None:
        leg.end()
        if leg.task is not None:
            leg.task.cancel()
