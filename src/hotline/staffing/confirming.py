"""Proving a volunteer offer's phone number: a code texted to it, typed back by whoever
holds the phone. A number is only a volunteer's once its holder has answered (or a
supervisor who phoned it approved the offer), so whoever signs up first with someone
else's number gains nothing by it."""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import unicodedata
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels.models import Message
from hotline.channels.notify import text_phone
from hotline.contacts.phones import normalise_phone
from hotline.db import dialect_name, utcnow
from hotline.errors import InvalidInput
from hotline.messages import msg
from hotline.staffing.models import Volunteer, VolunteerCodeMiss, VolunteerStatus

log = structlog.get_logger(__name__)
CODE_SOURCE = "volunteer_code"  # the outbox message's source
CODE_VALID = timedelta(minutes=30)
# Wrong codes a code takes before it is spent (each wrong try counts against every live
# code of the number: the try may have been meant for any of them) ...
CODE_TRIES = 3
# ... and a number over any 24 hours, whichever of its codes they were meant for: then every
# try is refused unchecked. A rolling window, not the site's day, so that midnight gives
# no fresh tries: the number's codes take at most this many guesses a day.
NUMBER_TRIES = 5
TRIES_WINDOW = timedelta(hours=24)
# Codes texted to one number over any 24 hours: sign-ups cannot flood a phone. A rolling
# window, like the tries, so that the site's midnight gives no fresh codes.
CODES_PER_DAY = 3
CODES_WINDOW = timedelta(hours=24)
# Nothing the sign-up typed goes into the text: the form must not let anyone write to any
# number (a name can carry a link).
CODE_TEXT = (
    "Tổng đài 1022: mã xác nhận đăng ký tình nguyện viên là {code}, hiệu lực 30 phút. "
    "Nếu bạn không đăng ký, hãy bỏ qua tin này."
)
WRONG_CODE = msg("Mã xác nhận không đúng hoặc đã hết hạn")
# Why no code was texted to a sign-up's number, said to whoever signed up: the offer is
# kept all the same, for a supervisor to phone the number.
CODE_LIMIT = msg(
    "Số điện thoại này đã nhận đủ {n} mã xác nhận trong 24 giờ qua nên không được gửi thêm "
    "mã. Đăng ký vẫn được ghi nhận; trưởng ca sẽ gọi điện cho bạn trước khi duyệt.",
    n=CODES_PER_DAY,
)
CONFIRMED = msg("Số điện thoại của bạn đã được xác nhận. Trưởng ca sẽ xem xét đăng ký.")


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _code_key(volunteer_id: int) -> str:
    return f"{CODE_SOURCE}:{volunteer_id}"


class CodeSent(enum.StrEnum):
    SENT = "sent"
    NONE = "none"  # no SMS channel enabled: a supervisor phones the number
    LIMIT = "limit"  # the number had CODES_PER_DAY codes in the last 24 hours (CODE_LIMIT)


async def send_code(session: AsyncSession, volunteer: Volunteer, now: datetime) -> CodeSent:
    """Text a new offer's number a one-time code (through the SMS channel's outbox, when
    one is enabled; at most CODES_PER_DAY a number over any 24 hours). The codes counted
    are the texts queued (the outbox keeps them), not the offers whose code is still live:
    a code spent, typed back or withdrawn was still sent."""
    since = now - CODES_WINDOW
    if dialect_name(session) == "postgresql":
        # Count and send as one step per number: sign-ups arriving together must not each
        # see room for one more code (SQLite runs one writer at a time already).
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"volunteer-code:{volunteer.phone}"},
        )
    # A code is texted as its offer is made: the number's offers of the window name them.
    recent = await session.scalars(
        select(Volunteer.id).where(Volunteer.phone == volunteer.phone, Volunteer.created_at > since)
    )
    sent = await session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.source == CODE_SOURCE,
            Message.created_at > since,
            Message.idempotency_key.in_([_code_key(i) for i in recent]),
        )
    )
    if (sent or 0) >= CODES_PER_DAY:
        log.info("volunteer_code_not_sent", volunteer_id=volunteer.id, reason="number_limit")
        return CodeSent.LIMIT
    code = f"{secrets.randbelow(1_000_000):06d}"
    message = await text_phone(
        session,
        phone=volunteer.phone,
        text=CODE_TEXT.format(code=code),
        key=_code_key(volunteer.id),
        source=CODE_SOURCE,
    )
    if message is None:
        return CodeSent.NONE
    volunteer.code_hash = _digest(code)
    volunteer.code_expires_at = now + CODE_VALID
    volunteer.code_tries = 0
    await session.flush()
    return CodeSent.SENT


