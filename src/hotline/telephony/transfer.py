"""Putting a caller through to a menu destination: REFER, and the line's own call as fallback.

The REFER goes out as soon as the key is pressed, while "transferring" plays. If the
caller's side has not accepted it within the destination's `fallback_after` seconds of the
key, refuses it, or reports (NOTIFY) that the destination failed, the line calls the
destination itself and relays the audio both ways (a bridge). An emergency caller thus waits
a few seconds, not a SIP transaction timeout (32 s), before the second way is tried.

Bridged transfer suits destinations that must not receive a REFER (the caller's network
refuses it, or the destination should see the hotline, not the citizen, as the caller). The
relay is the ACD's (packets forwarded as they arrive, outside the 20 ms clock); unlike an
operator, nobody is marked busy or freed afterwards.

Each try is an `Attempt` on the call record (calls.models.TransferAttempt).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from hotline.calls.models import CallOutcome, TransferMethod, TransferResult
from hotline.db import utcnow
from hotline.telephony.backend import Attempt, CallEnded, CallProgress
from hotline.telephony.sip.outbound import OutboundLeg
from hotline.telephony.sip.route import outside

if TYPE_CHECKING:
    from hotline.telephony.ivr import Option
    from hotline.telephony.prompts import Prompt
    from hotline.telephony.sip.leg import SipLeg

log = structlog.get_logger("hotline.telephony.transfer")


def start_attempt(
    leg: SipLeg, method: TransferMethod, destination: str, target: str | None
) -> Attempt:
    attempt = Attempt(method.value, destination, target, utcnow())
    leg.record.attempts.append(attempt)
    return attempt


def end_attempt(attempt: Attempt, result: TransferResult, status: int | None = None) -> None:
    attempt.result, attempt.sip_status, attempt.ended_at = result.value, status, utcnow()


async def refer_or_bridge(
    leg: SipLeg, option: Option, prompt: Prompt, *, ring_seconds: float, linger: float
) -> bool:
    """REFER (bridge on failure); True once the caller was put through (the call is then
    over), False if both ways failed and the caller is still with us."""
    assert option.transfer_to is not None
    playing = asyncio.ensure_future(leg.play(prompt, barge_in=False))
    try:
        if await _refer(leg, option, linger):
            return True
        return await bridge(leg, option, ring_seconds)
    finally:
        playing.cancel()
        with contextlib.suppress(asyncio.CancelledError, CallEnded):
            await playing
        # The task keeps its exception, whose traceback holds this frame: without the task
        # in it the call's objects are freed without the cycle collector (media/gcpacer.py).
        del playing


async def _refer(leg: SipLeg, option: Option, linger: float) -> bool:
    assert option.transfer_to is not None
    attempt = start_attempt(leg, TransferMethod.REFER, option.branch, option.transfer_to)
    status = await leg.refer(option.transfer_to, option.fallback_after)
    if status is None:
        log.warning("refer_unanswered", destination=option.branch, after=option.fallback_after)
        end_attempt(attempt, TransferResult.TIMEOUT)
        return False
    if not 200 <= status < 300:
        end_attempt(attempt, TransferResult.REFUSED, status)
        return False
    # Counted as transferred from the 202: a caller who hangs up now has been handed over
    # (their side usually ends our call once it has set up its own).
    leg.record.outcome = option.outcome
    end_attempt(attempt, TransferResult.ACCEPTED, status)
    result = await leg.transfer_result(linger)
    if result is False:  # the caller's side reports that the destination failed
        leg.record.outcome = None
        end_attempt(attempt, TransferResult.REFUSED, leg.notify_status)
        return False
    if result is None:
        # No final word within `linger` and the caller still with us: nothing shows that
        # anyone took the call, so it is no transfer. The line calls the destination itself.
        log.warning("refer_unconfirmed", destination=option.branch, after=linger)
        leg.record.outcome = None
        end_attempt(attempt, TransferResult.TIMEOUT, status)
        return False
    if leg.notify_status is not None:
        end_attempt(attempt, TransferResult.ANSWERED, leg.notify_status)
    await leg.hangup()
    return True


async def bridge(leg: SipLeg, option: Option, ring_seconds: float) -> bool:
    """Call the destination and bridge; False (the caller goes on to the queue) if it cannot
    be reached or does not answer. Returns when either side has hung up."""
    target = option.transfer_to
    assert target is not None
    attempt = start_attempt(leg, TransferMethod.BRIDGE, option.branch, target)
    ua = leg.ua
    # Through the outbound proxy (the edge) when one is set; else straight to the address
    # (no resolver in this process: an IP address).
    where = outside(target, ua.config.outbound_proxy)
    if where is None:
        log.warning("bridge_target_unreachable", target=target)
        end_attempt(attempt, TransferResult.UNREACHABLE)
        return False
    try:
        rtp = await ua.ports.open(ua.config.host)
    except OSError:
        end_attempt(attempt, TransferResult.UNREACHABLE)
        return False
    out = OutboundLeg(
        ua,
        target=target,
        hop=where.hop,
        route=where.route,
        caller=leg.record.caller,
        codec=leg.codec,
        rtp=rtp,
    )
    # Not answered: the outbound leg ends itself (after its CANCEL or the failure's ACK).
    if not await out.call(ring_seconds) or out.stream is None:
        if out.status is None:
            end_attempt(attempt, TransferResult.TIMEOUT)
        else:
            end_attempt(attempt, TransferResult.REFUSED, out.status)
        log.warning("bridge_failed", destination=option.branch, status=out.status)
        return False
    end_attempt(attempt, TransferResult.ANSWERED, out.status)
    # Not `agent_answered_at`: that is an operator of ours answering (their talk time).
    leg.record.outcome = option.outcome
    leg.record.bridged_at = utcnow()
    leg.stream.stop()
    ua.clock.streams.discard(leg.stream)  # the destination's voice replaces our frames
    leg.rtp.relay_to, out.rtp.relay_to = out.stream, leg.stream
    caller_gone = asyncio.ensure_future(leg.ended.wait())
    far_gone = asyncio.ensure_future(out.ended.wait())
    try:
        await asyncio.wait({caller_gone, far_gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        caller_gone.cancel()
        far_gone.cancel()
        leg.rtp.relay_to = None
        out.rtp.relay_to = None
        if not out.ended.is_set():
            ua.spawn(out.hangup())
        elif not leg.ended.is_set():
            leg.record.release("destination", "destination_hangup")
    if not leg.ended.is_set():
        with contextlib.suppress(Exception):
            await leg.hangup()
    return True


def settle(progress: CallProgress, ended: datetime) -> None:
    """At the call's end: attempts still going end with the call (the caller left), a queue
    attempt with what became of the wait."""
    for attempt in progress.attempts:
        if attempt.result is not None:
            continue
        result = TransferResult.ABANDONED
        attempt.ended_at = ended
        if attempt.method == TransferMethod.QUEUE.value:
            if progress.agent_answered_at is not None:
                result, attempt.ended_at = TransferResult.ANSWERED, progress.agent_answered_at
            elif progress.outcome == CallOutcome.CALLBACK_REQUESTED.value:
                result = TransferResult.CALLBACK
        attempt.result = result.value
