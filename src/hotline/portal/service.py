"""The citizen portal's rules: a report sent without signing in, its tracking secret, files
added to it by the secret's holder, and the public list with personal data left out.

The tracking secret is the second factor beside the case code (the code is read out over the
phone and printed on papers, so it alone must not open a case). It is 50 random bits shown
once, on the page that answers the report; only its SHA-256 is stored. A fast hash is enough
here: the secret is random, not a person's password, so it cannot be guessed from a list,
guessing over the network is throttled (the pages count failures per address and per code),
and whoever holds the database already holds everything the secret would show them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.attachments.models import Attachment
from hotline.attachments.service import add_attachment
from hotline.auth.models import Role
from hotline.auth.service import Actor
from hotline.cases.codes import ALPHABET, normalise_code
from hotline.cases.models import Case, CaseStatus, Channel
from hotline.cases.notes import Reply, replies_of
from hotline.cases.service import NewCase, open_case
from hotline.cases.transitions import STATUS_LABELS_VI
from hotline.channels.portal import (
    ThreadLine,
    citizen_answer,
    open_report_conversation,
    report_thread,
)
from hotline.contacts.models import Contact
from hotline.contacts.phones import normalise_phone
from hotline.db import utcnow
from hotline.directory.models import Category, Ward
from hotline.directory.service import category_name
from hotline.errors import DomainError, InvalidInput, NotFound
from hotline.messages import msg
from hotline.portal.models import PortalTicket
from hotline.text import tidy, without_hidden

# The portal records reports on the hotline's behalf, as the phone line's intake does.
PORTAL = Actor(user_id=None, username="portal", role=Role.OPERATOR)

DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 4000
ADDRESS_MAX, NAME_MAX = 300, 100
# Photos or short videos per report, each under the site's attachment cap, and only while
# the report is fresh: the secret must not become a way to store files on the hotline.
MAX_FILES = 5
UPLOAD_WINDOW = timedelta(hours=24)
SECRET_SYMBOLS = 10
CHANNELS = frozenset({Channel.WEB.value, Channel.APP.value})
# Statuses a public list leaves out: spam and abuse, and repeats of a listed report.
NOT_LISTED = (CaseStatus.REJECTED, CaseStatus.DUPLICATE)
HIDDEN = "[đã ẩn]"
_PHONE_LIKE = re.compile(r"\+?\d[\d .\-]{6,}\d")
_EMAIL_LIKE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A hash to compare against when the code is unknown, so that both answers take as long.
# Read as for case codes: O for 0, I and L for 1, U for V.
_CONFUSIONS = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
_NO_TICKET = hashlib.sha256(b"no ticket").hexdigest()


class ReportInvalid(InvalidInput):
    """The form's mistakes, every field at once (field -> message)."""

    def __init__(self, errors: dict[str, str]) -> None:
        first = next(iter(errors))
        super().__init__(errors[first], field=first)
        self.errors = errors


@dataclass
class Report:
    """What a citizen typed into the report form."""

    description: str
    ward_code: str
    category: str = ""
    address: str = ""
    name: str = ""
    phone: str = ""
    public: bool = False
    channel: str = Channel.WEB.value


@dataclass
class Sent:
    code: str
    secret: str


@dataclass
class Tracked:
    """What the holder of a code and its secret may see: no one's personal data."""

    code: str
    status: str
    status_label: str
    category: str | None
    created_at: datetime
    answer: str | None
    # The hotline's replies to the citizen, oldest first; never its internal notes.
    replies: list[Reply]
    # The report's conversation on the portal channel: the citizen's messages and the
    # operators' replies from the inbox, oldest first.
    thread: list[ThreadLine]


@dataclass
class PublicReport:
    created_at: datetime
    category: str | None
    ward: str | None
    status_label: str
    description: str


