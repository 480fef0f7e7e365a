"""Callbacks the phone line dials itself: which are due, claiming one, and each try's result.

A try is claimed with a conditional update on the attempt count (`UPDATE ... WHERE attempts
= :seen`), so two line instances sharing the database never dial the same callback at once;
the claim also pushes `next_attempt_at` past the try's longest length, so a line that dies
mid-try leaves the callback to be tried again later, not lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.calls.models import Callback, CallbackAttempt, CallbackResult, CallbackStatus
from hotline.errors import NotFound


@dataclass(frozen=True)
class DueCallback:
    id: int
    caller: str
    line: str
    branch: str
    attempts: int


async def due_callbacks(
    session: AsyncSession,
    *,
    branches: list[str],
    now: datetime,
    exclude: Select[Any] | None = None,
    limit: int = 20,
) -> list[DueCallback]:
    """Open callbacks of these queues that may be tried now, oldest place first; without
    the ids `exclude` selects (those others call back themselves)."""
    if not branches:
        return []
    rows = await session.execute(
        select(Callback.id, Callback.caller, Callback.line, Callback.branch, Callback.attempts)
        .where(
            Callback.status == CallbackStatus.OPEN,
            Callback.branch.in_(branches),
            Callback.caller != "",
            or_(Callback.due_at.is_(None), Callback.due_at <= now),
            or_(Callback.next_attempt_at.is_(None), Callback.next_attempt_at <= now),
        )
        .where(Callback.id.not_in(exclude) if exclude is not None else true())
        .order_by(Callback.queued_at, Callback.id)
        .limit(limit)
    )
    return [DueCallback(*row) for row in rows.all()]


async def claim_callback(
    session: AsyncSession, *, callback: DueCallback, now: datetime, hold: float
) -> bool:
    """Take the next try of a callback for `hold` seconds; False if another line took it."""
    result = await session.execute(
        update(Callback)
        .where(
            Callback.id == callback.id,
            Callback.status == CallbackStatus.OPEN,
            Callback.attempts == callback.attempts,
        )
        .values(attempts=callback.attempts + 1, next_attempt_at=now + timedelta(seconds=hold))
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


async def record_attempt(
    session: AsyncSession,
    *,
    callback_id: int,
    started_at: datetime,
    ended_at: datetime,
    result: CallbackResult,
    operator_id: int | None,
    max_attempts: int,
    retry_after: float,
    call_id: int | None = None,
) -> Callback | None:
    """Write a try's result (linked to its outbound call record, `call_id`): connected is
    done (by the operator); otherwise the next try is due `retry_after` seconds later, or
    the callback has failed after `max_attempts`."""
    session.add(
        CallbackAttempt(
            callback_id=callback_id,
            call_id=call_id,
            started_at=started_at,
            ended_at=ended_at,
            operator_id=operator_id,
            result=result,
        )
    )
    callback = await session.get(Callback, callback_id)
    if callback is None or callback.status is not CallbackStatus.OPEN:
        await session.flush()
        return callback
    if result is CallbackResult.CONNECTED:
        callback.status = CallbackStatus.DONE
        callback.done_at, callback.done_by = ended_at, operator_id
        callback.next_attempt_at = None
    elif callback.attempts >= max_attempts:
        callback.status = CallbackStatus.FAILED
        callback.next_attempt_at = None
    else:
        callback.next_attempt_at = ended_at + timedelta(seconds=retry_after)
    await session.flush()
    return callback


async def list_attempts(
    session: AsyncSession, *, actor: Actor, callback_id: int
) -> list[CallbackAttempt]:
    """A callback's tries by the line, first first (hotline staff; no personal data)."""
    require(actor, Permission.RECORD_CALLS)
    if await session.get(Callback, callback_id) is None:
        raise NotFound("Không tìm thấy yêu cầu gọi lại", field="callback_id")
    rows = await session.scalars(
        select(CallbackAttempt)
        .where(CallbackAttempt.callback_id == callback_id)
        .order_by(CallbackAttempt.id)
    )
    return list(rows.all())
