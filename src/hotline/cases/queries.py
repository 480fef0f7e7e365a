"""Reading cases: filtered, searched, cursor-paginated lists and case details."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.cases.access import visible_clause
from hotline.cases.assignment_state import active_sql, is_overdue, overdue_sql
from hotline.cases.medical import INBOX_PURPOSE, LIST_PURPOSE, medical_clause, shown_cases
from hotline.cases.models import AssignmentStatus, Case, CaseAssignment, CaseStatus, Channel
from hotline.contacts.service import log_personal_read
from hotline.db import dialect_name, utcnow
from hotline.errors import InvalidInput, NotAllowed
from hotline.messages import Message, msg
from hotline.site import site_of
from hotline.text import search_terms


@dataclass
class CaseFilter:
    status: list[str] | None = None
    category: str | None = None
    channel: str | None = None
    unit_id: int | None = None
    ward_code: str | None = None
    urgent: bool | None = None
    overdue: bool | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str | None = None
    contact_id: int | None = None
    # The operator holding the case ("my cases").
    assignee_id: int | None = None
    # Created in this local hour (0-23) of each day from date_from to date_to.
    hour: int | None = None
    # With unit_id: the unit still holds the case (its forwarding pending or accepted).
    held: bool | None = None
    # Forwarded to a unit at least once.
    ever_forwarded: bool | None = None


def inverted_period(date_from: date | None, date_to: date | None) -> Message | None:
    """Why a period that ends before it starts selects nothing, naming both its dates (None
    for any other period)."""
    if date_from is None or date_to is None or date_from <= date_to:
        return None
    return msg(
        "Khoảng ngày ngược: từ ngày (from) {start} sau đến ngày (to) {end}",
        start=date_from.isoformat(),
        end=date_to.isoformat(),
    )


# The category "key" of the cases without one, as the reports name them.
UNCATEGORISED = "uncategorised"
MAX_HOUR_DAYS = 31


@dataclass
class Page:
    items: list[Case]
    next_cursor: str | None


def encode_cursor(case: Case) -> str:
    raw = json.dumps([case.created_at.isoformat(), case.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, case_id = json.loads(raw)
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError("cursor time without offset")
        return when, int(case_id)
    except (ValueError, TypeError):
        raise InvalidInput("Con trỏ phân trang không hợp lệ", field="cursor") from None


def _overdue_clause(unit_id: int | None = None) -> Any:
    """The case has an overdue forwarding (assignment_state.overdue_sql); with a unit, that
    unit's forwarding is overdue."""
    clause = exists().where(CaseAssignment.case_id == Case.id, overdue_sql(utcnow()))
    return clause if unit_id is None else clause.where(CaseAssignment.unit_id == unit_id)


def _unit_clause(unit_id: int, held: bool | None) -> Any:
    """Forwarded to the unit; with `held`, the unit still holds it (or no longer does)."""
    ever = exists().where(CaseAssignment.case_id == Case.id, CaseAssignment.unit_id == unit_id)
    if held is None:
        return ever
    holds = ever.where(active_sql())
    return holds if held else and_(ever, ~holds)


def _hour_clause(filters: CaseFilter, tz: Any) -> Any:
    """Created in the local hour `filters.hour` of each day of the period: the cases behind
    one bar of the hourly charts (the report counts by the same local hour)."""
    hour = filters.hour
    assert hour is not None
    if not 0 <= hour <= 23:
        raise InvalidInput("Giờ phải từ 0 đến 23", field="hour")
    if filters.date_from is None or filters.date_to is None:
        raise InvalidInput("Lọc theo giờ cần có ngày bắt đầu và ngày kết thúc", field="hour")
    days = (filters.date_to - filters.date_from).days + 1
    if not 1 <= days <= MAX_HOUR_DAYS:
        raise InvalidInput(
            msg("Lọc theo giờ trong tối đa {days} ngày", days=MAX_HOUR_DAYS), field="hour"
        )
    spans = []
    for n in range(days):
        start = datetime.combine(filters.date_from + timedelta(days=n), time(hour), tz)
        spans.append(and_(Case.created_at >= start, Case.created_at < start + timedelta(hours=1)))
    return or_(*spans)


