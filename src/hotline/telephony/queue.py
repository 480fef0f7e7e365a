"""A caller's wait in an operator queue: hold audio, their place, the callback offer, the bridge.

The caller hears the queue announcement and their place on entering and every
`position_every` seconds, hold audio in between; after `callback_after` seconds they are
offered a callback once (press 1). When the ACD hands over an answered operator, the two
legs' RTP is relayed both ways until either side hangs up.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hotline.calls.models import CallOutcome
from hotline.db import utcnow
from hotline.telephony.prompts import PromptSet

if TYPE_CHECKING:
    from hotline.telephony.acd import Acd, Waiting
    from hotline.telephony.sip.leg import SipLeg
    from hotline.telephony.sip.outbound import OutboundLeg

MAX_POSITION_PROMPT = 20


@dataclass(frozen=True)
class QueueTiming:
    callback_after: float = 60.0
    position_every: float = 30.0
    digit_timeout: float = 5.0


def position_texts() -> dict[str, str]:
    texts = {f"position_{n}": f"Bạn đang ở vị trí số {n}." for n in range(1, 21)}
    texts["position_many"] = "Có hơn hai mươi người đang chờ trước bạn."
    return texts


async def offer_callback(leg: SipLeg, prompts: PromptSet, digit_timeout: float) -> bool:
    """Play the callback offer; True if the caller pressed 1 (and heard the thanks)."""
    leg.digits.clear()  # keys pressed earlier (in the menu) are not an answer to this
    digit = await leg.play(prompts["callback_offer"])
    if digit is None:
        digit = await leg.collect_digit(digit_timeout)
    if digit != "1":
        return False
    leg.record.outcome = CallOutcome.CALLBACK_REQUESTED.value
    await leg.play(prompts["callback_ok"], barge_in=False)
    return True


async def wait_in_queue(
    leg: SipLeg,
    *,
    acd: Acd,
    branch: str,
    prompts: PromptSet,
    timing: QueueTiming,
    queue_prompt: str,
    max_wait: float | None = None,
) -> bool:
    """Wait for an operator and talk to them (or take the callback offered). False if the
    caller was still waiting after `max_wait` seconds: they left the queue, the caller's
    next step is the queue's overflow."""
    if leg.record.queued_at is None:  # an overflow from another queue keeps the first time
        leg.record.queued_at = utcnow()
    waiting = acd.join(leg, branch)
    announcer = asyncio.get_running_loop().create_task(
        _announce(leg, acd, waiting, prompts, timing, queue_prompt)
    )
    operator: tuple[int, OutboundLeg] | None = None
    try:
        waiters: set[asyncio.Future[Any]] = {announcer, waiting.operator}
        done, _ = await asyncio.wait(waiters, timeout=max_wait, return_when=asyncio.FIRST_COMPLETED)
        if waiting.operator.done():
            operator = waiting.operator.result()
        elif not done:
            return False
        else:
            announcer.result()  # the callback was accepted (or the call ended: raises)
            return True
    finally:
        announcer.cancel()
        acd.leave(waiting)
        if operator is None and waiting.operator.done() and not waiting.operator.cancelled():
            # Put through just as the caller left or took the callback: not bridged.
            late_id, late_leg = waiting.operator.result()
            acd.ua.spawn(late_leg.hangup())
            acd.release(late_id)
    await _bridge(leg, acd, *operator)
    return True


async def _announce(
    leg: SipLeg,
    acd: Acd,
    waiting: Waiting,
    prompts: PromptSet,
    timing: QueueTiming,
    queue_prompt: str,
) -> None:
    """Hold audio and announcements; returns only when the caller accepted a callback."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    next_position = start
    offered = False
    await leg.play(prompts[queue_prompt], barge_in=False)
    while True:
        now = loop.time()
        if now >= next_position:
            place = acd.position(waiting)
            name = f"position_{place}" if place <= MAX_POSITION_PROMPT else "position_many"
            await leg.play(prompts[name], barge_in=False)
            next_position = now + timing.position_every
        if not offered and now - start >= timing.callback_after:
            offered = True
            if await offer_callback(leg, prompts, timing.digit_timeout):
                return
        await leg.play(prompts["hold"], barge_in=False)


async def _bridge(leg: SipLeg, acd: Acd, user_id: int, out: OutboundLeg) -> None:
    record = leg.record
    record.operator_id = user_id
    record.agent_answered_at = utcnow()
    record.outcome = CallOutcome.ANSWERED.value
    assert out.stream is not None
    leg.stream.stop()
    acd.ua.clock.streams.discard(leg.stream)  # the operator's voice replaces our frames
    leg.rtp.relay_to, out.rtp.relay_to = out.stream, leg.stream
    acd.answered(user_id, record)
    caller_gone = asyncio.ensure_future(leg.ended.wait())
    operator_gone = asyncio.ensure_future(out.ended.wait())
    try:
        await asyncio.wait({caller_gone, operator_gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        caller_gone.cancel()
        operator_gone.cancel()
        leg.rtp.relay_to = None
        out.rtp.relay_to = None
        if not out.ended.is_set():
            acd.ua.spawn(out.hangup())
        elif not leg.ended.is_set():
            record.release("operator", "operator_hangup")
        acd.release(user_id)
    if not leg.ended.is_set():
        with contextlib.suppress(Exception):
            await leg.hangup()
