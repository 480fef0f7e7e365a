"""Volunteers: they sign up, a supervisor approves them, and they fill shifts."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.contacts.phones import normalise_phone
from hotline.db import utcnow
from hotline.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from hotline.messages import msg
from hotline.staffing.checks import free_text, hidden_characters, queue_taker
from hotline.staffing.confirming import CodeSent, send_code
from hotline.staffing.models import Volunteer, VolunteerStatus
from hotline.staffing.paging import DEFAULT_LIMIT, Page, newest_first

log = structlog.get_logger(__name__)
# The answer to every accepted sign-up, new or repeated.
RECEIVED = msg(
    "Chúng tôi đã nhận được đăng ký của bạn. Trưởng ca sẽ xem xét và liên hệ qua số điện "
    "thoại bạn để lại."
)

# What the hotline asks of a volunteer: medical training, languages spoken and the
# channels they can answer. The languages are those the line is asked in: ISO 639-1 codes
# where one exists, else ISO 639-3 (Việt Nam's ethnic minority languages).
CHANNELS = frozenset({"phone", "zalo", "facebook", "viber", "web", "email", "app"})
LANGUAGES = {
    "vi": "Tiếng Việt",
    "en": "Tiếng Anh",
    "zh": "Tiếng Trung",
    "ko": "Tiếng Hàn",
    "ja": "Tiếng Nhật",
    "fr": "Tiếng Pháp",
    "ru": "Tiếng Nga",
    "km": "Tiếng Khmer",
    "lo": "Tiếng Lào",
    "th": "Tiếng Thái Lan",
    "hmn": "Tiếng H'Mông",
    "tyz": "Tiếng Tày",
    "nut": "Tiếng Nùng",
    "mtq": "Tiếng Mường",
    "blt": "Tiếng Thái (Tai Dam)",
    "rad": "Tiếng Ê Đê",
    "jra": "Tiếng Gia Rai",
    "bdq": "Tiếng Ba Na",
    "cja": "Tiếng Chăm",
}
NAME_LENGTH = 2, 120


def clean_name(raw: str, field: str = "full_name") -> str:
    """A person's name as kept: NFC, whitespace trimmed and collapsed; refused (422 naming
    `field`) with control or format characters, without a letter, or too short or long."""
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not name:
        raise InvalidInput("Cần họ tên", field=field)
    bad = hidden_characters(name)
    if bad:
        raise InvalidInput(
            msg("Họ tên chứa ký tự điều khiển hoặc ký tự ẩn: {chars}", chars=bad), field=field
        )
    low, high = NAME_LENGTH
    if not low <= len(name) <= high:
        raise InvalidInput(
            msg("Họ tên dài từ {low} đến {high} ký tự", low=low, high=high), field=field
        )
    if not any(unicodedata.category(c).startswith("L") for c in name):
        raise InvalidInput("Họ tên cần có chữ cái", field=field)
    return name


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
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        raise InvalidInput("Ngôn ngữ ghi bằng mã, ví dụ vi, en", field="skills.languages")
    unknown_languages = sorted({x.strip().lower() for x in languages} - set(LANGUAGES))
    if unknown_languages and not all(len(x) <= 8 and x.isalpha() for x in unknown_languages):
        # Only short words of letters are repeated back: a public form's refusal must not
        # show a stranger's long or bidi-laden text to whoever reads it.
        raise InvalidInput(
            msg("Ngôn ngữ ghi bằng mã; chọn trong: {names}", names=", ".join(LANGUAGES)),
            field="skills.languages",
        )
    if unknown_languages:
        raise InvalidInput(
            msg(
                "Ngôn ngữ chưa được hỗ trợ: {codes}; chọn trong: {names}",
                codes=", ".join(unknown_languages[:5]),
                names=", ".join(LANGUAGES),
            ),
            field="skills.languages",
        )
    channels = skills.get("channels", ["phone"])
    if not isinstance(channels, list) or not set(channels) <= CHANNELS:
        raise InvalidInput(
            msg("Kênh không hợp lệ; chọn trong: {names}", names=", ".join(sorted(CHANNELS))),
            field="skills.channels",
        )
    return {
        "medical": medical,
        "languages": sorted({x.strip().lower() for x in languages}),
        "channels": sorted(set(channels)),
    }


@dataclass(frozen=True)
class Offer:
    volunteer: Volunteer
    new: bool  # always True: every sign-up is an offer of its own
    code: CodeSent = CodeSent.NONE  # whether a code was texted to the number to confirm it

    @property
    def code_sent(self) -> bool:
        return self.code is CodeSent.SENT


# A Vietnamese mobile number in E.164: +84 then 3, 5, 7, 8 or 9 and eight digits (03x,
# 05x, 07x, 08x and 09x written nationally, ten digits with the leading 0).
VN_MOBILE = re.compile(r"\+84[35789][0-9]{8}")


def mobile_phone(raw: str) -> str:
    """A volunteer's number in E.164, which must be a Vietnamese mobile: the code is texted
    to it and a surge alert too, and the shift lead phones it. A service or premium-rate
    number (1900…, 1800…), a landline and a foreign number are refused, naming `phone`."""
    try:
        number = normalise_phone(raw, field="phone")
    except InvalidInput:
        if any(ch.isalpha() for ch in raw):
            raise  # its own message says what is wrong: a number is digits only
        number = ""
    if not VN_MOBILE.fullmatch(number):
        raise InvalidInput(
            msg(
                "Cần số điện thoại di động Việt Nam: 10 chữ số bắt đầu bằng 03, 05, 07, 08 "
                "hoặc 09 (hoặc +84): “{raw}”",
                raw=raw,
            ),
            field="phone",
        )
    return number


async def sign_up(
    session: AsyncSession,
    *,
    full_name: str,
    phone: str,
    skills: dict[str, Any],
    note: str = "",
    reserve: bool = False,
) -> Offer:
    """Anyone may offer to volunteer; the offer waits for a supervisor. Every sign-up is an
    offer of its own, even for a number that already has one: whoever signs up first with
    a number holds nothing against its owner. When an SMS channel is enabled the number is
    texted a code (confirming.send_code; the text holds nothing the sign-up typed); typed back
    (confirming.confirm_phone) it marks the offer confirmed and refuses the number's other
    unconfirmed offers. The caller is answered the same whatever the number's history, so
    the sign-up does not tell whether a number is registered. `reserve`: they may be called
    in during a surge."""
    name = clean_name(full_name)
    number = mobile_phone(phone)
    cleaned = clean_skills(skills)
    volunteer = Volunteer(
        full_name=name,
        phone=number,
        skills=cleaned,
        status=VolunteerStatus.PENDING,
        note=free_text(note, "note", 500, keep_lines=True),
        reserve=reserve,
    )
    session.add(volunteer)
    await session.flush()
    sent = await send_code(session, volunteer, utcnow())
    log.info("volunteer_signed_up", volunteer_id=volunteer.id, code=sent.value)
    return Offer(volunteer, True, sent)


async def list_volunteers(
    session: AsyncSession,
    *,
    actor: Actor,
    status: str | None = None,
    phone: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[Volunteer]:
    """Volunteers, newest first, a page at a time (supervisors and admins); `phone` finds
    the offers of one number (any way it is written)."""
    require(
        actor,
        Permission.MANAGE_STAFFING,
        msg("Chỉ trưởng ca và quản trị viên xem được danh sách tình nguyện viên"),
    )
    stmt = select(Volunteer)
    if status:
        try:
            stmt = stmt.where(Volunteer.status == VolunteerStatus(status))
        except ValueError:
            raise InvalidInput(
                msg("Trạng thái không hợp lệ: {status}", status=status), field="status"
            ) from None
    if phone:
        stmt = stmt.where(Volunteer.phone == normalise_phone(phone, field="phone"))
    return await newest_first(session, stmt, Volunteer.id, cursor=cursor, limit=limit)


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
    volunteer has, since the roster puts that account in the operator queue. A number has
    one approved offer (409 naming `volunteer_id` for a second), and an offer the number's
    holder did not confirm is not approved while another offer of that number is
    confirmed (409 naming `volunteer_id`). Approving an offer whose number was not
    confirmed by its code is the supervisor's word that they reached the volunteer on it:
    recorded as the confirmation (`phone_confirmed_by`)."""
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
            select(Volunteer.id).where(
                Volunteer.user_id == user.id,
                Volunteer.id != volunteer.id,
                # A withdrawn offer keeps its link as the record of its past places only.
                Volunteer.status.in_((VolunteerStatus.PENDING, VolunteerStatus.APPROVED)),
            )
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
    now = utcnow()
    if approve:
        await _check_number_free(session, volunteer)
        if volunteer.phone_confirmed_at is None:
            volunteer.phone_confirmed_at, volunteer.phone_confirmed_by = now, actor.user_id
    volunteer.status = VolunteerStatus.APPROVED if approve else VolunteerStatus.REJECTED
    volunteer.decided_by, volunteer.decided_at = actor.user_id, now
    volunteer.code_hash = None
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        # Another offer of this number was approved at the same moment.
        raise Conflict(NUMBER_TAKEN, field="volunteer_id") from None
    return volunteer


NUMBER_TAKEN = msg("Số điện thoại này đã có một đăng ký tình nguyện viên được duyệt")


async def _check_number_free(session: AsyncSession, volunteer: Volunteer) -> None:
    others = (
        await session.execute(
            select(Volunteer.id, Volunteer.status, Volunteer.phone_confirmed_by).where(
                Volunteer.phone == volunteer.phone,
                Volunteer.id != volunteer.id,
                (Volunteer.status == VolunteerStatus.APPROVED)
                | (
                    (Volunteer.status == VolunteerStatus.PENDING)
                    & Volunteer.phone_confirmed_at.is_not(None)
                ),
            )
        )
    ).all()
    if any(status is VolunteerStatus.APPROVED for _, status, _ in others):
        raise Conflict(NUMBER_TAKEN, field="volunteer_id")
    confirmed = [vid for vid, _, _ in others]
    if confirmed and volunteer.phone_confirmed_at is None:
        raise Conflict(
            msg(
                "Chủ số điện thoại đã xác nhận đăng ký mã {other}; đăng ký này chưa được xác nhận",
                other=confirmed[0],
            ),
            field="volunteer_id",
        )


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