# Not mapped on Case: the column exists on PostgreSQL only and is never read into Python.
SEARCH_VECTOR: ColumnElement[Any] = literal_column('"case".search_vector')
# Newest candidates list_cases tests before falling back to the GIN index: ~10-20 ms of
# work on PostgreSQL, and enough to fill a page for any word in more than ~0.5% of cases.
SEARCH_PROBE_ROWS = 10_000
# A word seen at most this often among those rows (0.5%) is rare enough to drive the index.
RARE_IN_PROBE = 50


def _tsquery(terms: list[str]) -> Any:
    """Prefix match on each folded word, all required."""
    return func.to_tsquery(literal_column("'simple'"), " & ".join(f"{t}:*" for t in terms))


def _search_clause(dialect: str, q: str) -> Any:
    terms = search_terms(q)
    if not terms:
        return None
    if dialect == "postgresql":
        # Matching the stored vector (migration 20261123_0002; GIN index
        # ix_case_search_vector) instead of to_tsvector(search_text) spares re-parsing the
        # text of every row a plan rechecks or filters, which dominated search at 1M cases.
        return SEARCH_VECTOR.op("@@")(_tsquery(terms))
    return and_(*(Case.search_text.contains(t, autoescape=True) for t in terms))


async def list_cases(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: CaseFilter,
    cursor: str | None,
    limit: int = 50,
    read_purpose: str | None = LIST_PURPOSE,
) -> Page:
    """Newest first, filtered to what the actor may see. A home care urgent case listed
    with its medical text (to those in charge) is a logged read under `read_purpose`
    (None for a caller that shows nothing of the rows, only which they are)."""
    limit = max(1, min(limit, 200))
    stmt = _filtered(session, actor, filters)
    if cursor:
        at, case_id = decode_cursor(cursor)
        stmt = stmt.where(or_(Case.created_at < at, and_(Case.created_at == at, Case.id < case_id)))
    newest_first = (Case.created_at.desc(), Case.id.desc())
    dialect = dialect_name(session)
    search = _search_clause(dialect, filters.q) if filters.q else None
    rows: list[Case] | None = None
    if search is not None and dialect == "postgresql":
        terms = search_terms(filters.q or "")
        rows = await _recent_matches(session, stmt, terms, limit + 1)
        if rows is None and len(terms) > 1:
            rarest, seen = await _rarest_term(session, stmt, terms)
            if seen <= RARE_IN_PROBE:
                # Index only the rarest word; the full query is checked on the stored
                # vector. ts_match_vq is the function behind @@ and, unlike the operator,
                # is not matched to the GIN index, so PostgreSQL does not expand every
                # other prefix ("y:*", "cho:*": huge posting lists). Same rows either way.
                stmt = stmt.where(SEARCH_VECTOR.op("@@")(_tsquery([rarest]))).where(
                    func.ts_match_vq(SEARCH_VECTOR, _tsquery(terms))
                )
                # Sorting on an expression keeps the planner from walking the date index
                # and filtering row by row: for a rare word that means the whole table.
                newest_first = (
                    (Case.created_at + literal_column("interval '0 seconds'")).desc(),
                    Case.id.desc(),
                )
                search = None
    if rows is None:
        if search is not None:
            stmt = stmt.where(search)
        stmt = stmt.order_by(*newest_first).limit(limit + 1)
        rows = list((await session.scalars(stmt)).all())
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    if filters.contact_id is not None and rows:
        # One citizen's cases: who reported what is theirs to know (the log of reads).
        await log_personal_read(
            session, actor=actor, contact_id=filters.contact_id, purpose="contact_cases"
        )
    # A case list is no read of the reporter (docs/security.md), but a care case's medical
    # text and home are health data: each one listed in full is a logged read.
    items = await shown_cases(session, actor, rows[:limit], purpose=read_purpose)
    return Page(items=items, next_cursor=next_cursor)


