"""Volunteers: they sign up, a supervisor approves them, and they fill shifts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.contacts.phones import normalise_phone
from hotline.db import utcnow
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.messages import msg
from hotline.staffing.checks import queue_taker
from hotline.staffing.models import Volunteer, VolunteerStatus

# What the hotline asks of a volunteer: medical training, languages spoken (ISO 639-1),
# and the channels they can answer.
CHANNELS = frozenset({"phone", "zalo", "facebook", "viber", "web", "email", "app"})
LANGUAGE_CODES = 2, 3


def clean_skills(skills: dict[str, Any]) -> dict[str, Any]:
    unknown = set(skills) - {"medical", "languages", "channels"}
    if unknown:
        raise InvalidInput(
            msg("Kỹ năng không hợp lệ: {names}", names=", ".join(sorted(unknown))),
            field="skills",
        )
    medical = skills.get("medical", False)
    if not isinstance(medical, bool):
        raise InvalidInput("Kỹ năng y tế là có hoặc không", field="skills.medical")
    languages = skills.get("languages", ["vi"])
    if not isinstance(languages, list) or not all(
        isinstance(x, str) and x.isalpha() and len(x) in LANGUAGE_CODES for x in languages
    ):
        raise InvalidInput("Ngôn ngữ ghi bằng mã hai chữ, ví dụ vi, en", field="skills.languages")
    channels = skills.get("channels", ["phone"])
    if not isinstance(channels, list) or not set(channels) <= CHANNELS:
        raise InvalidInput(
            msg("Kênh không hợp lệ; chọn trong: {names}", names=", ".join(sorted(CHANNELS))),
            field="skills.channels",
        )
    return {
        "medical": medical,
        "languages": sorted({x.lower() for x in languages}),
        "channels": sorted(set(channels)),
    }


async def sign_up(
    session: AsyncSession,
    *,
    full_name: str,
    phone: str,
    skills: dict[str, Any],
    note: str = "",
    reserve: bool = False,
) -> Volunteer:
    """Anyone may offer to volunteer; the offer waits for a supervisor. One pending or
    approved offer per phone number. `reserve`: they may be called in during a surge."""
    name = " ".join(full_name.split())
    if not name:
        raise InvalidInput("Cần họ tên", field="full_name")
    number = normalise_phone(phone, field="phone")
    known = await session.scalar(
        select(Volunteer.id).where(
            Volunteer.phone == number, Volunteer.status != VolunteerStatus.REJECTED
        )
    )
    if known is not None:
        raise Conflict("Số điện thoại này đã đăng ký tình nguyện", field="phone")
    volunteer = Volunteer(
        full_name=name,
        phone=number,
        skills=clean_skills(skills),
        status=VolunteerStatus.PENDING,
        note=note.strip()[:500],
        reserve=reserve,
    )
    session.add(volunteer)
    await session.flush()
    return volunteer


async def list_volunteers(
    session: AsyncSession, *, actor: Actor, status: str | None = None
) -> list[Volunteer]:
    """Volunteers, newest first (supervisors and admins)."""
    require(
        actor,
        Permission.MANAGE_STAFFING,
        msg("Chỉ trưởng ca và quản trị viên xem được danh sách tình nguyện viên"),
    )
    stmt = select(Volunteer).order_by(Volunteer.id.desc()).limit(1000)
    if status:
        try:
            stmt = stmt.where(Volunteer.status == VolunteerStatus(status))
        except ValueError:
            raise InvalidInput(
                msg("Trạng thái không hợp lệ: {status}", status=status), field="status"
            ) from None
    return list((await session.scalars(stmt)).all())


async def decide(
    session: AsyncSession,
    *,
    actor: Actor,
    volunteer_id: int,
    approve: bool,
    user_id: int | None = None,
) -> Volunteer:
    """A supervisor approves or rejects a pending volunteer. Approving may link the account
    the volunteer answers calls with: an operator's (or supervisor's) that no other
    volunteer has, since the roster puts that account in the operator queue."""
    require(
        actor,
        Permission.MANAGE_STAFFING,
        msg("Chỉ trưởng ca và quản trị viên được duyệt tình nguyện viên"),
    )
    volunteer = await session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("Không tìm thấy tình nguyện viên", field="volunteer_id")
    if volunteer.status is not VolunteerStatus.PENDING:
        raise InvalidTransition("Đăng ký này đã được xử lý", field="volunteer_id")
    if user_id is not None:
        if not approve:
            raise InvalidInput("Chỉ liên kết tài khoản khi duyệt", field="user_id")
        user = await queue_taker(session, user_id, "user_id")
        other = await session.scalar(
            select(Volunteer.id).where(Volunteer.user_id == user.id, Volunteer.id != volunteer.id)
        )
        if other is not None:
            raise Conflict(
                msg(
                    "Tài khoản mã {user_id} đã liên kết với tình nguyện viên mã {volunteer_id}",
                    user_id=user_id,
                    volunteer_id=other,
                ),
                field="user_id",
            )
        volunteer.user_id = user.id
    volunteer.status = VolunteerStatus.APPROVED if approve else VolunteerStatus.REJECTED
    volunteer.decided_by, volunteer.decided_at = actor.user_id, utcnow()
    await session.flush()
    return volunteer


async def set_reserve(
    session: AsyncSession, *, actor: Actor, volunteer_id: int, reserve: bool
) -> Volunteer:
    """A supervisor marks a volunteer in reserve (alerted when surge mode starts) or not."""
    require(
        actor,
        Permission.MANAGE_STAFFING,
        msg("Chỉ trưởng ca và quản trị viên được đưa tình nguyện viên vào dự bị"),
    )
    volunteer = await session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("Không tìm thấy tình nguyện viên", field="volunteer_id")
    volunteer.reserve = reserve
    await session.flush()
    return volunteer
