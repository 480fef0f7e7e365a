"""Suggest the open cases a new or existing request probably repeats.

Candidates are read through the (ward_code, created_at) index: the same ward within
`duplicate_window_hours` of the request, newest first and at most
`duplicate_max_candidates` rows, so the cost per suggestion is bounded whatever the size of
the table. Without a ward the time index bounds the scan the same way (and the category
narrows it when known). Ended cases (closed, rejected, already duplicates) are never
suggested; resolved ones are, since a repeat of an answered request can take its answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.cases.access import visible_clause
from hotline.cases.medical import NEUTRAL, SIMILAR_PURPOSE, reads_medical
from hotline.cases.models import Case, CaseStatus
from hotline.contacts.models import Channel
from hotline.contacts.service import ReadSubject, log_personal_reads
from hotline.db import utcnow
from hotline.duplicates.similarity import Place, TextFeatures, features, score_pair
from hotline.errors import InvalidInput
from hotline.messages import msg
from hotline.site import site_of

CANDIDATE_STATUSES = (
    CaseStatus.NEW,
    CaseStatus.IN_PROGRESS,
    CaseStatus.FORWARDED,
    CaseStatus.ACCEPTED,
    CaseStatus.RESOLVED,
)
SHORT_DESCRIPTION = 160
MAX_LIMIT = 20


@dataclass
class Candidate:
    """The columns of a case that scoring needs, read without loading ORM objects."""

    id: int
    code: str
    status: str
    description: str
    place: Place
    created_at: datetime
    ever_forwarded: bool = False
    # A home care urgent case whose medical text this reader gets (cases/medical.py): its
    # contact, for the read log when it is shown.
    care_contact_id: int | None = None
    care_read: bool = False

    @cached_property
    def features(self) -> TextFeatures:
        return features(self.description)


@dataclass(frozen=True)
class Suggestion:
    code: str
    score: float
    reasons: dict[str, Any]
    status: str
    created_at: datetime
    description: str


CANDIDATE_COLUMNS = (
    Case.id,
    Case.code,
    Case.status,
    Case.description,
    Case.ward_code,
    Case.address,
    Case.lat,
    Case.long,
    Case.category_code,
    Case.created_at,
    Case.ever_forwarded,
    Case.channel,
    Case.assignee_id,
    Case.contact_id,
)


def candidate_of(row: Any, actor: Actor | None = None) -> Candidate:
    """The row as scoring sees it; with an actor, as that actor may read it: a care case's
    medical text and home are neither shown nor matched against (cases/medical.py)."""
    readable = actor is None or reads_medical(
        actor, channel=row.channel, assignee_id=row.assignee_id
    )
    return Candidate(
        id=row.id,
        code=row.code,
        status=row.status.value if hasattr(row.status, "value") else str(row.status),
        description=row.description if readable else NEUTRAL,
        place=Place(
            ward_code=row.ward_code,
            address=(row.address or "") if readable else "",
            lat=row.lat if readable else None,
            long=row.long if readable else None,
            category_code=row.category_code,
        ),
        created_at=row.created_at,
        ever_forwarded=bool(row.ever_forwarded),
        care_contact_id=row.contact_id,
        care_read=actor is not None and readable and row.channel == Channel.CARE,
    )


async def log_care_reads(
    session: AsyncSession, actor: Actor, shown: Iterable[Candidate], purpose: str
) -> None:
    """The home care urgent cases shown with their medical text: each a logged read."""
    subjects = [
        ReadSubject(contact_id=c.care_contact_id, case_id=c.id) for c in shown if c.care_read
    ]
    if subjects:
        await log_personal_reads(session, user_id=actor.user_id, purpose=purpose, subjects=subjects)


def short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHORT_DESCRIPTION else text[: SHORT_DESCRIPTION - 1] + "…"


def candidate_stmt(
    *,
    ward_code: str | None,
    category_code: str | None,
    since: datetime,
    until: datetime,
    exclude_case_id: int | None,
    limit: int,
    actor: Actor | None = None,
) -> Any:
    """Open cases in [since, until] of the ward and/or category given, newest first."""
    stmt = select(*CANDIDATE_COLUMNS).where(
        Case.created_at >= since,
        Case.created_at <= until,
        Case.status.in_(CANDIDATE_STATUSES),
    )
    if ward_code is not None:
        stmt = stmt.where(Case.ward_code == ward_code)
    if category_code is not None:
        stmt = stmt.where(Case.category_code == category_code)
    if exclude_case_id is not None:
        stmt = stmt.where(Case.id != exclude_case_id)
    clause = visible_clause(actor) if actor is not None else None
    if clause is not None:
        stmt = stmt.where(clause)
    return stmt.order_by(Case.created_at.desc()).limit(limit)


async def candidates(session: AsyncSession, **where: Any) -> list[Candidate]:
    """The candidate rows of `candidate_stmt(**where)`."""
    rows = (await session.execute(candidate_stmt(**where))).all()
    return [candidate_of(row, where.get("actor")) for row in rows]


async def suggest_before_saving(
    session: AsyncSession,
    *,
    actor: Actor,
    text: str,
    ward_code: str | None = None,
    category_code: str | None = None,
    address: str = "",
    lat: float | None = None,
    long: float | None = None,
    limit: int = 5,
) -> list[Suggestion]:
    """`suggest_duplicates` for a request being typed (hotline staff), among the cases the
    actor may see."""
    require(actor, Permission.USE_SUGGESTIONS, "Chỉ tổng đài viên được tìm yêu cầu trùng")
    return await suggest_duplicates(
        session,
        text=text,
        ward_code=ward_code,
        category_code=category_code,
        address=address,
        lat=lat,
        long=long,
        limit=limit,
        actor=actor,
    )


async def suggest_duplicates(
    session: AsyncSession,
    *,
    text: str,
    ward_code: str | None = None,
    category_code: str | None = None,
    at: datetime | None = None,
    exclude_case_id: int | None = None,
    limit: int = 5,
    address: str = "",
    lat: float | None = None,
    long: float | None = None,
    actor: Actor | None = None,
) -> list[Suggestion]:
    """The open cases most likely repeating this request, best first, above the threshold.

    Reads only; window, candidate cap and threshold come from the site settings. With an
    actor, only the cases that actor may see are suggested.
    """
    if not text or not text.strip():
        raise InvalidInput("Cần nội dung để tìm yêu cầu trùng", field="text")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            msg("Số gợi ý phải từ 1 đến {max_limit}", max_limit=MAX_LIMIT), field="limit"
        )
    site = site_of(session)
    at = at or utcnow()
    window = timedelta(hours=site.duplicate_window_hours)
    cap = site.duplicate_max_candidates
    where: dict[str, Any] = {
        "ward_code": ward_code,
        "category_code": None if ward_code is not None else category_code,
        "since": at - window,
        "until": at + window,
        "exclude_case_id": exclude_case_id,
        "limit": cap,
        "actor": actor,
    }
    pool = await candidates(session, **where)
    if len(pool) == cap and ward_code is not None and category_code is not None:
        # A surge fills the cap with the newest hours of the ward; older cases of the same
        # category are the likeliest repeats among the rest, so they get a second, equal share.
        seen = {c.id for c in pool}
        where.update(category_code=category_code, until=pool[-1].created_at)
        pool += [c for c in await candidates(session, **where) if c.id not in seen]
    here = Place(
        ward_code=ward_code, address=address, lat=lat, long=long, category_code=category_code
    )
    found = rank(
        pool,
        text=text,
        place=here,
        at=at,
        window_hours=site.duplicate_window_hours,
        threshold=site.duplicate_threshold,
        limit=limit,
    )
    if actor is not None:
        codes = {s.code for s in found}
        await log_care_reads(session, actor, (c for c in pool if c.code in codes), SIMILAR_PURPOSE)
    return found


def rank(
    pool: list[Candidate],
    *,
    text: str,
    place: Place,
    at: datetime,
    window_hours: int,
    threshold: float,
    limit: int,
) -> list[Suggestion]:
    """Score every candidate against the request; the best `limit` at or above threshold."""
    mine = features(text)
    if not mine.norm:
        return []
    scored = []
    for c in pool:
        match = score_pair(
            mine,
            place,
            at,
            c.features,
            c.place,
            c.created_at,
            window_hours=window_hours,
            threshold=threshold,
        )
        if match.score >= threshold:
            scored.append((match, c))
    scored.sort(key=lambda mc: (-mc[0].score, -mc[1].created_at.timestamp()))
    return [
        Suggestion(
            code=c.code,
            score=m.score,
            reasons=m.reasons,
            status=c.status,
            created_at=c.created_at,
            description=short(c.description),
        )
        for m, c in scored[:limit]
    ]


async def suggest_for_case(
    session: AsyncSession, *, case: Case, limit: int = 5, actor: Actor | None = None
) -> list[Suggestion]:
    """Suggestions for a recorded case: around its creation time, never itself. A care
    case's medical text and home match only for those who may read them."""
    readable = actor is None or reads_medical(
        actor, channel=case.channel, assignee_id=case.assignee_id
    )
    return await suggest_duplicates(
        session,
        text=case.description if readable else NEUTRAL,
        ward_code=case.ward_code,
        category_code=case.category_code,
        at=case.created_at,
        exclude_case_id=case.id,
        limit=limit,
        address=case.address if readable else "",
        lat=case.lat if readable else None,
        long=case.long if readable else None,
        actor=actor,
    )