def _filtered(session: AsyncSession, actor: Actor, filters: CaseFilter) -> Any:
    """The cases the filters select among those the actor may see (search aside)."""
    stmt = select(Case)
    clause = visible_clause(actor)
    if clause is not None:
        stmt = stmt.where(clause)
    if filters.status:
        try:
            statuses = [CaseStatus(s) for s in filters.status]
        except ValueError:
            known = {s.value for s in CaseStatus}
            wrong = next(s for s in filters.status if s not in known)
            raise InvalidInput(
                msg("Trạng thái không hợp lệ: {status}", status=wrong[:40]), field="status"
            ) from None
        stmt = stmt.where(Case.status.in_(statuses))
    if filters.category == UNCATEGORISED:
        stmt = stmt.where(Case.category_code.is_(None))
    elif filters.category:
        stmt = stmt.where(Case.category_code == filters.category)
    if filters.channel:
        try:
            stmt = stmt.where(Case.channel == Channel(filters.channel))
        except ValueError:
            raise InvalidInput(
                msg("Kênh không hợp lệ: {channel}", channel=filters.channel[:40]), field="channel"
            ) from None
    if filters.unit_id is not None:
        stmt = stmt.where(_unit_clause(filters.unit_id, filters.held))
    elif filters.held is not None:
        raise InvalidInput("Chọn đơn vị để lọc theo yêu cầu đơn vị đang giữ", field="held")
    if filters.ever_forwarded is not None:
        stmt = stmt.where(Case.ever_forwarded.is_(filters.ever_forwarded))
    if filters.ward_code:
        stmt = stmt.where(Case.ward_code == filters.ward_code)
    if filters.urgent is not None:
        stmt = stmt.where(Case.urgent.is_(filters.urgent))
    if filters.overdue is not None:
        over = _overdue_clause(filters.unit_id)
        stmt = stmt.where(over if filters.overdue else ~over)
    if filters.contact_id is not None:
        stmt = stmt.where(Case.contact_id == filters.contact_id)
    if filters.assignee_id is not None:
        stmt = stmt.where(Case.assignee_id == filters.assignee_id)
    if (backwards := inverted_period(filters.date_from, filters.date_to)) is not None:
        raise InvalidInput(backwards, field="from")
    tz = site_of(session).timezone
    if filters.date_from:
        stmt = stmt.where(Case.created_at >= datetime.combine(filters.date_from, time(), tz))
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time(), tz)
        stmt = stmt.where(Case.created_at < end)
    if filters.hour is not None:
        stmt = stmt.where(_hour_clause(filters, tz))
    if filters.q and (readable := medical_clause(actor)) is not None:
        # A search must not find a case by medical text the actor may not read.
        stmt = stmt.where(readable)
    return stmt


async def count_cases(session: AsyncSession, *, actor: Actor, filters: CaseFilter) -> int:
    """How many cases `list_cases` lists over all its pages."""
    stmt = _filtered(session, actor, filters).with_only_columns(Case.id)
    search = _search_clause(dialect_name(session), filters.q) if filters.q else None
    if search is not None:
        stmt = stmt.where(search)
    return int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


