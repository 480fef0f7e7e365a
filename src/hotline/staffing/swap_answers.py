"""The colleague a swap names answers it: accepts (then a supervisor may approve it) or
declines (the request ends there). Rostering tools work the same way (the person taking a
shift agrees before the manager signs it off): a place must never pass to someone who
did not agree to work it."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.db import utcnow
from hotline.errors import InvalidTransition, NotFound
from hotline.messages import msg
from hotline.staffing.models import ShiftSwap, SwapStatus
from hotline.staffing.swaps import announce, check_colleague_free, lock_place

ANSWERED = {
    SwapStatus.ACCEPTED: msg("Bạn đã nhận ca này; yêu cầu đang chờ trưởng ca duyệt"),
    SwapStatus.DECLINED: msg("Bạn đã từ chối yêu cầu đổi ca này"),
    SwapStatus.WITHDRAWN: msg("Yêu cầu đổi ca này đã được rút lại"),
    SwapStatus.CANCELLED: msg("Yêu cầu đổi ca này đã bị hủy: lượt trực đã được đổi cho người khác"),
}


async def answer_swap(
    session: AsyncSession, *, actor: Actor, swap_id: int, accept: bool
) -> ShiftSwap:
    """The colleague named on a waiting swap accepts or declines it; nobody else may
    (404, as for a request they cannot see). Accepting checks that they may take the place
    (swaps.check_colleague_free: not on the shift already, 12 hours' rest; 409 naming
    `swap_id`). An answered request is not answered again (409). Records who answered and
    when, and tells the people of the swap and the supervisors (`staffing.swap`)."""
    require(actor, Permission.SEE_ROSTER, msg("Chỉ nhân viên tổng đài được nhận đổi ca"))
    swap = await session.get(ShiftSwap, swap_id)
    if swap is None or swap.to_user_id != actor.user_id:
        raise NotFound("Không tìm thấy yêu cầu đổi ca", field="swap_id")
    await lock_place(session, swap)
    if swap.status is not SwapStatus.REQUESTED:
        already = ANSWERED.get(swap.status, msg("Yêu cầu đổi ca này đã được xử lý"))
        raise InvalidTransition(already, field="swap_id")
    if accept:
        await check_colleague_free(session, swap, "swap_id")
    # Conditional: a withdrawal or a rejection landing at the same moment wins or loses
    # as a whole.
    answered = await session.execute(
        update(ShiftSwap)
        .where(ShiftSwap.id == swap.id, ShiftSwap.status == SwapStatus.REQUESTED)
        .values(
            status=SwapStatus.ACCEPTED if accept else SwapStatus.DECLINED,
            answered_by=actor.user_id,
            answered_at=utcnow(),
        )
        .execution_options(synchronize_session="fetch")
    )
    if getattr(answered, "rowcount", 0) != 1:
        raise InvalidTransition("Yêu cầu đổi ca này đã được xử lý", field="swap_id")
    await session.flush()
    announce(session, swap)
    return swap
