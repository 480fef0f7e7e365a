"""Swaps: the holder of a place on the roster asks to hand it to a colleague; a supervisor
approves (the place moves) or rejects."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.db import utcnow
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.messages import msg
from hotline.staffing.checks import check_not_over, holds_place, queue_taker
from hotline.staffing.models import RosterEntry, ShiftSwap, ShiftTemplate, SwapStatus
from hotline.staffing.paging import DEFAULT_LIMIT, Page, newest_first

DECIDE_REFUSED = msg("Chỉ trưởng ca và quản trị viên được duyệt đổi ca")


async def _not_over(session: AsyncSession, entry: RosterEntry, field: str) -> None:
    shift = await session.get(ShiftTemplate, entry.shift_id)
    if shift is not None:
        check_not_over(session, shift, entry.day, field)


async def request_swap(
    session: AsyncSession, *, actor: Actor, entry_id: int, to_user_id: int, reason: str = ""
) -> ShiftSwap:
    """An operator asks to hand their place on a shift to a colleague who answers the
    operator queue; the same request twice while the first waits is refused."""
    require(actor, Permission.SEE_ROSTER, msg("Chỉ nhân viên tổng đài được xin đổi ca"))
    entry = await session.get(RosterEntry, entry_id)
    if entry is None or (
        entry.user_id != actor.user_id and not allows(actor, Permission.MANAGE_STAFFING)
    ):
        raise NotFound("Không tìm thấy lượt trực", field="entry_id")
    await _not_over(session, entry, "entry_id")
    if entry.user_id is None or to_user_id == entry.user_id:
        raise InvalidInput("Chọn một đồng nghiệp khác để đổi ca", field="to_user_id")
    await queue_taker(session, to_user_id, "to_user_id")
    pending = await session.scalar(
        select(ShiftSwap.id).where(
            ShiftSwap.entry_id == entry.id,
            ShiftSwap.to_user_id == to_user_id,
            ShiftSwap.status == SwapStatus.REQUESTED,
        )
    )
    if pending is not None:
        raise Conflict(
            msg("Yêu cầu đổi ca này đang chờ duyệt (mã {swap_id})", swap_id=pending),
            field="to_user_id",
        )
    swap = ShiftSwap(
        entry_id=entry.id,
        requested_by=entry.user_id,
        to_user_id=to_user_id,
        reason=reason.strip()[:500],
        status=SwapStatus.REQUESTED,
    )
    try:
        async with session.begin_nested():
            session.add(swap)
            await session.flush()
    except IntegrityError:
        # The same request sent at once landed first (uq_shift_swap_pending).
        raise Conflict("Yêu cầu đổi ca này đang chờ duyệt", field="to_user_id") from None
    return swap


async def list_swaps(
    session: AsyncSession,
    *,
    actor: Actor,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[ShiftSwap]:
    """Swap requests, newest first, a page at a time: supervisors see all, operators
    theirs (either side)."""
    require(actor, Permission.SEE_ROSTER)
    stmt = select(ShiftSwap)
    if status:
        try:
            stmt = stmt.where(ShiftSwap.status == SwapStatus(status))
        except ValueError:
            raise InvalidInput(
                msg("Trạng thái không hợp lệ: {status}", status=status), field="status"
            ) from None
    if not allows(actor, Permission.MANAGE_STAFFING):
        stmt = stmt.where(
            or_(ShiftSwap.requested_by == actor.user_id, ShiftSwap.to_user_id == actor.user_id)
        )
    return await newest_first(session, stmt, ShiftSwap.id, cursor=cursor, limit=limit)


async def decide_swap(
    session: AsyncSession, *, actor: Actor, swap_id: int, approve: bool
) -> ShiftSwap:
    """A supervisor approves (the place passes to the colleague) or rejects a swap.
    Approving cancels the other requests still waiting for the same place: it has moved."""
    require(actor, Permission.MANAGE_STAFFING, DECIDE_REFUSED)
    swap = await session.get(ShiftSwap, swap_id)
    if swap is None:
        raise NotFound("Không tìm thấy yêu cầu đổi ca", field="swap_id")
    await _lock_place(session, swap)
    if swap.status is SwapStatus.CANCELLED:
        raise InvalidTransition(
            "Yêu cầu đổi ca này đã bị hủy: lượt trực đã được đổi cho người khác",
            field="swap_id",
        )
    if swap.status is not SwapStatus.REQUESTED:
        raise InvalidTransition("Yêu cầu đổi ca này đã được xử lý", field="swap_id")
    now = utcnow()
    # Conditional updates: of two supervisors deciding at once, or approving two requests
    # for the same place, one wins and the other is told (the row count).
    decided = await session.execute(
        update(ShiftSwap)
        .where(ShiftSwap.id == swap.id, ShiftSwap.status == SwapStatus.REQUESTED)
        .values(
            status=SwapStatus.APPROVED if approve else SwapStatus.REJECTED,
            decided_by=actor.user_id,
            decided_at=now,
        )
        .execution_options(synchronize_session="fetch")
    )
    if getattr(decided, "rowcount", 0) != 1:
        raise InvalidTransition("Yêu cầu đổi ca này đã được xử lý", field="swap_id")
    if approve:
        await _move_place(session, actor=actor, swap=swap, now=now)
    await session.flush()
    return swap


async def _lock_place(session: AsyncSession, swap: ShiftSwap) -> None:
    """Lock, in one order for every decision, the shift of the swap's place, the place,
    then the requests for it by id, and read them afresh: two decisions at once (two
    requests for one place, or two places handed to one colleague on one shift) then run
    one after the other instead of deadlocking, and the second sees what the first did.
    The shift's row is taken FOR NO KEY UPDATE, as placing people on the shift takes it
    (placing.assign): rows that merely refer to the shift do not wait for it."""
    shift_id = await session.scalar(
        select(RosterEntry.shift_id).where(RosterEntry.id == swap.entry_id)
    )
    if shift_id is not None:
        await session.execute(
            select(ShiftTemplate.id)
            .where(ShiftTemplate.id == shift_id)
            .with_for_update(key_share=True)
        )
    await session.execute(
        select(RosterEntry)
        .where(RosterEntry.id == swap.entry_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    await session.execute(
        select(ShiftSwap)
        .where(ShiftSwap.entry_id == swap.entry_id)
        .order_by(ShiftSwap.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    # The place may have gone meanwhile (taken off the roster: its requests with it).
    if await session.get(ShiftSwap, swap.id, populate_existing=True) is None:
        raise NotFound("Không tìm thấy yêu cầu đổi ca", field="swap_id")


async def _move_place(
    session: AsyncSession, *, actor: Actor, swap: ShiftSwap, now: datetime
) -> None:
    """The approved swap's place passes to the colleague; the other requests waiting for
    it are cancelled."""
    # The colleague may have changed role since the request.
    await queue_taker(session, swap.to_user_id, "to_user_id")
    entry = await session.get(RosterEntry, swap.entry_id)
    if entry is None:
        raise Conflict("Lượt trực đã thay đổi từ khi yêu cầu", field="swap_id")
    await _not_over(session, entry, "swap_id")
    # On the shift already, directly or through the volunteer offer linked to their account.
    if await holds_place(session, day=entry.day, shift_id=entry.shift_id, user_id=swap.to_user_id):
        raise Conflict("Đồng nghiệp đã có trong ca này", field="swap_id")
    moved = await session.execute(
        update(RosterEntry)
        .where(RosterEntry.id == entry.id, RosterEntry.user_id == swap.requested_by)
        .values(user_id=swap.to_user_id)
        .execution_options(synchronize_session="fetch")
    )
    if getattr(moved, "rowcount", 0) != 1:
        raise Conflict("Lượt trực đã thay đổi từ khi yêu cầu", field="swap_id")
    await session.execute(
        update(ShiftSwap)
        .where(ShiftSwap.entry_id == entry.id, ShiftSwap.status == SwapStatus.REQUESTED)
        .values(status=SwapStatus.CANCELLED, decided_by=actor.user_id, decided_at=now)
        .execution_options(synchronize_session="fetch")
    )