async def _recent_matches(
    session: AsyncSession, stmt: Select[Any], terms: list[str], wanted: int
) -> list[Case] | None:
    """The first `wanted` matches if they lie among the newest SEARCH_PROBE_ROWS candidates.

    Common words match thousands of cases; through the GIN index PostgreSQL must then fetch
    every match to sort by date (and short prefixes like "y:*" make the index scan itself
    slow). Walking the newest candidates in index order and testing the stored vector finds
    a page of them in milliseconds. Rows beyond the probe are all older than rows inside
    it, so a full page found here is exactly the page the plain query returns; otherwise
    (rare words) the caller runs the plain query, which the GIN index serves well.
    """
    recent = (
        stmt.with_only_columns(Case.id, Case.created_at, SEARCH_VECTOR.label("vector"))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(SEARCH_PROBE_ROWS)
        .subquery()
    )
    ids = (
        select(recent.c.id)
        .where(recent.c.vector.op("@@")(_tsquery(terms)))
        .order_by(recent.c.created_at.desc(), recent.c.id.desc())
        .limit(wanted)
    )
    rows = list(
        (
            await session.scalars(
                select(Case)
                .where(Case.id.in_(ids))
                .order_by(Case.created_at.desc(), Case.id.desc())
            )
        ).all()
    )
    return rows if len(rows) == wanted else None


async def _rarest_term(
    session: AsyncSession, stmt: Select[Any], terms: list[str]
) -> tuple[str, int]:
    """The word matching fewest of the newest candidates (ties: the longest prefix)."""
    recent = (
        stmt.with_only_columns(Case.id, SEARCH_VECTOR.label("vector"))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(SEARCH_PROBE_ROWS)
        .subquery()
    )
    counts = (
        await session.execute(
            select(*(func.count().filter(recent.c.vector.op("@@")(_tsquery([t]))) for t in terms))
        )
    ).one()
    term, seen = min(zip(terms, counts, strict=True), key=lambda tc: (tc[1], -len(tc[0])))
    return term, int(seen)


async def assignments_of(session: AsyncSession, case_id: int) -> list[CaseAssignment]:
    return list(
        (
            await session.scalars(
                select(CaseAssignment)
                .where(CaseAssignment.case_id == case_id)
                .order_by(CaseAssignment.id)
            )
        ).all()
    )


async def duplicates_of(session: AsyncSession, case_id: int) -> list[str]:
    return list(
        (await session.scalars(select(Case.code).where(Case.duplicate_of_id == case_id))).all()
    )


@dataclass
class InboxRow:
    case: Case
    assignment: CaseAssignment
    overdue: bool


@dataclass
class Inbox:
    rows: list[InboxRow]
    # Active forwardings of the unit by status ("pending", "accepted") and "overdue".
    counts: dict[str, int]


async def unit_inbox(session: AsyncSession, *, actor: Actor, limit: int = 200) -> Inbox:
    """The cases the actor's unit holds now (active forwardings), by deadline (so the
    overdue ones come first); with the counts per status. Unit officers only."""
    if not actor.unit_scoped or actor.unit_id is None:
        raise NotAllowed("Chỉ cán bộ đơn vị có hộp việc đơn vị")
    now = utcnow()
    mine = and_(CaseAssignment.unit_id == actor.unit_id, active_sql())
    pairs = (
        await session.execute(
            select(CaseAssignment, Case)
            .join(Case, Case.id == CaseAssignment.case_id)
            .where(mine)
            .order_by(CaseAssignment.due_at, CaseAssignment.id)
            .limit(max(1, min(limit, 500)))
        )
    ).all()
    # A home care urgent case the unit holds is shown with its medical text: a logged read.
    shown = await shown_cases(session, actor, (c for _, c in pairs), purpose=INBOX_PURPOSE)
    rows = [
        InboxRow(case=c, assignment=a, overdue=is_overdue(a, now))
        for (a, _), c in zip(pairs, shown, strict=True)
    ]
    counted = await session.execute(
        select(
            func.count().filter(CaseAssignment.status == AssignmentStatus.PENDING),
            func.count().filter(CaseAssignment.status == AssignmentStatus.ACCEPTED),
            func.count().filter(overdue_sql(now)),
        ).where(mine)
    )
    pending, accepted, overdue = counted.one()
    counts = {"pending": int(pending), "accepted": int(accepted), "overdue": int(overdue)}
    return Inbox(rows=rows, counts=counts)
