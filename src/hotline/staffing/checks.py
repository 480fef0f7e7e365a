"""Checks the staffing services share: who may hold a place on the roster, and which days
the roster and the forecast accept."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.agents.service import QUEUE_ROLES
from hotline.auth.models import User
from hotline.db import utcnow
from hotline.errors import InvalidInput
from hotline.messages import msg
from hotline.site import site_of
from hotline.staffing.forecast import QUEUE
from hotline.staffing.models import RosterEntry, ShiftTemplate, Volunteer, VolunteerStatus
from hotline.text import hidden_characters, tidy

# The roster says whom the operator queue rings (service.ringable), so only the operator
# queue's call takers hold places on it: a doctor or a ward officer on a shift would leave
# the queue ringing nobody.
OPERATOR_ROLES = QUEUE_ROLES[QUEUE]
# Days the roster and the forecast work on: far enough either way for any real plan, and
# inside what both databases and Python's date arithmetic accept.
FIRST_YEAR, LAST_YEAR = 2000, 2100


SHIFT_CODE = re.compile(r"[a-z0-9_-]{1,20}")
# A shift's start: hours and minutes, and an offset if the client gives one. Zero seconds
# are taken, so what the API answers (06:00:00+07:00) can be sent back; other seconds or
# a fraction would start a shift at an instant nobody means (06:00:59.5).
SHIFT_START = re.compile(r"(\d{1,2}):(\d{2})(:00)?(Z|[+-]\d{2}:?\d{2})?")


def shift_name(raw: str) -> str:
    """A shift's name as kept: NFC, whitespace collapsed; refused (422 naming `name`) when
    empty or with control or format characters."""
    name = tidy(raw)
    if not name:
        raise InvalidInput("Cần tên ca trực", field="name")
    bad = hidden_characters(name)
    if bad:
        raise InvalidInput(
            msg("Tên ca chứa ký tự điều khiển hoặc ký tự ẩn: {chars}", chars=bad), field="name"
        )
    return name


def free_text(raw: str, field: str, limit: int, *, keep_lines: bool = False) -> str:
    """A typed reason or note as kept: NFC, whitespace collapsed, cut to `limit`; refused
    (422 naming `field`) with a control or invisible character (a bidi override, a
    zero-width space), which could make it read as something else to whoever sees it."""
    # Line breaks and tabs are whitespace, not hidden characters: collapsed, or kept in a
    # note whose lines are its own.
    text = unicodedata.normalize("NFC", raw).strip() if keep_lines else tidy(raw)
    bad = hidden_characters(" ".join(text.split()))
    if bad:
        raise InvalidInput(
            msg("Nội dung chứa ký tự điều khiển hoặc ký tự ẩn: {chars}", chars=bad), field=field
        )
    return text[:limit]


def shift_code(raw: Any) -> str:
    """A shift template's code: 1 to 20 lowercase letters without diacritics, digits, - or
    _ (422 naming `code`)."""
    if not isinstance(raw, str) or not SHIFT_CODE.fullmatch(raw):
        raise InvalidInput(
            msg("Mã ca gồm 1 đến 20 ký tự: chữ thường không dấu, chữ số, - hoặc _ (ví dụ: sang)"),
            field="code",
        )
    return raw


def shift_start(raw: Any) -> time:
    """A shift's start given as text, HH:MM (H:MM, :00 seconds and an offset such as
    +07:00 or Z accepted); anything else — other seconds, a fraction, a number — is refused
    (422 naming `starts_at`)."""
    if isinstance(raw, time) and not (raw.second or raw.microsecond):
        return raw
    if isinstance(raw, time):
        raw = None
    text = raw.strip() if isinstance(raw, str) else ""
    found = SHIFT_START.fullmatch(text)
    try:
        if found is None:
            raise ValueError(raw)
        return time.fromisoformat(text if len(found[1]) == 2 else "0" + text)
    except ValueError:
        raise InvalidInput(
            msg(
                "Giờ bắt đầu ca viết dạng giờ:phút từ 00:00 đến 23:59 (ví dụ 06:00), có thể "
                "kèm múi giờ (+07:00)"
            ),
            field="starts_at",
        ) from None


def check_day(day: date, field: str) -> None:
    """Refuse a day outside the years FIRST_YEAR to LAST_YEAR (422 naming `field`)."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInput(
            msg("Ngày phải trong các năm {first} đến {last}", first=FIRST_YEAR, last=LAST_YEAR),
            field=field,
        )


