"""The call record of a callback the line dialled (callbacks.py): direction outbound, the
citizen's number as the caller, and how the citizen's leg went.

Outcome: `answered` once the citizen answered (talk time from when the operator or doctor
answered, 0 if they did not), `busy` for 486/600, `no_answer` when the ring time ran out or
the phone said 408/480/487, `failed` for any other refusal or when no INVITE could be sent.
The record's SIP Call-ID, status and codec are the citizen leg's, as the line sent and saw
them (behind the edge, the Call-ID the carrier sees is the edge's masked one: docs/edge.md).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from hotline.calls.models import CallDirection, CallOutcome
from hotline.calls.service import NewCall
from hotline.telephony.call_record import whole_seconds
from hotline.telephony.sip.outbound import OutboundLeg
from hotline.telephony.sip.sdp import CODEC_NAMES

BUSY = frozenset({486, 600})
NO_ANSWER = frozenset({408, 480, 487})


@dataclasses.dataclass
class Dialled:
    """What a try found out, filled in as it goes."""

    started_at: datetime
    hop: tuple[str, int] | None = None
    citizen: OutboundLeg | None = None
    status: int | None = None  # the citizen INVITE's final status when the ringing stopped
    answered_at: datetime | None = None  # the citizen answered
    bridged_at: datetime | None = None  # the operator (doctor) answered
    ended_by: str | None = None  # "caller" (the citizen), "operator", "line"


def outbound_call(
    dialled: Dialled,
    *,
    line: str,
    citizen: str,
    branch: str,
    operator_id: int | None,
    ended_at: datetime,
) -> NewCall:
    """The record of one dialled try."""
    leg = dialled.citizen
    status = dialled.status
    ended_by: str | None
    if dialled.answered_at is not None:
        outcome = CallOutcome.ANSWERED
        ended_by = dialled.ended_by or "line"
        cause = f"{ended_by}_hangup"
    elif status in BUSY:
        outcome, ended_by, cause = CallOutcome.BUSY, "caller", "busy"
    elif leg is not None and (status is None or status in NO_ANSWER):
        outcome, ended_by, cause = CallOutcome.NO_ANSWER, "line", "no_answer"
    else:
        outcome, ended_by, cause = CallOutcome.FAILED, "line", "unreachable"
    codec = None
    if leg is not None and leg.stream is not None:
        codec = CODEC_NAMES.get(leg.stream.payload_type)
    return NewCall(
        line=line,
        caller=citizen,
        started_at=dialled.started_at,
        answered_at=dialled.answered_at,
        ended_at=ended_at,
        branch=branch,
        talk_seconds=0
        if dialled.bridged_at is None
        else whole_seconds(dialled.bridged_at, ended_at),
        operator_id=operator_id if dialled.bridged_at is not None else None,
        outcome=outcome.value,
        sip_call_id=leg.call_id if leg is not None else None,
        trunk=f"{dialled.hop[0]}:{dialled.hop[1]}"[:64] if dialled.hop else None,
        codec=codec,
        sip_status=status,
        ended_by=ended_by,
        release_cause=cause,
        record_key=uuid.uuid4().hex,
        direction=CallDirection.OUTBOUND.value,
    )
