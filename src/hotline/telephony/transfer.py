"""Putting a caller through to a menu destination: REFER, and the line's own call as fallback.

The REFER goes out as soon as the key is pressed, while "transferring" plays. The line calls
the destination itself and relays the audio both ways (a bridge) when the caller's side does
not accept the REFER within the destination's `fallback_after` seconds of the key, refuses
it, reports (NOTIFY sipfrag) no sign of the destination ringing or answering within
`progress_after` seconds of the REFER (`100 Trying` is no sign), lets it ring unanswered for
`ring_seconds`, or reports that it failed (4xx-6xx, at once). An emergency caller thus waits
a few seconds, not a SIP transaction timeout (32 s), before the second way is tried. The
line's own call rings the destination for the same `ring_seconds`.

There is no way to withdraw a REFER (RFC 3515): after the fallback the caller's side may
still put the caller through. Its 2xx NOTIFY then ends the line's call with the caller, and
with it the line's own call to the destination (CANCEL while it rings, BYE once answered),
so that the destination is left with one call; the REFER's attempt then says `answered`.
The REFER's subscription outlives the call (sip/subscription.py): a final report after the
call's end (the caller's side commonly sends BYE before its last NOTIFY) still changes the
REFER's attempt, on the record already handed over for writing (records.py `amend`).

Bridged transfer suits destinations that must not receive a REFER (the caller's network
refuses it, or the destination should see the hotline, not the citizen, as the caller). The
relay is the ACD's (packets forwarded as they arrive, outside the 20 ms clock); unlike an
operator, nobody is marked busy or freed afterwards.

Each try is an `Attempt` on the call record (calls.models.TransferAttempt).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
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
    from hotline.telephony.sip.refer import ReferProgress
    from hotline.telephony.sip.ua import UserAgent

log = structlog.get_logger("hotline.telephony.transfer")
# Seconds a REFER's subscription is kept beyond the destination's own bounds for its final
# report, counted from the REFER's acceptance (sip/subscription.py).
REPORT_MARGIN = 10.0


def start_attempt(
    leg: SipLeg, method: TransferMethod, destination: str, target: str | None
) -> Attempt:
    attempt = Attempt(method.value, destination, target, utcnow())
    leg.record.attempts.append(attempt)
    return attempt


def end_attempt(attempt: Attempt, result: TransferResult, status: int | None = None) -> None:
    attempt.result, attempt.sip_status, attempt.ended_at = result.value, status, utcnow()


async def refer_or_bridge(leg: SipLeg, option: Option, prompt: Prompt) -> bool:
    """REFER (bridge on failure); True once the caller was put through (the call is then
    over), False if both ways failed and the caller is still with us."""
    assert option.transfer_to is not None
    playing = asyncio.ensure_future(leg.play(prompt, barge_in=False))
    try:
        refer = start_attempt(leg, TransferMethod.REFER, option.branch, option.transfer_to)
        if await _refer(leg, option, refer):
            return True
        if refer.result == TransferResult.TIMEOUT and leg.refer_progress is not None:
            # Given up, not refused: the caller's side may still carry the REFER out.
            leg.refer_progress.late = functools.partial(_late_answer, leg, option, refer)
        return await bridge(leg, option)
    finally:
        playing.cancel()
        with contextlib.suppress(asyncio.CancelledError, CallEnded):
            await playing
        # The task keeps its exception, whose traceback holds this frame: without the task
        # in it the call's objects are freed without the cycle collector (media/gcpacer.py).
        del playing


async def _refer(leg: SipLeg, option: Option, attempt: Attempt) -> bool:
    """The REFER and its reports: True once the caller's side has put the caller through
    (or left), False when the line is to call the destination itself."""
    assert option.transfer_to is not None
    loop = asyncio.get_running_loop()
    sent = loop.time()
    status = await leg.refer(option.transfer_to, option.fallback_after)
    progress = leg.refer_progress
    assert progress is not None
    if status is None and progress.latest is None:
        log.warning("refer_unanswered", destination=option.branch, after=option.fallback_after)
        end_attempt(attempt, TransferResult.TIMEOUT)
        return False
    if status is not None and not 200 <= status < 300:
        end_attempt(attempt, TransferResult.REFUSED, status)
        return False
    # Accepted (or, its 202 lost, a NOTIFY shows the caller's side acting on it). Counted as
    # transferred from here: a caller who hangs up now has been handed over (their side
    # usually ends our call once it has set up its own).
    status = status or 202
    leg.record.outcome = option.outcome
    end_attempt(attempt, TransferResult.ACCEPTED, status)
    _keep_reports(progress, leg, option, attempt)
    # `progress_after` counts from the REFER, not from its 202: a 202 that took its time
    # leaves that much less to wait for a sign of ringing, so the caller is never kept
    # longer than `progress_after` without one (fallback_after + progress_after before).
    left = option.progress_after - (loop.time() - sent)
    await progress.wait(max(left, 0.0), leg.ended, until_ringing=True)
    if progress.ringing and progress.final is None:
        await progress.wait(option.ring_seconds, leg.ended, until_ringing=False)
    if progress.final is not None:
        if progress.answered:
            end_attempt(attempt, TransferResult.ANSWERED, progress.final)
            await leg.hangup()
            return True
        # The caller's side reports that the destination failed: at once, the line's turn.
        leg.record.outcome = None
        end_attempt(attempt, TransferResult.REFUSED, progress.final)
        return False
    if leg.ended.is_set():
        return True  # the caller's side ended our call: it carries the transfer out
    # No sign of the destination ringing within `progress_after` of the REFER (only
    # `100 Trying`, or nothing), or ringing unanswered for `ring_seconds`: nothing shows
    # that anyone will take the call. The line calls the destination itself; the REFER's
    # reports are still heard (a late 2xx: `_late_answer`).
    log.warning(
        "refer_unconfirmed",
        destination=option.branch,
        ringing=progress.ringing,
        after=round(loop.time() - sent, 1),
    )
    leg.record.outcome = None
    end_attempt(attempt, TransferResult.TIMEOUT, progress.latest or status)
    return False


def _late_answer(leg: SipLeg, option: Option, attempt: Attempt) -> None:
    """A 2xx NOTIFY after the line gave up on the REFER (its call with the caller then
    ends: SipLeg.on_notify): the caller's side has put the caller through after all. The
    REFER's attempt says so; the line's own call to the destination ends with the caller's
    (`bridge`), or the wait in the queue after it failed, and their attempts say how."""
    progress = leg.refer_progress
    assert progress is not None
    log.warning("refer_answered_late", destination=option.branch, status=progress.final)
    end_attempt(attempt, TransferResult.ANSWERED, progress.final)
    attempt.ended_at = progress.final_at
    leg.record.outcome = option.outcome
    leg.record.transfer_failed = False


def _keep_reports(progress: ReferProgress, leg: SipLeg, option: Option, attempt: Attempt) -> None:
    """Accepted: the REFER's subscription is kept past the call's end for as long as the
    destination's bounds allow from now, plus a margin; its final report then amends the
    REFER's attempt. The hook holds the attempt and the record's key, not the leg nor the
    record (a recording's audio is not kept in memory for the subscription's sake)."""
    seq = next(i for i, a in enumerate(leg.record.attempts, 1) if a is attempt)
    progress.keep_until = (
        asyncio.get_running_loop().time()
        + option.progress_after
        + option.ring_seconds
        + REPORT_MARGIN
    )
    progress.after_end = functools.partial(
        _reported_after_end, leg.ua, leg.record.record_key, seq, attempt
    )


def _reported_after_end(
    ua: UserAgent, record_key: str, seq: int, attempt: Attempt, status: int, at: datetime
) -> None:
    """The REFER's final report after the call ended: its attempt says what became of the
    transfer (`answered`, or `refused` with the failure), and the stored record is amended.
    The call's outcome stays as it was counted when the call ended."""
    was = attempt.result or TransferResult.ABANDONED.value
    result = TransferResult.ANSWERED if 200 <= status < 300 else TransferResult.REFUSED
    end_attempt(attempt, result, status)
    attempt.ended_at = at
    log.info("refer_reported_after_end", destination=attempt.destination, status=status, was=was)
    if ua.on_amend is not None:
        ua.on_amend(record_key, seq, attempt, was)


async def bridge(leg: SipLeg, option: Option) -> bool:
    """Call the destination and bridge; False (the caller goes on to the queue) if it cannot
    be reached or does not answer within the destination's `ring_seconds`. Returns when
    either side has hung up."""
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
    # The caller's side may end our call while the destination rings (a REFER it carried
    # out after all, or the caller hanging up): stop ringing it (CANCEL), a second call.
    calling = asyncio.ensure_future(out.call(option.ring_seconds))
    caller_gone = asyncio.ensure_future(leg.ended.wait())
    try:
        await asyncio.wait({calling, caller_gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        caller_gone.cancel()
        if not calling.done():
            calling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await calling
    if calling.cancelled():
        log.warning("bridge_abandoned", destination=option.branch)
        end_attempt(attempt, TransferResult.ABANDONED)
        return True
    # Not answered: the outbound leg ends itself (after its CANCEL or the failure's ACK).
    if not calling.result() or out.stream is None:
        if out.status is None:
            end_attempt(attempt, TransferResult.TIMEOUT)
        else:
            end_attempt(attempt, TransferResult.REFUSED, out.status)
        log.warning(
            "bridge_failed", destination=option.branch, status=out.status, ring=option.ring_seconds
        )
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
