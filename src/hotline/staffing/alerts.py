"""Who is told when the line enters surge mode, and how.

Supervisors and administrators: the live `staffing.surge` event (surge.py) and a durable
notice each, read in `GET /api/v1/staffing/notices`. Reserve volunteers (approved, marked
`reserve`, not on a shift running now): a notice each, and a text message through the SMS
channel's outbox when one is enabled (channels/notify.py); without one the notice is only
recorded, for a supervisor to phone them from the list. One notice per person and entry
(unique keys), and the outbox's idempotency key per notice, so a sweep run again alerts
nobody twice. A reserve volunteer alerted of one entry is not alerted of another within
`HOTLINE_SURGE_RENOTIFY_MINUTES` (a line going in and out of surge mode, or a supervisor
switching it off and on, does not text them each time).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import Role, User
from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.channels.notify import text_phone
from hotline.db import dialect_name, insert_for
from hotline.messages import msg
from hotline.site import site_of
from hotline.staffing.checks import LIVE_PLACE
from hotline.staffing.models import (
    NoticeDelivery,
    RosterEntry,
    ShiftTemplate,
    StaffingNotice,
    SurgeChange,
    Volunteer,
    VolunteerStatus,
)
from hotline.staffing.paging import DEFAULT_LIMIT, Page, newest_first
from hotline.staffing.service import shift_span

LEADS = (Role.SUPERVISOR, Role.ADMIN)
RENOTIFY = timedelta(minutes=60)
NOTICE_SOURCE = "staff_alert"  # the outbox message's source
SUPERVISOR_TEXT = (
    "Tổng đài chuyển sang chế độ quá tải lúc {time}: {waiting} người đang chờ, "
    "chờ lâu nhất {longest} giây. Lý do: {reason}."
)
# The sweep's reasons (surge.over), said in the notice; a supervisor's own reason as typed.
REASONS = {
    "waiting": "nhiều người đang chờ",
    "longest_wait": "có người chờ quá lâu",
    "abandonment": "nhiều người bỏ máy khi đang chờ",
}
VOLUNTEER_TEXT = (
    "Tổng đài 1022 đang quá tải ({waiting} người đang chờ). Nếu bạn có thể hỗ trợ, "
    "xin đăng nhập và vào ca hoặc gọi cho trưởng ca."
)


async def volunteers_on_shift(session: AsyncSession, *, now: datetime) -> set[int]:
    """Volunteers on a shift running now: rostered as volunteers, or through the account
    linked to their offer rostered as staff (one person either way)."""
    tz = site_of(session).timezone
    today = now.astimezone(tz).date()
    shifts = {s.id: s for s in (await session.scalars(select(ShiftTemplate))).all()}
    # A withdrawn offer's place (kept as the record) puts nobody on a shift.
    rows = await session.execute(
        select(RosterEntry.day, RosterEntry.shift_id, RosterEntry.volunteer_id, RosterEntry.user_id)
        .outerjoin(Volunteer, Volunteer.id == RosterEntry.volunteer_id)
        .where(RosterEntry.day >= today - timedelta(days=1), RosterEntry.day <= today, LIVE_PLACE)
    )
    on: set[int] = set()
    accounts: set[int] = set()
    for day, shift_id, volunteer_id, user_id in rows.all():
        shift = shifts.get(shift_id)
        if shift is not None and shift.active:
            start, end = shift_span(shift, day, tz)
            if start <= now < end and volunteer_id is not None:
                on.add(volunteer_id)
            elif start <= now < end and user_id is not None:
                accounts.add(user_id)
    if accounts:
        linked = await session.scalars(select(Volunteer.id).where(Volunteer.user_id.in_(accounts)))
        on |= set(linked.all())
    return on


async def _notice(session: AsyncSession, **values: object) -> int | None:
    """The notice's id, or None when this person was already told of this entry."""
    key = "user_id" if values.get("user_id") is not None else "volunteer_id"
    return await session.scalar(
        insert_for(dialect_name(session))(StaffingNotice)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["surge_change_id", key])
        .returning(StaffingNotice.id)
    )


async def alert_surge(
    session: AsyncSession, *, change: SurgeChange, renotify: timedelta = RENOTIFY
) -> int:
    """Notices of a surge entry to the leads and the reserve volunteers not on shift and
    not alerted of another entry within `renotify`; returns how many were made."""
    f = change.figures
    local = change.at.astimezone(site_of(session).timezone)
    lead_text = SUPERVISOR_TEXT.format(
        time=local.strftime("%H:%M"),
        waiting=f.get("waiting", 0),
        longest=f.get("longest_wait_seconds", 0),
        reason=", ".join(REASONS.get(r, r) for r in change.reason.split(",")),
    )
    made = 0
    leads = await session.scalars(
        select(User.id).where(User.role.in_(LEADS), User.active.is_(True)).order_by(User.id)
    )
    for user_id in leads.all():
        made += (
            await _notice(
                session,
                at=change.at,
                surge_change_id=change.id,
                user_id=user_id,
                text=lead_text,
                delivery=NoticeDelivery.RECORDED,
            )
            is not None
        )
    on_shift = await volunteers_on_shift(session, now=change.at)
    lately = set(
        (
            await session.scalars(
                select(StaffingNotice.volunteer_id).where(
                    StaffingNotice.volunteer_id.is_not(None),
                    StaffingNotice.surge_change_id != change.id,
                    StaffingNotice.at > change.at - renotify,
                )
            )
        ).all()
    )
    reserve = await session.scalars(
        select(Volunteer)
        .where(Volunteer.status == VolunteerStatus.APPROVED, Volunteer.reserve.is_(True))
        .order_by(Volunteer.id)
    )
    text = VOLUNTEER_TEXT.format(waiting=f.get("waiting", 0))
    for volunteer in reserve.all():
        if volunteer.id in on_shift or volunteer.id in lately:
            continue
        notice_id = await _notice(
            session,
            at=change.at,
            surge_change_id=change.id,
            volunteer_id=volunteer.id,
            text=text,
            delivery=NoticeDelivery.RECORDED,
        )
        if notice_id is None:
            continue
        made += 1
        message = await text_phone(
            session,
            phone=volunteer.phone,
            text=text,
            key=f"{NOTICE_SOURCE}:{notice_id}",
            source=NOTICE_SOURCE,
        )
        if message is not None:
            notice = await session.get(StaffingNotice, notice_id)
            assert notice is not None
            notice.delivery, notice.message_id = NoticeDelivery.SMS, message.id
    await session.flush()
    return made


async def list_notices(
    session: AsyncSession, *, actor: Actor, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[StaffingNotice]:
    """The notices, newest first, a page at a time: supervisors see all, anyone else
    their own."""
    require(actor, Permission.SEE_ROSTER, msg("Chỉ nhân viên tổng đài xem được thông báo nhân lực"))
    stmt = select(StaffingNotice)
    if not allows(actor, Permission.MANAGE_STAFFING):
        own = select(Volunteer.id).where(Volunteer.user_id == actor.user_id)
        stmt = stmt.where(
            or_(StaffingNotice.user_id == actor.user_id, StaffingNotice.volunteer_id.in_(own))
        )
    return await newest_first(session, stmt, StaffingNotice.id, cursor=cursor, limit=limit)
