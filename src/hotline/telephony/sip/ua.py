"""The asyncio UDP SIP user agent server: answers trunk calls and hands each to the IVR.

Anything that arrives is parsed first; malformed requests get a 400 when one can be formed
and are dropped otherwise, and no exception from one datagram can reach the event loop.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import structlog

from hotline.netaddr import client_key as address_key
from hotline.telephony.backend import CallEnded, CallEndHook, CallHandler
from hotline.telephony.media.rtp import MediaClock, PortPool
from hotline.telephony.sip.digest import DigestAuth, Registrar, Verdict, parse_digest
from hotline.telephony.sip.guard import LockoutPolicy, LogLimiter, RegisterGuard
from hotline.telephony.sip.inbound import bad_request, call_progress, info_digit, stable_tag
from hotline.telephony.sip.leg import T1, T2, TIMEOUT, SipLeg
from hotline.telephony.sip.message import (
    Message,
    ParseError,
    new_branch,
    parse,
    parse_address,
    response_to,
    stamp_via,
    transaction_key,
)
from hotline.telephony.sip.outbound import OutboundLeg
from hotline.telephony.sip.sdp import Answer, SdpError, negotiate, parse_offer
from hotline.telephony.sip.timers import SessionTimer, TooSmall, negotiate_timer
from hotline.telephony.sip.trunk import (
    TrunkDoor,
    TrunkRegistrant,
    TrunkRegistration,
    origin_of,
    within,
)

log = structlog.get_logger("hotline.telephony.sip")
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# Option tags (RFC 3261 §19.2) a request may require of us; 100rel (RFC 3262) is not one.
SUPPORTED: frozenset[str] = frozenset({"timer"})


@dataclass
class UaConfig:
    host: str = "127.0.0.1"
    port: int = 5080
    media_address: str = ""  # what SDP advertises; defaults to host
    rtp_ports: tuple[int, int] = (20000, 20999)
    trunks: Sequence[IpNetwork] = field(
        default_factory=lambda: [ipaddress.ip_network("127.0.0.0/8")]
    )
    max_calls: int = 500
    # A caller whose network died never sends BYE; without these the call (and its port)
    # would sit in the queue forever. 0 turns a limit off.
    rtp_timeout: float = 60.0
    max_call_seconds: float = 7200.0
    # Session timers (RFC 4028): the interval we grant, and the least we accept (422 below).
    session_expires: int = 1800
    min_se: int = 90
    # Operators' phones REGISTER with digest auth in this realm (from anywhere: the digest,
    # not the address, is what lets them in).
    realm: str = "hotline1022"
    nonce_seconds: float = 300.0
    max_expires: int = 3600
    # Digest guessing: failed REGISTERs per SIP user and per source address lock them out.
    register_users: LockoutPolicy = field(default_factory=LockoutPolicy)
    register_addresses: LockoutPolicy = field(
        default_factory=lambda: LockoutPolicy(max_failures=10)
    )
    # OPTIONS (and the 400 for junk) only to the trunks and registered phones: anyone else
    # hears nothing, which is what tells a scanner least. True answers everyone.
    options_answer_all: bool = False
    # Repeated log lines (junk, refused requests, lockouts): one per source per interval.
    log_interval: float = 60.0
    # A carrier trunk the line REGISTERs to (trunk.py), and trunks let in by digest: user
    # name -> password, checked when an INVITE comes from outside `trunks`.
    registration: TrunkRegistration | None = None
    trunk_users: dict[str, str] = field(default_factory=dict)
    # The edge proxies (deploy/edge): their X-Hotline-Source names where a call came from.
    edges: Sequence[IpNetwork] = ()
    # The Route (`<sip:...;lr>`) of every call the line places to the outside (callbacks,
    # bridged transfers): the edge, which anchors the media and hides the line. Empty: sent
    # straight to the callee's address.
    outbound_proxy: str = ""
    # The Retry-After (seconds) of a 503 sent when the line is full.
    retry_after: int = 5

    def __post_init__(self) -> None:
        if not self.media_address:
            self.media_address = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host


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
        # The last response of each server transaction (message.transaction_key), to answer
        # its retransmissions.
        self._responses: dict[tuple[str, ...], bytes] = {}
        # The ACKs of our re-INVITEs' 2xx, by Call-ID and CSeq: sent again for each
        # retransmitted 2xx (RFC 3261 §13.2.2.4).
        self._acks: dict[tuple[str, int], tuple[bytes, tuple[str, int]]] = {}
        # Our requests awaiting their final answer, by branch.
        self._pending: dict[str, tuple[Message, asyncio.Future[Message]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
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
        return f"sip:hotline@{self.sent_by}"

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
        await self.clock.stop()
        if self.transport is not None:
            self.transport.close()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run in a task that is kept referenced (the loop holds only weak ones) and awaited
        on stop."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
        """Log at most once per event and source address per interval: a flood of junk or
        of guesses must not become a flood of log lines. The next line counts the rest."""
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

        `addr` is where the request came from: the answer goes to that address and port, as
        `rport` asks (RFC 3581), and also when the Via has no `rport` where RFC 3261 §18.2.2
        would name the Via's port: a phone behind NAT that does not ask for `rport` is then
        still answered (what Asterisk's `force_rport` does)."""
        data = resp.serialise()
        key = transaction_key(req)
        self._responses[key] = data
        asyncio.get_running_loop().call_later(TIMEOUT, self._responses.pop, key, None)
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
        """ACK a 2xx to our (re-)INVITE: a new transaction, CSeq number of the INVITE (RFC
        3261 §13.2.2.4); kept to answer the 2xx's retransmissions."""
        ack = Message(method="ACK", uri=invite.uri)
        ack.add("Via", f"SIP/2.0/UDP {self.sent_by};branch={new_branch()};rport")
        ack.add("Max-Forwards", "70")
        for name in ("from", "call-id", "route"):
            for value in invite.get_all(name):
                ack.add(name, value)
        ack.add("To", resp.get("to"))
        ack.add("CSeq", f"{invite.cseq[0]} ACK")
        key = (invite.call_id, invite.cseq[0])
        self._acks[key] = (ack.serialise(), hop)
        asyncio.get_running_loop().call_later(TIMEOUT, self._acks.pop, key, None)
        self.send(*self._acks[key])

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
            if pending is None and msg.cseq[1] == "INVITE" and 200 <= msg.status < 300:
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
        if self._unsupported(msg, source):
            return
        handler = getattr(self, f"_on_{msg.method.lower()}", None)
        if handler is not None:
            handler(msg, source)
        elif msg.to_addr.tag and self._dialog(msg) is None:
            self.reply(msg, 481, "Call/Transaction Does Not Exist", source)
        else:
            self.reply(msg, 501, "Not Implemented", source)

    def _unsupported(self, msg: Message, source: tuple[str, int]) -> bool:
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
        """A trunk, a registered phone or the edge: the addresses that may learn a SIP server
        is here (the edge probes the lines with OPTIONS)."""
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
        leg = self.calls.get(msg.call_id)
        if msg.to_addr.tag:
            leg = self._dialog(msg)
            if leg is None:
                self.reply(msg, 481, "Call/Transaction Does Not Exist", source)
            else:  # a re-INVITE: hold, a new address or codec, a session refresh
                leg.on_offer(msg, source)
            return
        if leg is not None or msg.call_id in self._starting:
            return  # a second INVITE for a call in progress with a new branch: ignore
        origin = origin_of(msg, source[0], self.config.edges)
        if not self._from_trunk(origin) and not self.trunk_door.admit(self, msg, source, origin):
            return  # neither a trunk's address nor its digest: refused or challenged
        if len(self.calls) + len(self._starting) >= self.config.max_calls:
            self._refuse(msg, source, 503, "Service Unavailable", "over_capacity")
            return
        try:
            timer = negotiate_timer(
                msg, default=self.config.session_expires, min_se=self.config.min_se
            )
        except TooSmall:
            resp = response_to(
                msg, 422, "Session Interval Too Small", to_tag=stable_tag(msg.call_id)
            )
            resp.add("Min-SE", str(self.config.min_se))
            self.send_response(msg, resp, source)
            return
        answer: Answer | None = None  # no offer: ours goes in the 200 (late offer)
        try:
            if msg.body:
                answer = negotiate(parse_offer(msg.body))
        except SdpError as exc:
            warning = f'399 hotline "{exc}"'
            self._refuse(msg, source, 488, "Not Acceptable Here", "codec_not_acceptable", warning)
            return
        self.send_response(msg, response_to(msg, 100, "Trying"), source)
        self._starting[msg.call_id] = msg
        self.spawn(self._start_call(msg, source, answer, timer))

    def _refuse(
        self,
        invite: Message,
        source: tuple[str, int],
        status: int,
        reason: str,
        cause: str,
        warning: str = "",
    ) -> None:
        """Refuse a trunk's INVITE and record the failed attempt (the reports count it)."""
        resp = response_to(invite, status, reason, to_tag=stable_tag(invite.call_id))
        if status == 503:
            resp.add("Retry-After", str(self.config.retry_after))
        if warning:
            resp.add("Warning", warning)
        self.send_response(invite, resp, source)
        if self._on_end is not None:
            progress = call_progress(invite, source[0])
            progress.ended_at, progress.sip_status = progress.started_at, status
            progress.release("line", cause)
            self._on_end(progress)

    def _from_trunk(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        if self.registrant is not None and self.registrant.is_registrar(host):
            return True
        return any(ip in net for net in self.config.trunks)

    async def _start_call(
        self,
        invite: Message,
        source: tuple[str, int],
        answer: Answer | None,
        timer: SessionTimer | None,
    ) -> None:
        assert self._handler is not None
        try:
            rtp = await self.ports.open(self.config.host)
        except OSError:
            self._starting.pop(invite.call_id, None)
            self._cancelled.discard(invite.call_id)
            self._refuse(invite, source, 503, "Service Unavailable", "no_media_port")
            return
        self._starting.pop(invite.call_id, None)
        if invite.call_id in self._cancelled:  # cancelled while the port was being opened
            self._cancelled.discard(invite.call_id)
            rtp[2].close()
            self.ports.release(rtp[0])
            if self._on_end is not None:
                progress = call_progress(invite, source[0])
                progress.ended_at, progress.sip_status = progress.started_at, 487
                progress.release("caller", "caller_cancel")
                self._on_end(progress)
            return
        try:
            leg = SipLeg(self, invite, source, answer, rtp, call_progress(invite, source[0]), timer)
        except ParseError:  # e.g. "Contact: *" in an INVITE: parsable, but no one to call back
            rtp[2].close()
            self.ports.release(rtp[0])
            self.reply(invite, 400, "Bad Request", source)
            return
        self.calls[leg.call_id] = leg
        leg.task = asyncio.current_task()
        try:
            await self._handler(leg)
        except CallEnded:
            pass
        except asyncio.CancelledError:  # the caller left, a timeout, or the line stopping
            leg.record.release("line", "line_stopped")
        except Exception:  # a broken menu must end this call only
            log.exception("ivr_failed", call_id=leg.call_id)
            leg.record.release("line", "line_error")
        finally:
            if not leg.ended.is_set():
                await leg.hangup()
            if self._on_end is not None:
                self._on_end(leg.record)

    def _on_ack(self, msg: Message, source: tuple[str, int]) -> None:
        leg = self._dialog(msg)
        if leg is not None:
            leg.on_ack(msg)

    def _on_update(self, msg: Message, source: tuple[str, int]) -> None:
        leg = self._dialog(msg)
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
        leg = self.calls.get(msg.call_id)
        starting = self._starting.get(msg.call_id)
        if starting is not None and starting.vias[0].branch == msg.vias[0].branch:
            self._cancelled.add(msg.call_id)
            self.reply(msg, 200, "OK", source)
            self.reply(starting, 487, "Request Terminated", source)
            return
        if leg is None or leg.invite_branch != msg.vias[0].branch:
            self.reply(msg, 481, "Call/Transaction Does Not Exist", source)
            return
        self.reply(msg, 200, "OK", source)
        if not leg.answered:
            leg.record.release("caller", "caller_cancel")
            leg.record.sip_status = 487
            resp = leg.invite_response(487, "Request Terminated")
            self.send_response(leg.invite, resp, leg.source)
            self._end(leg)

    def _on_info(self, msg: Message, source: tuple[str, int]) -> None:
        leg = self._dialog(msg)
        if leg is None:
            self.reply(msg, 481, "Call/Transaction Does Not Exist", source)
            return
        self.reply(msg, 200, "OK", source)
        digit = info_digit(msg)
        if digit:
            leg.on_digit(digit)

    def _on_notify(self, msg: Message, source: tuple[str, int]) -> None:
        leg = self._dialog(msg)
        if leg is None:
            self.reply(msg, 481, "Call/Transaction Does Not Exist", source)
            return
        self.reply(msg, 200, "OK", source)
        leg.on_notify(msg)

    def _on_register(self, msg: Message, source: tuple[str, int]) -> None:
        authorization = msg.get("authorization")
        aor = msg.to_addr.uri.user
        named = (parse_digest(authorization) or {}) if authorization else {}
        guard = self.register_guard
        users = {user[:81] for user in (aor, named.get("username", aor))}
        # Through the edge: its Path is kept (phones anywhere reach the line over TLS/TCP
        # at the edge, which holds their connection), and the phone's own address, which
        # the edge names, is the one counted for lockouts. Path from anyone else is ignored.
        path = tuple(msg.get_all("path")[:4]) if within(source[0], self.config.edges) else ()
        origin = origin_of(msg, source[0], self.config.edges)
        # The phone already registered as this user, refreshing from where it registered,
        # is never locked out: otherwise a guesser (or a spoofed source) behind the same
        # NAT address could knock every operator's phone off the line.
        refreshing = all(self._registered_from(user, source, path) for user in users)
        if not refreshing and (
            guard.address_locked(address_key(origin))
            or any(guard.user_locked(user) for user in users)
        ):
            # Locked out: no challenge, and even the right password is refused until it ends.
            self.log_limited("sip_register_locked", source, level="warning", user=aor[:80])
            self.reply(msg, 403, "Forbidden", source)
            return
        check = self.auth.check("REGISTER", authorization, self.credentials.get)
        if check.verdict in (Verdict.MISSING, Verdict.STALE):
            resp = response_to(msg, 401, "Unauthorized", to_tag=stable_tag(msg.call_id))
            resp.add("WWW-Authenticate", self.auth.challenge(stale=check.verdict is Verdict.STALE))
            self.send_response(msg, resp, source)
            return
        if check.verdict is not Verdict.OK or check.username != aor:
            # Keys capped (SIP logins are at most 80 characters): 10,000 of them stay small.
            user = (check.username or aor)[:81]
            # Only real logins are counted per user: names nobody has would otherwise fill
            # the table and push real users' counts out of it.
            known = user in self.credentials
            for kind, seconds in guard.failed(user if known else None, address_key(origin)):
                event = f"sip_register_{kind}_locked_out"
                self.log_limited(event, source, level="warning", user=user, seconds=seconds)
            self.log_limited("sip_register_refused", source, level="warning", user=user)
            self.reply(msg, 403, "Forbidden", source)
            return
        username = check.username
        guard.succeeded(username)
        contacts = msg.get_all("contact")
        header = msg.get("expires").strip()
        default = int(header) if header.isdigit() else 3600
        if contacts == ["*"]:
            if default != 0:
                self.reply(msg, 400, "Bad Request", source)
                return
            self.registrar.unbind(username)
        elif contacts:
            address = parse_address(contacts[0])
            raw = address.params.get("expires", "")
            expires = min(int(raw) if raw.isdigit() else default, self.config.max_expires)
            self.registrar.bind(username, str(address.uri), source, expires, path)
        resp = response_to(msg, 200, "OK", to_tag=stable_tag(msg.call_id))
        binding = self.registrar.lookup(username)
        if binding is not None:
            resp.add("Contact", f"<{binding.contact}>;expires={self.registrar.remaining(username)}")
            for hop in binding.path:  # echoed: the phone learns the path (RFC 3327 §5.3)
                resp.add("Path", hop)
        self.send_response(msg, resp, source)
        log.info("sip_registered", user=username, bound=binding is not None)

    def _registered_from(self, user: str, source: tuple[str, int], path: tuple[str, ...]) -> bool:
        """Whether `user`'s phone registered from here: the same source and, through the
        edge, the same Path (its `received` names the phone's own connection)."""
        binding = self.registrar.lookup(user)
        return binding is not None and (binding.source, binding.path) == (source, path)

    def _end(self, leg: SipLeg) -> None:
        leg.end()
        if leg.task is not None:
            leg.task.cancel()
