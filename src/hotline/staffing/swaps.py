"""Swaps: the holder of a place on the roster asks to hand it to a colleague; the colleague
accepts or declines (swap_answers.py); a supervisor approves what they accepted (the place
moves) or rejects. Each step is told live as a `staffing.swap` event, which the two people
of the swap, whoever filed it and the supervisors see (web/sse.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import User
from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.db import utcnow
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.events import DomainEvent, record_event
from hotline.messages import msg
from hotline.staffing.checks import (
    OPERATOR_ROLES,
    check_not_over,
    free_text,
    holds_place,
    queue_taker,
    too_close,
)
from hotline.staffing.models import RosterEntry, ShiftSwap, ShiftTemplate, SwapStatus, Volunteer
from hotline.staffing.paging import DEFAULT_LIMIT, Page, newest_first

DECIDE_REFUSED = msg("Chỉ trưởng ca và quản trị viên được duyệt đổi ca")
# A request not yet decided: waiting for the colleague's answer, or accepted by them.
LIVE = (SwapStatus.REQUESTED, SwapStatus.ACCEPTED)


def announce(session: AsyncSession, swap: ShiftSwap) -> None:
    """Tell the people of the swap and the supervisors of its new state (after commit)."""
    record_event(
        session,
        DomainEvent(
            kind="staffing.swap",
            data={
                "swap_id": swap.id,
                "entry_id": swap.entry_id,
                "status": swap.status.value,
                "requested_by": swap.requested_by,
                "filed_by": swap.filed_by,
                "to_user_id": swap.to_user_id,
            },
        ),
    )


async def check_colleague_free(session: AsyncSession, swap: ShiftSwap, field: str) -> RosterEntry:
    """Whether the colleague may still take the swap's place, checked when they accept and
    again when a supervisor approves (the roster may have changed in between): still a
    call taker, the shift not over, not on that shift already, and 12 hours' rest from
    their other shifts (checks.SELF_ROSTER_REST: taking a place is their own choice, as
    putting themselves on the roster is). Refusals are 409 (422 for a shift over) naming
    `field`. Returns the place."""
    await queue_taker(session, swap.to_user_id, field)
    entry = await session.get(RosterEntry, swap.entry_id)
    shift = None if entry is None else await session.get(ShiftTemplate, entry.shift_id)
    if entry is None or shift is None:
        raise Conflict("Lượt trực đã thay đổi từ khi yêu cầu", field=field)
    check_not_over(session, shift, entry.day, field)
    # On the shift already, directly or through the volunteer offer linked to their account.
    if await holds_place(session, day=entry.day, shift_id=entry.shift_id, user_id=swap.to_user_id):
        raise Conflict("Đồng nghiệp đã có trong ca này", field=field)
    close = await too_close(session, shift=shift, day=entry.day, user_id=swap.to_user_id)
    if close is not None:
        other, other_day = close
        raise Conflict(
            msg(
                "Người nhận ca đã có {shift} ngày {day}; nhận đổi ca cần nghỉ ít nhất 12 giờ "
                "giữa hai ca",
                shift=other.name,
                day=other_day.strftime("%d/%m/%Y"),
            ),
            field=field,
        )
    return entry


async def _not_over(session: AsyncSession, entry: RosterEntry, field: str) -> None:
    shift = await session.get(ShiftTemplate, entry.shift_id)
    if shift is not None:
        check_not_over(session, shift, entry.day, field)


async def request_swap(
    session: AsyncSession, *, actor: Actor, entry_id: int, to_user_id: int, reason: str = ""
) -> ShiftSwap:
    """The holder of a place (their own, or one of the volunteer offer linked to their
    account), or a supervisor for them, asks to hand it to a colleague who answers the
    operator queue. Refused: the same request twice while the first waits, and a colleague
    already on that shift (directly or through their linked offer: one person, one place).
    `requested_by` is the holder, `filed_by` who sent it."""
    require(actor, Permission.SEE_ROSTER, msg("Chỉ nhân viên tổng đài được xin đổi ca"))
    entry = await session.get(RosterEntry, entry_id)
    holder = None if entry is None else await _holder(session, entry)
    if entry is None or (holder != actor.user_id and not allows(actor, Permission.MANAGE_STAFFING)):
        raise NotFound("Không tìm thấy lượt trực", field="entry_id")
    await _not_over(session, entry, "entry_id")
    if holder is None:  # a volunteer without an account: a supervisor moves their place
        raise InvalidInput(
            "Tình nguyện viên chưa gắn tài khoản không xin đổi ca được", field="entry_id"
        )
    if to_user_id == holder:
        raise InvalidInput("Chọn một đồng nghiệp khác để đổi ca", field="to_user_id")
    await queue_taker(session, to_user_id, "to_user_id")
    if await holds_place(session, day=entry.day, shift_id=entry.shift_id, user_id=to_user_id):
        raise Conflict("Đồng nghiệp đã có trong ca này", field="to_user_id")
    reason = free_text(reason, "reason", 500)
    pending = await session.scalar(
        select(ShiftSwap.id).where(
            ShiftSwap.entry_id == entry.id,
            ShiftSwap.to_user_id == to_user_id,
            ShiftSwap.status.in_(LIVE),
        )
    )
    if pending is not None:
        raise Conflict(
            msg("Yêu cầu đổi ca này đang chờ xử lý (mã {swap_id})", swap_id=pending),
            field="to_user_id",
        )
    swap = ShiftSwap(
        entry_id=entry.id,
        requested_by=holder,
        filed_by=actor.user_id,
        to_user_id=to_user_id,
        reason=reason,
        status=SwapStatus.REQUESTED,
    )
    try:
        async with session.begin_nested():
            session.add(swap)
            await session.flush()
    except IntegrityError:
        # The same request sent at once landed first (uq_shift_swap_pending).
        raise Conflict("Yêu cầu đổi ca này đang chờ xử lý", field="to_user_id") from None
    announce(session, swap)
    return swap


async def _holder(session: AsyncSession, entry: RosterEntry) -> int | None:
    """The account holding a place: the staff member's, or the one linked to the
    volunteer offer on it (None for a volunteer without an account)."""
    if entry.user_id is not None:
        return entry.user_id
    return await session.scalar(select(Volunteer.user_id).where(Volunteer.id == entry.volunteer_id))


async def withdraw_swap(session: AsyncSession, *, actor: Actor, swap_id: int) -> ShiftSwap:
    """The holder of the place, or whoever filed the request, takes back a request nobody
    has decided yet, accepted by the colleague or not (anyone else: 404; a decided or
    declined one: 409 naming `swap_id`)."""
    require(actor, Permission.SEE_ROSTER, msg("Chỉ nhân viên tổng đài được xin đổi ca"))
    swap = await session.get(ShiftSwap, swap_id)
    if swap is None or actor.user_id not in (swap.requested_by, swap.filed_by):
        raise NotFound("Không tìm thấy yêu cầu đổi ca", field="swap_id")
    await lock_place(session, swap)
    # Conditional: a decision landing at the same moment wins or loses as a whole.
    withdrawn = await session.execute(
        update(ShiftSwap)
        .where(ShiftSwap.id == swap.id, ShiftSwap.status.in_(LIVE))
        .values(status=SwapStatus.WITHDRAWN, decided_by=actor.user_id, decided_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    if getattr(withdrawn, "rowcount", 0) != 1:
        raise InvalidTransition("Yêu cầu đổi ca này đã được xử lý", field="swap_id")
    await session.flush()
    announce(session, swap)
    return swap


async def colleagues(session: AsyncSession, *, actor: Actor) -> list[tuple[int, str]]:
    """Whom a call taker may ask to take a place: the other active operators and
    supervisors, by name (their names only, as the swaps list shows them)."""
    require(actor, Permission.SEE_ROSTER)
    rows = await session.execute(
        select(User.id, func.coalesce(User.full_name, User.username))
        .where(User.active.is_(True), User.role.in_(OPERATOR_ROLES), User.id != actor.user_id)
        .order_by(func.coalesce(User.full_name, User.username), User.id)
    )
    return [(int(i), str(n)) for i, n in rows.all()]


async def list_swaps(
    session: AsyncSession,
    *,
    actor: Actor,
    status: str | None = None,
    to_me: bool = False,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[ShiftSwap]:
    """Swap requests, newest first, a page at a time: supervisors see all, operators
    theirs (either side); `to_me`: only those naming the actor as the colleague."""
    require(actor, Permission.SEE_ROSTER)
    stmt = select(ShiftSwap)
    if to_me:
        stmt = stmt.where(ShiftSwap.to_user_id == actor.user_id)
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
    """A supervisor approves a swap the colleague accepted (the place passes to them,
    checked again as at acceptance: check_colleague_free) or rejects one accepted or still
    waiting for the colleague. Approving cancels the other requests still live for the same
    place: it has moved. Told as a `staffing.swap` event."""
    require(actor, Permission.MANAGE_STAFFING, DECIDE_REFUSED)
    swap = await session.get(ShiftSwap, swap_id)
    if swap is None:
        raise NotFound("Không tìm thấy yêu cầu đổi ca", field="swap_id")
    await lock_place(session, swap)
    if swap.status is SwapStatus.CANCELLED:
        raise InvalidTransition(
            "Yêu cầu đổi ca này đã bị hủy: lượt trực đã được đổi cho người khác",
            field="swap_id",
        )
    if swap.status is SwapStatus.WITHDRAWN:
        raise InvalidTransition("Yêu cầu đổi ca này đã được rút lại", field="swap_id")
    if swap.status is SwapStatus.DECLINED:
        raise InvalidTransition("Đồng nghiệp đã từ chối nhận ca này", field="swap_id")
    if approve and swap.status is SwapStatus.REQUESTED:
        raise InvalidTransition(
            "Đồng nghiệp chưa nhận ca này; chỉ duyệt được sau khi người nhận ca đồng ý",
            field="swap_id",
        )
    if swap.status not in LIVE:
        raise InvalidTransition("Yêu cầu đổi ca này đã được xử lý", field="swap_id")
    now = utcnow()
    expected = swap.status
    # Conditional updates: of two supervisors deciding at once, or approving two requests
    # for the same place, one wins and the other is told (the row count).
    decided = await session.execute(
        update(ShiftSwap)
        .where(ShiftSwap.id == swap.id, ShiftSwap.status == expected)
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
    announce(session, swap)
    return swap


async def lock_place(session: AsyncSession, swap: ShiftSwap) -> None:
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
    # The colleague's role, the roster and their rest may have changed since they accepted.
    entry = await check_colleague_free(session, swap, "swap_id")
    # The place still the requester's (a volunteer's place becomes the colleague's own).
    if await _holder(session, entry) != swap.requested_by:
        raise Conflict("Lượt trực đã thay đổi từ khi yêu cầu", field="swap_id")
    moved = await session.execute(
        update(RosterEntry)
        .where(
            RosterEntry.id == entry.id,
            RosterEntry.user_id.is_not_distinct_from(entry.user_id),
            RosterEntry.volunteer_id.is_not_distinct_from(entry.volunteer_id),
        )
        .values(user_id=swap.to_user_id, volunteer_id=None)
        .execution_options(synchronize_session="fetch")
    )
    if getattr(moved, "rowcount", 0) != 1:
        raise Conflict("Lượt trực đã thay đổi từ khi yêu cầu", field="swap_id")
    await session.execute(
        update(ShiftSwap)
        .where(ShiftSwap.entry_id == entry.id, ShiftSwap.status.in_(LIVE))
        .values(status=SwapStatus.CANCELLED, decided_by=actor.user_id, decided_at=now)
        .execution_options(synchronize_session="fetch")
    )