def check_report(report: Report) -> dict[str, str]:
    """The form's mistakes that need no database (field -> message), empty when none."""
    errors: dict[str, str] = {}
    description = report.description.strip()
    if len(description) < DESCRIPTION_MIN:
        errors["description"] = (
            msg("Vui lòng mô tả sự việc (ít nhất {n} ký tự).", n=DESCRIPTION_MIN)
            if description
            else msg("Vui lòng nhập nội dung phản ánh.")
        )
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = msg("Nội dung tối đa {n} ký tự.", n=DESCRIPTION_MAX)
    if not report.ward_code.strip():
        errors["ward_code"] = msg("Vui lòng chọn phường, xã nơi xảy ra sự việc.")
    if len(report.address.strip()) > ADDRESS_MAX:
        errors["address"] = msg("Địa chỉ tối đa {n} ký tự.", n=ADDRESS_MAX)
    if len(report.name.strip()) > NAME_MAX:
        errors["name"] = msg("Họ tên tối đa {n} ký tự.", n=NAME_MAX)
    if report.phone.strip():
        try:
            normalise_phone(report.phone, field="phone")
        except InvalidInput:
            errors["phone"] = msg("Số điện thoại không hợp lệ (ví dụ 0912345678).")
    if report.channel not in CHANNELS:
        errors["form"] = msg("Kênh gửi không hợp lệ.")
    return errors


def new_secret() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(SECRET_SYMBOLS))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_secret(text: str) -> str | None:
    """The canonical form of a typed secret (case, spaces and dashes do not matter), as for
    case codes (cases/codes.py), or None when it cannot be one."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    raw = raw.translate(_CONFUSIONS)
    if len(raw) != SECRET_SYMBOLS or any(ch not in ALPHABET for ch in raw):
        return None
    return f"{raw[:5]}-{raw[5:]}"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def send_report(session: AsyncSession, *, report: Report) -> Sent:
    """Open a case from the portal (channel web or app) and give it a tracking secret.

    Every mistake of the form is raised at once as ReportInvalid; nothing is written then.
    The secret is returned once and only its hash is kept.
    """
    errors = check_report(report)
    if not errors:
        if await session.get(Ward, report.ward_code) is None:
            errors["ward_code"] = msg("Phường, xã không có trong danh sách.")
        category = await session.get(Category, report.category) if report.category else None
        if report.category and (category is None or not category.active):
            errors["category"] = msg("Loại phản ánh không có trong danh sách.")
    if errors:
        raise ReportInvalid(errors)
    # A character the citizen cannot see is no reason to refuse their report: taken out.
    name = tidy(without_hidden(report.name))
    try:
        case = await open_case(
            session,
            actor=PORTAL,
            data=NewCase(
                channel=report.channel,
                description=report.description,
                # Left out: triage suggests one, as for any other channel.
                category=report.category or None,
                contact_name=name,
                contact_phone=report.phone.strip() or None,
                ward_code=report.ward_code,
                address=report.address,
                public=report.public,
            ),
        )
    except InvalidInput as exc:  # a rule of intake this form did not foresee
        raise ReportInvalid({_FORM_FIELDS.get(exc.field or "", "form"): exc.detail}) from exc
    secret = new_secret()
    session.add(PortalTicket(case_id=case.id, secret_hash=_hash(secret), created_at=utcnow()))
    await session.flush()
    # The report is a conversation in the one inbox too: operators answer it from there.
    await open_report_conversation(session, case=case, name=name)
    return Sent(code=case.code, secret=secret)


_FORM_FIELDS = {"contact.phone": "phone", "category": "category", "ward_code": "ward_code"}


async def _ticketed_case(session: AsyncSession, *, code: str, secret: str) -> Case | None:
    """The case of this code when `secret` is its tracking secret, else None: an unknown
    code, a case not sent through the portal and a wrong secret are told apart by no one."""
    wanted = _hash(normalise_secret(secret) or "")
    canonical = normalise_code(code)
    row = None
    if canonical is not None:
        row = (
            await session.execute(
                select(Case, PortalTicket.secret_hash)
                .join(PortalTicket, PortalTicket.case_id == Case.id)
                .where(Case.code == canonical)
            )
        ).first()
    stored = row.secret_hash if row is not None else _NO_TICKET
    if not hmac.compare_digest(wanted, stored) or row is None:
        return None
    case: Case = row.Case
    return case


async def track(
    session: AsyncSession, *, code: str, secret: str, language: str = "vi"
) -> Tracked | None:
    """The status, the hotline's answer and its replies to the citizen, for the holder of
    the case's code and secret (the category named in `language`); None otherwise (the same
    for every kind of miss)."""
    case = await _ticketed_case(session, code=code, secret=secret)
    if case is None:
        return None
    category = await session.get(Category, case.category_code) if case.category_code else None
    return Tracked(
        code=case.code,
        status=case.status.value,
        status_label=STATUS_LABELS_VI[case.status],
        category=category_name(category, language) if category else None,
        created_at=case.created_at,
        answer=(case.answer or "").strip() or None,
        replies=await replies_of(session, case.id),
        thread=await report_thread(session, case=case),
    )


async def answer_report(
    session: AsyncSession, *, code: str, secret: str, text: str, key: str, language: str = "vi"
) -> Tracked | None:
    """The holder of the code and secret writes to the hotline from the tracking page: a
    message in the report's conversation (the same `key` twice is one). What `track`
    shows afterwards; None for a wrong code or secret (nothing written)."""
    case = await _ticketed_case(session, code=code, secret=secret)
    if case is None:
        return None
    await citizen_answer(session, case=case, text=text, key=key)
    return await track(session, code=code, secret=secret, language=language)


class UploadRefused(DomainError):
    status = 409
    title = msg("Không nhận thêm tệp")


async def attach_file(
    session: AsyncSession, *, code: str, secret: str, filename: str, data: bytes
) -> Attachment:
    """Add a photo or video to a report, for the holder of its secret, while it is fresh and
    has fewer than MAX_FILES files. The file's own checks (type by content, size) are the
    attachments service's."""
    case = await _ticketed_case(session, code=code, secret=secret)
    if case is None:
        raise NotFound("Không tìm thấy phản ánh với mã và mã bí mật này", field="code")
    if utcnow() - case.created_at > UPLOAD_WINDOW:
        raise UploadRefused("Chỉ gửi thêm tệp trong 24 giờ sau khi gửi phản ánh", field="file")
    count = await session.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.case_id == case.id)
    )
    if (count or 0) >= MAX_FILES:
        raise UploadRefused(
            msg("Mỗi phản ánh gửi tối đa {max_files} tệp", max_files=MAX_FILES), field="file"
        )
    return await add_attachment(session, actor=PORTAL, case=case, filename=filename, data=data)