async def queue_taker(session: AsyncSession, user_id: int, field: str) -> User:
    """The active account of an operator or supervisor (who answer the operator queue);
    anyone else is refused (422 naming `field`)."""
    user = await session.get(User, user_id)
    if user is None or not user.active or user.role not in OPERATOR_ROLES:
        raise InvalidInput(
            msg(
                "Mã {user_id} không phải tổng đài viên hay trưởng ca đang làm việc", user_id=user_id
            ),
            field=field,
        )
    return user


def shift_timing(shift: ShiftTemplate, day: date) -> tuple[time, int]:
    """The start (site time) and hours the shift of `day` has: the timing in force then
    (a change of the template leaves the days before it as they were, `earlier`)."""
    for before in shift.earlier or ():
        if day < date.fromisoformat(before["until"]):
            return time.fromisoformat(before["starts_at"]), int(before["hours"])
    return shift.starts_at, shift.hours


def shift_span(shift: ShiftTemplate, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """When a shift of a day starts and ends (a night shift ends the next day)."""
    starts_at, hours = shift_timing(shift, day)
    start = datetime.combine(day, starts_at, tzinfo=tz)
    return start, start + timedelta(hours=hours)


def retime(shift: ShiftTemplate, starts_at: time, hours: int, tz: ZoneInfo, now: datetime) -> None:
    """Give the shift new times from the first day whose shift has begun under neither the
    old times nor the new, keeping the old ones in `earlier` for the days before: a shift
    already worked or being worked (a night shift begun yesterday) keeps its times."""
    if (starts_at, hours) == (shift.starts_at, shift.hours):
        return
    day = now.astimezone(tz).date() - timedelta(days=1)
    while (
        shift_span(shift, day, tz)[0] <= now or datetime.combine(day, starts_at, tzinfo=tz) <= now
    ):
        day += timedelta(days=1)
    kept = [b for b in shift.earlier or () if date.fromisoformat(b["until"]) <= day]
    old_start, old_hours = shift_timing(shift, day - timedelta(days=1))
    kept.append({"until": day.isoformat(), "starts_at": old_start.isoformat(), "hours": old_hours})
    # Drop timings no day keeps (a change made twice before any shift began).
    out: list[dict[str, Any]] = []
    for b in kept:
        if out and out[-1]["until"] == b["until"]:
            continue
        out.append(b)
    shift.earlier = out
    shift.starts_at, shift.hours = starts_at, hours


def check_not_over(
    session: AsyncSession, shift: ShiftTemplate, day: date, field: str, now: datetime | None = None
) -> None:
    """Refuse a change to a place on a shift that has already ended (422 naming `field`):
    the roster of the past is a record of who worked. A shift still running (a night shift
    begun yesterday) may still change."""
    _, end = shift_span(shift, day, site_of(session).timezone)
    if end <= (now or utcnow()):
        raise InvalidInput(
            msg(
                "{shift} ngày {day} đã kết thúc; không xếp hay đổi lịch trực trong quá khứ",
                shift=shift.name,
                day=day.strftime("%d/%m/%Y"),
            ),
            field=field,
        )


def check_not_begun(
    session: AsyncSession, shift: ShiftTemplate, day: date, field: str, now: datetime | None = None
) -> None:
    """Refuse an operator's own place on a shift already begun (422 naming `field`): the
    way onto a running shift is a supervisor's (the roster or the off-shift leave)."""
    start, _ = shift_span(shift, day, site_of(session).timezone)
    if start <= (now or utcnow()):
        raise InvalidInput(
            msg(
                "{shift} ngày {day} đã bắt đầu; tự đăng ký chỉ vào ca chưa bắt đầu, vào ca "
                "đang diễn ra cần trưởng ca xếp lịch hoặc cho phép làm ngoài ca",
                shift=shift.name,
                day=day.strftime("%d/%m/%Y"),
            ),
            field=field,
        )


async def holds_place(session: AsyncSession, *, day: date, shift_id: int, user_id: int) -> bool:
    """Whether `user_id` holds a place on the shift that day, directly or through the
    volunteer offer linked to their account (one person, one place); a withdrawn offer's
    place, kept as the record, holds nobody."""
    found = await session.scalar(
        select(RosterEntry.id)
        .outerjoin(Volunteer, Volunteer.id == RosterEntry.volunteer_id)
        .where(
            RosterEntry.day == day,
            RosterEntry.shift_id == shift_id,
            func.coalesce(RosterEntry.user_id, Volunteer.user_id) == user_id,
            LIVE_PLACE,
        )
        .limit(1)
    )
    return found is not None


# A place that is someone's now: a staff member's, or a volunteer offer's not withdrawn (a
# withdrawn offer's places stay as the record, but hold nobody on the shift). For queries
# joining Volunteer on the place's offer.
LIVE_PLACE = RosterEntry.volunteer_id.is_(None) | (Volunteer.status != VolunteerStatus.WITHDRAWN)


# The rest an operator keeps between two shifts they put themselves on: the 12 hours
# Việt Nam's Labour Code (2019, art. 109) gives a shift worker before another shift. Two
# of the default 8-hour shifts of one day, or two back to back, are then a supervisor's
# decision (a double shift to cover a hole), never an operator's own.
SELF_ROSTER_REST = timedelta(hours=12)


async def too_close(
    session: AsyncSession, *, shift: ShiftTemplate, day: date, user_id: int
) -> tuple[ShiftTemplate, date] | None:
    """Another place of `user_id` (direct, or through their live volunteer offer) whose
    shift overlaps this one or leaves less than SELF_ROSTER_REST between them: that
    shift and its day, else None."""
    tz = site_of(session).timezone
    start, end = shift_span(shift, day, tz)
    # Shifts last at most 24 hours: only the days either side can come within 12 hours.
    rows = await session.execute(
        select(RosterEntry.day, ShiftTemplate)
        .join(ShiftTemplate, ShiftTemplate.id == RosterEntry.shift_id)
        .outerjoin(Volunteer, Volunteer.id == RosterEntry.volunteer_id)
        .where(
            RosterEntry.day >= day - timedelta(days=2),
            RosterEntry.day <= day + timedelta(days=2),
            func.coalesce(RosterEntry.user_id, Volunteer.user_id) == user_id,
            LIVE_PLACE,
        )
        .order_by(RosterEntry.day, ShiftTemplate.starts_at)
    )
    for other_day, other in rows.all():
        if (other_day, other.id) == (day, shift.id):
            continue
        other_start, other_end = shift_span(other, other_day, tz)
        if other_start < end + SELF_ROSTER_REST and start < other_end + SELF_ROSTER_REST:
            return other, other_day
    return None


async def working_day(session: AsyncSession, now: datetime) -> date:
    """The day whose shifts are being worked at `now` (site time): yesterday while one of
    its shifts still runs (a night shift after midnight), else today. The staffing page
    opens on it, so a night operator at 01:00 on a Monday sees the week of the shift they
    are on, not the next one."""
    tz = site_of(session).timezone
    today = now.astimezone(tz).date()
    yesterday = today - timedelta(days=1)
    for shift in (await session.scalars(select(ShiftTemplate))).all():
        start, end = shift_span(shift, yesterday, tz)
        if start <= now < end:
            return yesterday
    return today