async def confirm_phone(session: AsyncSession, *, phone: str, code: str) -> Volunteer | None:
    """Whoever holds `phone` confirms the waiting offer the code was texted for: the offer
    is marked confirmed (by nobody: the number itself), and the number's other waiting
    offers, not confirmed, are refused — they were made by someone else with this number.
    A wrong or expired code answers None and is counted (the caller commits the count and
    then refuses it, 422 naming `code`, WRONG_CODE): against every live code of the number,
    each spent after CODE_TRIES, and against the number, whose tries are all refused
    unchecked once it has had NUMBER_TRIES wrong ones in the last 24 hours (a supervisor
    can still phone the number). The number's offers are locked first, so tries at once
    are counted one after the other."""
    number = normalise_phone(phone, field="phone")
    # Full-width digits (a phone keyboard's CJK mode) are the code typed; digits of another
    # script are no code at all: refused as such, never counted as a wrong try.
    code = unicodedata.normalize("NFKC", code).strip()
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        raise InvalidInput(msg("Mã xác nhận gồm 6 chữ số"), field="code")
    now = utcnow()
    offers = (
        await session.scalars(
            select(Volunteer)
            .where(Volunteer.phone == number)
            .order_by(Volunteer.id)
            .with_for_update()
        )
    ).all()
    since = now - TRIES_WINDOW
    missed = await session.scalar(
        select(func.count())
        .select_from(VolunteerCodeMiss)
        .where(VolunteerCodeMiss.phone == number, VolunteerCodeMiss.at > since)
    )
    if (missed or 0) >= NUMBER_TRIES:
        log.info("volunteer_code_refused", reason="number_tries")
        return None
    found = next(
        (
            v
            for v in offers
            if v.status is VolunteerStatus.PENDING
            and v.code_hash
            and v.code_expires_at is not None
            and v.code_expires_at > now
            and hmac.compare_digest(v.code_hash, _digest(code))
        ),
        None,
    )
    if found is None:
        if offers:  # a number nobody signed up with has no code to guess
            await _count_miss(session, number=number, now=now)
        spent = (missed or 0) + 1 >= NUMBER_TRIES
        for v in offers:
            if v.code_hash is None:
                continue
            v.code_tries += 1
            if spent or v.code_tries >= CODE_TRIES:
                v.code_hash = None
        await session.flush()
        return None
    found.phone_confirmed_at, found.phone_confirmed_by = now, None
    found.code_hash, found.code_expires_at = None, None
    await session.execute(
        update(Volunteer)
        .where(
            Volunteer.phone == number,
            Volunteer.status == VolunteerStatus.PENDING,
            Volunteer.phone_confirmed_at.is_(None),
            Volunteer.id != found.id,
        )
        .values(status=VolunteerStatus.REJECTED, decided_at=now, decided_by=None)
        .execution_options(synchronize_session="fetch")
    )
    await session.flush()
    log.info("volunteer_phone_confirmed", volunteer_id=found.id)
    return found


async def _count_miss(session: AsyncSession, *, number: str, now: datetime) -> None:
    """Record a wrong try for the number, and forget its tries older than the window."""
    await session.execute(
        delete(VolunteerCodeMiss).where(
            VolunteerCodeMiss.phone == number, VolunteerCodeMiss.at <= now - TRIES_WINDOW
        )
    )
    session.add(VolunteerCodeMiss(phone=number, at=now))
