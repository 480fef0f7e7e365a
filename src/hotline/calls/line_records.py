"""The phone line's call records, written so that writing one again changes nothing.

The line writes a record when the call ends, and again from its spool when the database was
unreachable then (telephony/records.py); a crash between the commit and the spool's
clean-up writes it a second time. Each record carries the line's `record_key`: the row with
that key is found and finished at most once, and counted for the reports once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.calls.models import Call, CallOutcome
from hotline.calls.service import NewCall, count_finished, record_call


async def write_line_call(session: AsyncSession, *, data: NewCall) -> Call | None:
    """Store a call the line has finished (or refused): a new row, or the row opened when an
    operator answered, finished. None if the record was already written (nothing to do)."""
    assert data.record_key is not None and data.ended_at is not None
    call = await session.scalar(
        select(Call).where(Call.record_key == data.record_key).with_for_update()
    )
    if call is None:
        return await record_call(session, data=data)
    if call.ended_at is not None:
        return None
    call.ended_at = data.ended_at
    call.talk_seconds = max(0, data.talk_seconds)
    call.queue_wait_seconds = max(0, data.queue_wait_seconds)
    if data.outcome is not None:
        call.outcome = CallOutcome(data.outcome)
    for field in ("codec", "sip_status", "ended_by", "release_cause"):
        setattr(call, field, getattr(data, field))
    await session.flush()
    await count_finished(session, call)
    return call
