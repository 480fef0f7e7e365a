"""Call records: written by the phone line (and the demo), counted for the reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.calls.models import Call, CallOutcome
from hotline.contacts.phones import normalise_phone
from hotline.contacts.service import find_by_phone
from hotline.errors import InvalidInput, NotFound
from hotline.reports.counters import count_call

UNKNOWN_CALLER = ""


@dataclass
class NewCall:
    line: str
    caller: str
    started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    menu_path: str = ""
    branch: str | None = None
    queue_wait_seconds: int = 0
    talk_seconds: int = 0
    operator_id: int | None = None
    outcome: str | None = None
    case_id: int | None = None


async def record_call(session: AsyncSession, *, data: NewCall) -> Call:
    """Store a finished call and count it by line, branch and outcome."""
    # "" is a caller we cannot name (withheld id, or a SIP user that is not a phone number):
    # the column holds E.164 or nothing, so reports and contact matching never see junk.
    caller = normalise_phone(data.caller, field="caller") if data.caller else UNKNOWN_CALLER
    for field in ("started_at", "answered_at", "ended_at"):
        at = getattr(data, field)
        if at is not None and at.tzinfo is None:
            raise InvalidInput("Thời điểm phải có múi giờ", field=field)
    outcome = None
    if data.outcome is not None:
        try:
            outcome = CallOutcome(data.outcome)
        except ValueError:
            raise InvalidInput(
                f"Kết quả cuộc gọi không hợp lệ: {data.outcome}", field="outcome"
            ) from None
    if data.queue_wait_seconds < 0 or data.talk_seconds < 0:
        raise InvalidInput("Thời lượng không được âm", field="talk_seconds")
    contact = await find_by_phone(session, caller) if caller else None
    call = Call(
        line=data.line,
        caller=caller,
        contact_id=contact.id if contact else None,
        started_at=data.started_at,
        answered_at=data.answered_at,
        ended_at=data.ended_at,
        menu_path=data.menu_path,
        branch=data.branch,
        queue_wait_seconds=data.queue_wait_seconds,
        talk_seconds=data.talk_seconds,
        operator_id=data.operator_id,
        outcome=outcome,
        case_id=data.case_id,
    )
    session.add(call)
    await session.flush()
    await count_call(
        session,
        started_at=data.started_at,
        line=data.line,
        branch=data.branch,
        outcome=outcome.value if outcome else None,
        wait_seconds=data.queue_wait_seconds,
        talk_seconds=data.talk_seconds,
    )
    return call


async def link_call(session: AsyncSession, *, call_id: int, case_id: int) -> Call:
    """Attach a call to the case it produced."""
    call = await session.get(Call, call_id)
    if call is None:
        raise NotFound("Không tìm thấy cuộc gọi", field="call_id")
    call.case_id = case_id
    await session.flush()
    return call


async def list_calls(
    session: AsyncSession,
    *,
    case_id: int | None = None,
    contact_id: int | None = None,
    limit: int = 100,
) -> list[Call]:
    stmt = (
        select(Call).order_by(Call.started_at.desc(), Call.id.desc()).limit(max(1, min(limit, 500)))
    )
    if case_id is not None:
        stmt = stmt.where(Call.case_id == case_id)
    if contact_id is not None:
        stmt = stmt.where(Call.contact_id == contact_id)
    return list((await session.scalars(stmt)).all())
