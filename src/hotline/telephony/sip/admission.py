"""A trunk's new INVITE: who may call (a trunk's address or digest), the limit on calls at
once, the offer and session timer negotiated, then the call started on its own task and
handed to the IVR. Refusals are answered and recorded as failed attempts."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import TYPE_CHECKING

import structlog

from hotline.telephony.backend import CallEnded
from hotline.telephony.sip.inbound import call_progress, stable_tag
from hotline.telephony.sip.leg import SipLeg
from hotline.telephony.sip.message import Message, ParseError, response_to
from hotline.telephony.sip.outbound import placed
from hotline.telephony.sip.sdp import Answer, SdpError, negotiate, parse_offer
from hotline.telephony.sip.timers import SessionTimer, TooSmall, negotiate_timer
from hotline.telephony.sip.trunk import origin_of

if TYPE_CHECKING:
    from hotline.telephony.sip.ua import UserAgent

log = structlog.get_logger("hotline.telephony.sip")


def on_invite(ua: UserAgent, msg: Message, source: tuple[str, int]) -> None:
    leg = ua.calls.get(msg.call_id)
    if msg.to_addr.tag:
        # The caller's dialog, or a call the line placed (an operator's phone holding).
        in_call = ua._dialog(msg) or placed(ua, msg)
        if in_call is None:
            ua.reply(msg, 481, "Call/Transaction Does Not Exist", source)
        elif not ua.unsupported(msg, source):  # a re-INVITE: hold, new media, a refresh
            in_call.on_offer(msg, source)
        return
    first = leg.invite if leg is not None else ua._starting.get(msg.call_id)
    if first is not None:
        # The same request by another path (a fork merging here): 482 (RFC 3261 §8.2.2.2).
        # Anything else reusing the Call-ID is ignored.
        if (msg.from_addr.tag, msg.cseq) == (first.from_addr.tag, first.cseq):
            ua.reply(msg, 482, "Loop Detected", source)
        return
    origin = origin_of(msg, source[0], ua.config.edges)
    if not from_trunk(ua, origin) and not ua.trunk_door.admit(ua, msg, source, origin):
        return  # neither a trunk's address nor its digest: refused or challenged
    if ua.unsupported(msg, source):  # only a caller let in learns which extensions we lack
        return
    if len(ua.calls) + len(ua._starting) >= ua.config.max_calls:
        refuse(ua, msg, source, 503, "Service Unavailable", "over_capacity")
        return
    try:
        timer = negotiate_timer(msg, default=ua.config.session_expires, min_se=ua.config.min_se)
    except TooSmall:
        resp = response_to(msg, 422, "Session Interval Too Small", to_tag=stable_tag(msg.call_id))
        resp.add("Min-SE", str(ua.config.min_se))
        ua.send_response(msg, resp, source)
        return
    answer: Answer | None = None  # no offer: ours goes in the 200 (late offer)
    try:
        if msg.body:
            answer = negotiate(parse_offer(msg.body))
    except SdpError as exc:
        warning = f'399 - "{exc}"'
        refuse(ua, msg, source, 488, "Not Acceptable Here", "codec_not_acceptable", warning)
        return
    ua.send_response(msg, response_to(msg, 100, "Trying"), source)
    ua._starting[msg.call_id] = msg
    ua.spawn(start_call(ua, msg, source, answer, timer))


def on_cancel(ua: UserAgent, msg: Message, source: tuple[str, int]) -> None:
    """A CANCEL of a call not yet answered: 487 to its INVITE (RFC 3261 §9.2), also in the
    gap while its media port is being opened."""
    leg = ua.calls.get(msg.call_id)
    starting = ua._starting.get(msg.call_id)
    if starting is not None and starting.vias[0].branch == msg.vias[0].branch:
        ua._cancelled.add(msg.call_id)
        ua.reply(msg, 200, "OK", source)
        ua.reply(starting, 487, "Request Terminated", source)
        return
    if leg is None or leg.invite_branch != msg.vias[0].branch:
        ua.reply(msg, 481, "Call/Transaction Does Not Exist", source)
        return
    ua.reply(msg, 200, "OK", source)
    if not leg.answered:
        leg.record.release("caller", "caller_cancel")
        leg.record.sip_status = 487
        resp = leg.invite_response(487, "Request Terminated")
        ua.send_response(leg.invite, resp, leg.source)
        ua._end(leg)


def refuse(
    ua: UserAgent,
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
        resp.add("Retry-After", str(ua.config.retry_after))
    if warning:
        resp.add("Warning", warning)
    ua.send_response(invite, resp, source)
    if ua._on_end is not None:
        progress = call_progress(invite, source[0])
        progress.ended_at, progress.sip_status = progress.started_at, status
        progress.release("line", cause)
        ua._on_end(progress)


def from_trunk(ua: UserAgent, host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if ua.registrant is not None and ua.registrant.is_registrar(host):
        return True
    return any(ip in net for net in ua.config.trunks)


async def start_call(
    ua: UserAgent,
    invite: Message,
    source: tuple[str, int],
    answer: Answer | None,
    timer: SessionTimer | None,
) -> None:
    assert ua._handler is not None
    try:
        rtp = await ua.ports.open(ua.config.host)
    except OSError:
        ua._starting.pop(invite.call_id, None)
        ua._cancelled.discard(invite.call_id)
        refuse(ua, invite, source, 503, "Service Unavailable", "no_media_port")
        return
    ua._starting.pop(invite.call_id, None)
    if invite.call_id in ua._cancelled:  # cancelled while the port was being opened
        ua._cancelled.discard(invite.call_id)
        rtp[2].close()
        ua.ports.release(rtp[0])
        if ua._on_end is not None:
            progress = call_progress(invite, source[0])
            progress.ended_at, progress.sip_status = progress.started_at, 487
            progress.release("caller", "caller_cancel")
            ua._on_end(progress)
        return
    try:
        leg = SipLeg(ua, invite, source, answer, rtp, call_progress(invite, source[0]), timer)
    except ParseError:  # e.g. "Contact: *" in an INVITE: parsable, but no one to call back
        rtp[2].close()
        ua.ports.release(rtp[0])
        ua.reply(invite, 400, "Bad Request", source)
        return
    ua.calls[leg.call_id] = leg
    leg.task = asyncio.current_task()
    try:
        await ua._handler(leg)
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
        if ua._on_end is not None:
            ua._on_end(leg.record)
