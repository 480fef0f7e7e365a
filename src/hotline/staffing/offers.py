"""An approved volunteer's offer afterwards: withdrawn (by the volunteer or a supervisor)
and its account changed. A withdrawal takes the volunteer off every shift not yet begun and
keeps the places already worked or being worked, the roster of the past being a record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.db import utcnow
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.messages import msg
from hotline.site import site_of
from hotline.staffing.checks import free_text, queue_taker, shift_span
from hotline.staffing.models import RosterEntry, ShiftTemplate, Volunteer, VolunteerStatus

log = structlog.get_logger(__name__)
LIVE = (VolunteerStatus.PENDING, VolunteerStatus.APPROVED)
REASON_LENGTH = 200


@dataclass(frozen=True)
class Withdrawal:
    volunteer: Volunteer
    places_removed: int  # places on shifts not yet begun, taken off


async def _offer(session: AsyncSession, volunteer_id: int) -> Volunteer:
    volunteer = await session.scalar(
        select(Volunteer).where(Volunteer.id == volunteer_id).with_for_update()
    )
    if volunteer is None:
        raise NotFound("Không tìm thấy tình nguyện viên", field="volunteer_id")
    return volunteer


async def own_offer(session: AsyncSession, *, actor: Actor) -> Volunteer:
    """The live offer linked to the actor's account (404 naming `volunteer_id` when none):
    what a volunteer who answers calls with an account reads and withdraws."""
    require(actor, Permission.SEE_ROSTER)
    volunteer = await session.scalar(
        select(Volunteer).where(Volunteer.user_id == actor.user_id, Volunteer.status.in_(LIVE))
    )
    if volunteer is None or actor.user_id is None:
        raise NotFound(
            "Tài khoản này không gắn với đăng ký tình nguyện viên nào", field="volunteer_id"
        )
    return volunteer


async def withdraw(
    session: AsyncSession, *, actor: Actor, volunteer_id: int, reason: str = ""
) -> Withdrawal:
    """Withdraw a waiting or approved offer: a supervisor's decision, or the volunteer's
    own through the account linked to it (anyone else: 404). Its places on shifts not yet
    begun are removed; places on shifts begun or ended stay as the record of who worked.
    The number may then offer again. The offer keeps its account link, as the record of
    whose places the past ones were (the roster counts a volunteer's place by the account
    linked to the offer), but holds the account no more: another offer may be linked to it.
    409 naming `volunteer_id` when already refused or withdrawn."""
    require(actor, Permission.SEE_ROSTER)
    volunteer = await _offer(session, volunteer_id)
    lead = allows(actor, Permission.MANAGE_STAFFING)
    if not lead and (actor.user_id is None or volunteer.user_id != actor.user_id):
        raise NotFound("Không tìm thấy tình nguyện viên", field="volunteer_id")
    if volunteer.status not in LIVE:
        raise InvalidTransition("Đăng ký này đã bị từ chối hoặc đã rút", field="volunteer_id")
    reason = free_text(reason, "reason", REASON_LENGTH + 1)
    if len(reason) > REASON_LENGTH:
        raise InvalidInput(msg("Lý do tối đa {n} ký tự", n=REASON_LENGTH), field="reason")
    now = utcnow()
    tz = site_of(session).timezone
    entries = (
        await session.execute(
            select(RosterEntry, ShiftTemplate)
            .join(ShiftTemplate, ShiftTemplate.id == RosterEntry.shift_id)
            .where(RosterEntry.volunteer_id == volunteer.id)
            .with_for_update(of=RosterEntry)
        )
    ).all()
    removed = 0
    for entry, shift in entries:
        if shift_span(shift, entry.day, tz)[0] > now:
            await session.delete(entry)
            removed += 1
    volunteer.status = VolunteerStatus.WITHDRAWN
    volunteer.withdrawn_at, volunteer.withdrawn_by = now, actor.user_id
    volunteer.withdraw_reason = reason
    volunteer.code_hash = None
    await session.flush()
    log.info("volunteer_withdrawn", volunteer_id=volunteer.id, by=actor.user_id, removed=removed)
    return Withdrawal(volunteer, removed)


async def relink(
    session: AsyncSession, *, actor: Actor, volunteer_id: int, user_id: int | None
) -> Volunteer:
    """Change the account an approved volunteer answers calls with, or unlink it (None),
    when the wrong one was linked (supervisors). The account: an active operator's or
    supervisor's (else 422) linked to no other waiting or approved offer (409; a
    withdrawn offer keeps its link, so its past places stay that person's), and not itself
    on a shift not yet begun that this volunteer's offer is on (one person, one place;
    409 naming `user_id`)."""
    require(
        actor,
        Permission.MANAGE_STAFFING,
        msg("Chỉ trưởng ca và quản trị viên được đổi tài khoản của tình nguyện viên"),
    )
    volunteer = await _offer(session, volunteer_id)
    if volunteer.status is not VolunteerStatus.APPROVED:
        raise InvalidTransition(
            "Chỉ liên kết tài khoản cho tình nguyện viên đã được duyệt", field="volunteer_id"
        )
    if user_id is not None:
        user = await queue_taker(session, user_id, "user_id")
        # Named, not numbered: the supervisor picked the account by name on the page.
        account = f"{user.full_name or user.username} ({user.username})"
        other = await session.scalar(
            select(Volunteer.full_name).where(
                Volunteer.user_id == user.id,
                Volunteer.id != volunteer.id,
                Volunteer.status.in_(LIVE),
            )
        )
        if other is not None:
            raise Conflict(
                msg(
                    "Tài khoản {account} đã gắn với tình nguyện viên {name}",
                    account=account,
                    name=other,
                ),
                field="user_id",
            )
        await _check_no_double_place(session, volunteer, user.id, account)
    volunteer.user_id = user_id
    await session.flush()
    log.info("volunteer_relinked", volunteer_id=volunteer.id, user_id=user_id, by=actor.user_id)
    return volunteer


async def _check_no_double_place(
    session: AsyncSession, volunteer: Volunteer, user_id: int, account: str
) -> None:
    mine = {
        (day, shift_id)
        for day, shift_id in (
            await session.execute(
                select(RosterEntry.day, RosterEntry.shift_id).where(
                    RosterEntry.volunteer_id == volunteer.id,
                    RosterEntry.day
                    >= utcnow().astimezone(site_of(session).timezone).date() - timedelta(days=1),
                )
            )
        ).all()
    }
    if not mine:
        return
    theirs = (
        await session.execute(
            select(RosterEntry.day, RosterEntry.shift_id).where(RosterEntry.user_id == user_id)
        )
    ).all()
    both = sorted(set(theirs) & mine)
    if both:
        day, _ = both[0]
        raise Conflict(
            msg(
                "Tài khoản {account} đã có tên trong ca ngày {day} mà tình nguyện viên này "
                "cũng trực; rút một trong hai trước khi liên kết",
                account=account,
                day=day.strftime("%d/%m/%Y"),
            ),
            field="user_id",
        )
