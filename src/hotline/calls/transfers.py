"""A call's transfer attempts: each try at putting a caller through to a destination."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.calls.models import Call, TransferAttempt, TransferMethod, TransferResult


@dataclass
class NewAttempt:
    """One try, as the phone line sees it while the call goes on."""

    method: str  # TransferMethod
    destination: str  # the destination's (or queue's) name
    target: str | None
    started_at: datetime
    ended_at: datetime | None = None
    result: str | None = None  # TransferResult; None: still going, settled at the call's end
    sip_status: int | None = None


async def add_attempts(
    session: AsyncSession, *, call_id: int, attempts: Sequence[NewAttempt]
) -> None:
    """Store a call's attempts in their order (the phone line, once the call has ended)."""
    for seq, a in enumerate(attempts, start=1):
        session.add(
            TransferAttempt(
                call_id=call_id,
                seq=seq,
                method=TransferMethod(a.method),
                destination=a.destination[:20],
                target=a.target[:200] if a.target else None,
                started_at=a.started_at,
                ended_at=a.ended_at,
                result=TransferResult(a.result or TransferResult.ABANDONED.value),
                sip_status=a.sip_status,
            )
        )
    if attempts:
        await session.flush()


async def amend_attempt(
    session: AsyncSession,
    *,
    record_key: str,
    seq: int,
    was: str,
    result: str,
    sip_status: int | None,
    ended_at: datetime | None,
) -> bool:
    """A report that came after the call's record was handed over (a REFER's final NOTIFY
    after the call ended) changes the attempt, only from the result it had then: written
    again (a spool replay) it changes nothing. False if no attempt matched (the record
    already said so, or is not stored)."""
    call_id = select(Call.id).where(Call.record_key == record_key).scalar_subquery()
    done = await session.execute(
        update(TransferAttempt)
        .where(
            TransferAttempt.call_id == call_id,
            TransferAttempt.seq == seq,
            TransferAttempt.result == TransferResult(was),
        )
        .values(result=TransferResult(result), sip_status=sip_status, ended_at=ended_at)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(done, "rowcount", 0))


async def attempts_of(
    session: AsyncSession, *, call_ids: Iterable[int]
) -> dict[int, list[TransferAttempt]]:
    """The attempts of these calls (the caller's access to the calls already checked)."""
    ids = list(call_ids)
    out: dict[int, list[TransferAttempt]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = await session.scalars(
        select(TransferAttempt)
        .where(TransferAttempt.call_id.in_(ids))
        .order_by(TransferAttempt.call_id, TransferAttempt.seq)
    )
    for row in rows:
        out[row.call_id].append(row)
    return out
