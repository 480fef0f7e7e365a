"""Bridged transfer: the line calls the destination itself and relays the audio both ways.

For destinations that must not receive a REFER (the caller's network refuses it, or the
destination should see the hotline, not the citizen, as the caller). The relay is the ACD's
(packets forwarded as they arrive, outside the 20 ms clock); unlike an operator, nobody is
marked busy or freed afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import structlog

from hotline.db import utcnow
from hotline.telephony.sip.message import ParseError, parse_uri
from hotline.telephony.sip.outbound import OutboundLeg, is_ip

if TYPE_CHECKING:
    from hotline.telephony.sip.leg import SipLeg

log = structlog.get_logger("hotline.telephony.transfer")


async def bridge(leg: SipLeg, target: str, outcome: str | None, ring_seconds: float) -> bool:
    """Call `target` and bridge; False (the caller goes on to the queue) if it cannot be
    reached or does not answer. Returns when either side has hung up."""
    try:
        uri = parse_uri(target)
    except ParseError:
        return False
    if not is_ip(uri.host):  # no resolver in this process
        log.warning("bridge_target_not_an_ip", target=target)
        return False
    ua = leg.ua
    try:
        rtp = await ua.ports.open(ua.config.host)
    except OSError:
        return False
    out = OutboundLeg(
        ua,
        target=target,
        hop=(uri.host.strip("[]"), uri.port or 5060),
        caller=leg.record.caller,
        codec=leg.codec,
        rtp=rtp,
    )
    # Not answered: the outbound leg ends itself (after its CANCEL or the failure's ACK).
    if not await out.call(ring_seconds) or out.stream is None:
        return False
    # Not `agent_answered_at`: that is an operator of ours answering (their talk time).
    leg.record.outcome = outcome
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
