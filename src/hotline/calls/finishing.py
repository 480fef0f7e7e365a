"""Finishing a call recorded through the API while still in progress: a call answered and
not yet ended is stored but not counted, so it needs its end to count, once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.calls.models import Call, CallOutcome
from hotline.calls.service import MAX_CALL_SECONDS, count_finished
from hotline.calls.times import check_end
from hotline.db import utcnow
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.messages import msg


def _outcome(raw: str | None) -> CallOutcome | None:
    if raw is None:
        return None
    try:
        return CallOutcome(raw)
    except ValueError:
        raise InvalidInput(
            msg("Kết quả cuộc gọi không hợp lệ: {outcome}", outcome=raw), field="outcome"
        ) from None


async def finish_recorded_call(
    session: AsyncSession,
    *,
    actor: Actor,
    call_id: int,
    ended_at: datetime,
    talk_seconds: int | None = None,
    outcome: str | None = None,
) -> Call:
    """End a call still in progress (shift leads and administrators, as they record calls)
    and count it in the reports' and the forecast's counters. The end is written by one
    conditional UPDATE (where `ended_at` is still null), so of two requests at once only
    one counts it; the same end sent again (a retried request) answers the call as it is
    and counts nothing; a different end for a call already ended is refused (409 naming
    `ended_at`). `talk_seconds` defaults to the time from the answer to the end. An end in
    the future (beyond times.CLOCK_SKEW) or more than a day after the start: 422 naming
    `ended_at`. A call the phone line recorded (it has a `record_key`) is ended by the
    line, not through the API: 409 naming `call_id`."""
    require(actor, Permission.WRITE_CALLS)
    call = await session.get(Call, call_id)
    if call is None:
        raise NotFound("Không tìm thấy cuộc gọi", field="call_id")
    if ended_at.tzinfo is None:
        raise InvalidInput("Thời điểm phải có múi giờ", field="ended_at")
    if call.record_key is not None:
        raise Conflict(
            msg("Cuộc gọi do tổng đài tự ghi; tổng đài ghi thời điểm kết thúc"), field="call_id"
        )
    check_end(
        started_at=call.started_at, answered_at=call.answered_at, ended_at=ended_at, now=utcnow()
    )
    new_outcome = _outcome(outcome)
    if call.answered_at is None and new_outcome not in (None, call.outcome):
        # An unanswered call was counted, with its outcome, when it was recorded.
        raise InvalidInput(
            "Cuộc gọi không được trả lời đã được tính với kết quả đã ghi", field="outcome"
        )
    if talk_seconds is None:
        talk_seconds = int((ended_at - call.answered_at).total_seconds()) if call.answered_at else 0
    if not 0 <= talk_seconds <= MAX_CALL_SECONDS:
        raise InvalidInput("Thời lượng từ 0 đến 86400 giây", field="talk_seconds")
    values: dict[str, object] = {"ended_at": ended_at, "talk_seconds": talk_seconds}
    if new_outcome is not None:
        values["outcome"] = new_outcome
    done = await session.execute(
        update(Call)
        .where(Call.id == call_id, Call.ended_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(call)
    if done.rowcount == 1:  # type: ignore[attr-defined]
        if call.answered_at is not None:  # an unanswered one was counted when recorded
            await count_finished(session, call)
        return call
    same = (
        call.ended_at == ended_at
        and call.talk_seconds == talk_seconds
        and (new_outcome is None or call.outcome is new_outcome)
    )
    if not same:
        raise Conflict(
            msg(
                "Cuộc gọi đã kết thúc lúc {at}; không ghi lại thời điểm kết thúc khác",
                at=call.ended_at.isoformat() if call.ended_at else "",
            ),
            field="ended_at",
        )
    return call