def scrub(text: str, *, known: tuple[str, ...] = ()) -> str:
    """The text with phone numbers, e-mail addresses and the given known strings (the
    reporter's name and address) replaced, for a public page."""
    for value in sorted({k.strip() for k in known if len(k.strip()) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(value), HIDDEN, text, flags=re.IGNORECASE)
    text = _EMAIL_LIKE.sub(HIDDEN, text)
    return _PHONE_LIKE.sub(_hide_number, text)


def _hide_number(match: re.Match[str]) -> str:
    # Phone numbers have 9+ digits (ID card numbers 12); dates and years ("19.08.2021",
    # "2021 - 2022") have fewer and stay readable.
    found = match.group(0)
    return HIDDEN if sum(ch.isdigit() for ch in found) >= 9 else found


async def public_reports(
    session: AsyncSession, *, limit: int = 30, language: str = "vi"
) -> list[PublicReport]:
    """The latest reports their senders made public: category (named in `language`), ward,
    date, status and the description without the reporter's name, phone, address or any
    number or e-mail in it."""
    rows = (
        await session.execute(
            select(Case, Contact.name, Category, Ward.name)
            .outerjoin(Contact, Contact.id == Case.contact_id)
            .outerjoin(Category, Category.code == Case.category_code)
            .outerjoin(Ward, Ward.code == Case.ward_code)
            .where(Case.public.is_(True), Case.status.not_in(NOT_LISTED))
            # Home care's urgent cases are never published (cases/medical.py refuses it);
            # one flagged public by other means still stays off the portal.
            .where(Case.channel != Channel.CARE)
            .order_by(Case.created_at.desc(), Case.id.desc())
            .limit(limit)
        )
    ).all()
    return [
        PublicReport(
            created_at=case.created_at,
            category=category_name(category, language) if category else None,
            ward=ward,
            status_label=STATUS_LABELS_VI[case.status],
            description=scrub(case.description, known=(name or "", case.address)),
        )
        for case, name, category, ward in rows
    ]
