"""Consult callbacks the phone line dials itself: a caller of branch 3 who asked to be called
back in a consult window, called once that window has started, by one of its doctors.

A try takes the consult request for the doctor the line will ring (`open` → `taken`, a
conditional update) in the same transaction as it claims the callback's try
(calls/dialling.py): a doctor who took the request by hand first keeps it and the line does
not dial; once the line has it, a doctor's own take is refused (409). Connected, the request
is done by that doctor; otherwise it is open again, for the next try or a call by hand.
Requests from a message (no callback) are never dialled.

While the line holds a request its `dialling_until` is set (the try's longest time). A line
that stops releases the requests of the tries it cut; one that crashed leaves them held, and
the next line to start, or any line's poll once that time has passed, releases them: a
request is never left `taken` by a try nobody is making.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.calls.dialling import DueCallback, claim_callback, record_attempt
from hotline.calls.models import Callback, CallbackResult, CallbackStatus
from hotline.care.models import ConsultAssignee, ConsultRequest, ConsultStatus


@dataclass(frozen=True)
class DueConsult:
    callback: DueCallback
    request_id: int
    doctor_ids: frozenset[int]  # the doctors of the window it is due in


async def due_consult_callbacks(
    session: AsyncSession, *, now: datetime, limit: int = 20
) -> list[DueConsult]:
    """Open consult requests with an open callback whose window has started (`due_at`) and
    whose next try may start now, first due first."""
    rows = (
        await session.execute(
            select(
                Callback.id,
                Callback.caller,
                Callback.line,
                Callback.branch,
                Callback.attempts,
                ConsultRequest.id,
            )
            .join(ConsultRequest, ConsultRequest.callback_id == Callback.id)
            .where(
                ConsultRequest.status == ConsultStatus.OPEN,
                ConsultRequest.due_at <= now,
                Callback.status == CallbackStatus.OPEN,
                Callback.caller != "",
                or_(Callback.due_at.is_(None), Callback.due_at <= now),
                or_(Callback.next_attempt_at.is_(None), Callback.next_attempt_at <= now),
            )
            .order_by(ConsultRequest.due_at, ConsultRequest.id)
            .limit(limit)
        )
    ).all()
    if not rows:
        return []
    doctors: dict[int, set[int]] = {}
    assigned = await session.execute(
        select(ConsultAssignee.request_id, ConsultAssignee.user_id).where(
            ConsultAssignee.request_id.in_([row[5] for row in rows])
        )
    )
    for request_id, user_id in assigned.all():
        doctors.setdefault(request_id, set()).add(user_id)
    return [
        DueConsult(DueCallback(*row[:5]), row[5], frozenset(doctors.get(row[5], ())))
        for row in rows
    ]


async def claim_consult_callback(
    session: AsyncSession, *, due: DueConsult, doctor_id: int, now: datetime, hold: float
) -> bool:
    """Take the request for `doctor_id` and claim the callback's next try; False if a doctor
    or another line was first (the caller then rolls the transaction back)."""
    taken = await session.execute(
        update(ConsultRequest)
        .where(ConsultRequest.id == due.request_id, ConsultRequest.status == ConsultStatus.OPEN)
        .values(
            status=ConsultStatus.TAKEN,
            taken_by_id=doctor_id,
            taken_at=now,
            dialling_until=now + timedelta(seconds=hold),
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        return False
    return await claim_callback(session, callback=due.callback, now=now, hold=hold)


async def record_consult_attempt(
    session: AsyncSession,
    *,
    callback_id: int,
    request_id: int,
    doctor_id: int,
    started_at: datetime,
    ended_at: datetime,
    result: CallbackResult,
    max_attempts: int,
    retry_after: float,
    call_id: int | None = None,
) -> None:
    """Write a try (a `callback_attempt` row linked to its call record `call_id`, the
    callback's next try or end) and move the request: done by the doctor when connected,
    else open again. A request the doctor finished by hand meanwhile is left as it is."""
    connected = result is CallbackResult.CONNECTED
    await record_attempt(
        session,
        callback_id=callback_id,
        call_id=call_id,
        started_at=started_at,
        ended_at=ended_at,
        result=result,
        operator_id=doctor_id if connected else None,
        max_attempts=max_attempts,
        retry_after=retry_after,
    )
    values: dict[str, object] = (
        {"status": ConsultStatus.DONE, "done_by_id": doctor_id, "done_at": ended_at}
        if connected
        else {"status": ConsultStatus.OPEN, "taken_by_id": None, "taken_at": None}
    )
    values["dialling_until"] = None
    await session.execute(
        update(ConsultRequest)
        .where(
            ConsultRequest.id == request_id,
            ConsultRequest.status == ConsultStatus.TAKEN,
            ConsultRequest.taken_by_id == doctor_id,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def release_line_claims(
    session: AsyncSession, *, now: datetime, request_ids: Iterable[int] | None = None
) -> int:
    """Open again the requests the line holds for tries that will not be recorded: those
    named (tries a stopping line cut), else those whose hold has passed (a line that
    crashed). A request a doctor took by hand holds no `dialling_until` and is left alone.
    Returns how many were released."""
    stmt = update(ConsultRequest).where(
        ConsultRequest.status == ConsultStatus.TAKEN,
        ConsultRequest.dialling_until.is_not(None),
    )
    if request_ids is not None:
        ids = list(request_ids)
        if not ids:
            return 0
        stmt = stmt.where(ConsultRequest.id.in_(ids))
    else:
        stmt = stmt.where(ConsultRequest.dialling_until <= now)
    done = await session.execute(
        stmt.values(
            status=ConsultStatus.OPEN, taken_by_id=None, taken_at=None, dialling_until=None
        ).execution_options(synchronize_session=False)
    )
    return int(getattr(done, "rowcount", 0) or 0)
