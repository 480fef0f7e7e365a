"""Writing a demo profile into the database, in bulk, with demo staff accounts.

Records are inserted in bulk (thousands of rows at a time) rather than through the case
services, because the services stamp "now" and the demo needs its historical times; the
report counters are then rebuilt from the inserted rows so reports match exactly.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import Role, User
from hotline.auth.service import SYSTEM, create_user
from hotline.calls.models import Call, Callback, CallbackStatus, CallOutcome
from hotline.cases.codes import random_code
from hotline.cases.models import AssignmentStatus, Case, CaseAssignment, CaseEvent, CaseStatus
from hotline.cases.service import search_text_for
from hotline.contacts.models import Contact, ContactPhone
from hotline.db import create_engine, dialect_name, make_sessionmaker, utcnow
from hotline.demo.profiles import FORWARDED_OUTCOMES, DemoProfile, build_profile
from hotline.demo.roster import seed_roster
from hotline.directory.models import Category, Unit, UnitType
from hotline.directory.service import ensure_default_units
from hotline.knowledge.importer import import_articles
from hotline.reports.rebuild import rebuild_counters
from hotline.settings import Settings
from hotline.setup import bootstrap
from hotline.site import Site

BATCH = 2000
# ~30 knowledge-base articles of the 2021 wave (directives, testing, home care, support).
KNOWLEDGE_FILE = Path(__file__).with_name("knowledge.json")

# Demo staff: username, role, password, unit code suffix (None = hotline staff).
DEMO_USERS: tuple[tuple[str, Role, str, str | None], ...] = (
    ("admin", Role.ADMIN, "admin1022", None),
    ("truongca", Role.SUPERVISOR, "truongca1022", None),
    ("dtv01", Role.OPERATOR, "dtv01-1022", None),
    ("canbo", Role.UNIT_OFFICER, "canbo1022", "ward"),
    ("bacsi", Role.DOCTOR, "bacsi1022", "BACSI"),
)

# The other people of a profile's roster (StaffMember: who answered the calls, who holds the
# cases) get no usable password: an administrator gives them one to let them sign in.
NO_LOGIN = "!demo-roster-no-password"

# Every timeline row carries every column, so each batch is one multi-row INSERT.
EVENT_DEFAULTS: dict[str, Any] = {
    "actor_id": None, "unit_id": None, "from_status": None, "to_status": None, "reason": None,
    "data": {},
}  # fmt: skip

STATUS_OF = {
    "resolved_directly": CaseStatus.RESOLVED,
    "closed_directly": CaseStatus.CLOSED,
    "open": CaseStatus.NEW,
    "in_progress": CaseStatus.IN_PROGRESS,
    "rejected": CaseStatus.REJECTED,
    "forwarded_resolved": CaseStatus.RESOLVED,
    "forwarded_open": CaseStatus.FORWARDED,
    "forwarded_accepted": CaseStatus.ACCEPTED,
    "closed_forwarded": CaseStatus.CLOSED,
}


def load_profile(
    settings: Settings, name: str, *, seed: int = 1022, console: Console | None = None
) -> dict[str, int]:
    """Generate a profile and insert it; returns what was written."""
    console = console or Console(stderr=True)
    profile = build_profile(name, seed=seed)
    return asyncio.run(_load(settings, profile, console))


async def is_empty(settings: Settings) -> bool:
    engine = create_engine(settings.effective_database_url)
    try:
        async with engine.connect() as conn:
            return not await conn.scalar(select(func.count()).select_from(Case))
    finally:
        await engine.dispose()


async def refresh_roster(settings: Settings) -> int:
    """A demo database loaded in an earlier week gets this week's roster (`hotline run`
    at each start): nothing for a database that holds no demo (no demo roster people) or
    whose week already has places. Returns the places added."""
    engine = create_engine(settings.effective_database_url)
    sessionmaker = make_sessionmaker(engine, Site.from_settings(settings))
    try:
        async with sessionmaker() as session, session.begin():
            demo = await session.scalar(
                select(User.id).where(User.password_hash == NO_LOGIN).limit(1)
            )
            if demo is None:
                return 0
            return await seed_roster(session, now=utcnow())
    finally:
        await engine.dispose()


async def _load(settings: Settings, profile: DemoProfile, console: Console) -> dict[str, int]:
    engine = create_engine(settings.effective_database_url)
    sessionmaker = make_sessionmaker(engine, Site.from_settings(settings))
    try:
        async with sessionmaker() as session, session.begin():
            with Progress(console=console, transient=False) as progress:
                task = progress.add_task(f"Nạp dữ liệu mẫu {profile.name}", total=8)
                units = await _units(session, profile)
                progress.advance(task)
                staff = await _users(session, units, profile)
                progress.advance(task)
                await seed_roster(session, now=utcnow())
                progress.advance(task)
                contacts = await _contacts(session, profile)
                progress.advance(task)
                call_cases = await _cases(session, profile, contacts, units, staff)
                progress.advance(task)
                calls = await _calls(session, profile, contacts, call_cases, staff)
                progress.advance(task)
                await rebuild_counters(session)
                progress.advance(task)
                articles = json.loads(KNOWLEDGE_FILE.read_text(encoding="utf-8"))
                await import_articles(session, actor=SYSTEM, rows=articles)
                progress.advance(task)
        console.print(
            f"[green]Đã nạp {len(profile.cases):,} yêu cầu, {calls:,} cuộc gọi "
            f"({profile.start:%d/%m/%Y}–{profile.end:%d/%m/%Y})[/green]"
        )
        return {"cases": len(profile.cases), "calls": calls, "articles": len(articles)}
    finally:
        await engine.dispose()


async def _units(session: AsyncSession, profile: DemoProfile) -> dict[str, Any]:
    await bootstrap(session, province_code=profile.province_code)
    busiest = [w for w, _ in Counter(c.ward_code for c in profile.cases).most_common(200)]
    if profile.demo_ward:
        busiest = [profile.demo_ward, *(w for w in busiest if w != profile.demo_ward)][:200]
    await ensure_default_units(session, province_code=profile.province_code, ward_codes=busiest)
    units = list((await session.scalars(select(Unit))).all())
    by_type: dict[UnitType, int] = {}
    for u in units:
        if u.province_code == profile.province_code:
            by_type.setdefault(u.type, u.id)
    ward_units = {u.code.removeprefix("UB-"): u.id for u in units if u.code.startswith("UB-")}
    hours = dict((await session.execute(select(Category.code, Category.forward_hours))).all())
    types = dict((await session.execute(select(Category.code, Category.default_unit_type))).all())
    return {
        "by_type": by_type,
        "ward": ward_units,
        "hours": hours,
        "types": types,
        "busiest_ward": busiest[0] if busiest else None,
        "province": profile.province_code,
    }


async def _users(session: AsyncSession, units: dict[str, Any], profile: DemoProfile) -> list[int]:
    """The demo logins, then the profile's roster; returns the user id of each StaffMember."""
    existing = set((await session.scalars(select(User.username))).all())
    for username, role, password, unit in DEMO_USERS:
        if username in existing:
            continue
        unit_id = None
        if unit == "ward" and units["busiest_ward"]:
            unit_id = units["ward"].get(units["busiest_ward"])
        elif unit:
            unit_id = await session.scalar(
                select(Unit.id).where(Unit.code == f"{units['province']}-{unit}")
            )
        full = {
            "admin": "Quản trị hệ thống",
            "truongca": "Trưởng ca",
            "dtv01": "Điện thoại viên 01",
            "canbo": "Cán bộ UBND phường",
            "bacsi": "Bác sĩ tư vấn",
        }[username]
        await create_user(
            session,
            username=username,
            password=password,
            role=role,
            unit_id=unit_id,
            full_name=full,
        )
    doctors = await session.scalar(select(Unit.id).where(Unit.code == f"{units['province']}-BACSI"))
    ids = dict((await session.execute(select(User.username, User.id))).all())
    new = [m for m in dict.fromkeys(profile.staff) if m.username not in ids]
    await _insert(
        session,
        User,
        [
            {
                "username": m.username,
                "full_name": m.full_name,
                "role": Role(m.role),
                "unit_id": doctors if m.role == Role.DOCTOR else None,
                "password_hash": NO_LOGIN,
                "active": True,
                "created_at": utcnow(),
            }
            for m in new
        ],
    )
    if new:
        ids = dict((await session.execute(select(User.username, User.id))).all())
    return [ids[m.username] for m in profile.staff]


async def _contacts(session: AsyncSession, profile: DemoProfile) -> dict[str, int]:
    """One contact per phone number, reusing the ones already in the database."""
    names: dict[str, str] = {}
    for c in profile.cases:
        names.setdefault(_e164(c.contact_phone), c.contact_name)
    for call in profile.calls:
        names.setdefault(_e164(call.caller), "")
    known = dict((await session.execute(select(ContactPhone.e164, ContactPhone.contact_id))).all())
    new = [e for e in names if e not in known]
    ids = await _reserve_ids(session, Contact, len(new))
    rows = [
        {"id": i, "name": names[e], "address": "", "note": ""}
        for e, i in zip(new, ids, strict=True)
    ]
    await _insert(session, Contact, rows)
    await _insert(
        session, ContactPhone, [{"e164": e, "contact_id": i} for e, i in zip(new, ids, strict=True)]
    )
    known.update(zip(new, ids, strict=True))
    return known


async def _calls(
    session: AsyncSession,
    profile: DemoProfile,
    contacts: dict[str, int],
    call_cases: dict[int, int],
    staff: list[int],
) -> int:
    rows = []
    callbacks = []
    now = utcnow()
    operators = [staff[i] for i, m in enumerate(profile.staff) if m.role == Role.OPERATOR]
    ids = await _reserve_ids(session, Call, len(profile.calls))
    for index, (call, call_id) in enumerate(zip(profile.calls, ids, strict=True)):
        e164 = _e164(call.caller)
        answered = call.outcome == "answered"
        ended = call.started_at + timedelta(seconds=call.wait_seconds + call.talk_seconds)
        if call.outcome == CallOutcome.CALLBACK_REQUESTED and call.branch:
            # Called back within the hour or so by someone on duty; the last ones still wait.
            done = ended + timedelta(minutes=10 + index % 50)
            callbacks.append(
                {
                    "call_id": call_id,
                    "caller": e164,
                    "line": call.line,
                    "branch": call.branch,
                    "queued_at": call.started_at + timedelta(seconds=8),
                    "created_at": ended,
                    "status": CallbackStatus.DONE if done < now else CallbackStatus.OPEN,
                    "done_at": done if done < now else None,
                    "done_by": operators[index % len(operators)] if done < now else None,
                }
            )
        rows.append(
            {
                "id": call_id,
                "line": call.line,
                "caller": e164,
                "contact_id": contacts.get(e164),
                "started_at": call.started_at,
                "answered_at": call.started_at + timedelta(seconds=call.wait_seconds)
                if answered
                else None,
                "ended_at": ended,
                "menu_path": call.menu_path,
                "branch": call.branch,
                "operator_id": staff[call.agent] if call.agent is not None else None,
                "queue_wait_seconds": call.wait_seconds,
                "talk_seconds": call.talk_seconds,
                "outcome": CallOutcome(call.outcome),
                "case_id": call_cases.get(index),
            }
        )
    await _insert(session, Call, rows)
    await _insert(session, Callback, callbacks)
    return len(rows)


async def _reserve_ids(session: AsyncSession, model: Any, n: int) -> list[int]:
    """Ids for a bulk insert, taken after the current maximum.

    Bulk INSERT … RETURNING with a guaranteed row order was quadratic here, and the ids are
    needed to link rows. On PostgreSQL the table is locked for the rest of the load and the
    sequence is moved past the new ids, so later inserts never collide.
    """
    table = model.__table__
    if dialect_name(session) == "postgresql":
        await session.execute(text(f'LOCK TABLE "{table.name}" IN EXCLUSIVE MODE'))
    start = int(await session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1
    ids = list(range(start, start + n))
    if ids and dialect_name(session) == "postgresql":
        await session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), :last)"),
            {"last": ids[-1]},
        )
    return ids


async def _insert(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        await session.execute(insert(model), rows[i : i + BATCH])


def _e164(national: str) -> str:
    """The demo only makes valid national mobile numbers (its tests check them with
    phonenumbers), so the E.164 form is a prefix swap; parsing 60,000 numbers would
    dominate the load time."""
    return "+84" + national[1:]


def _unit_for(units: dict[str, Any], category: str, ward_code: str) -> int | None:
    unit_type = units["types"][category]
    if unit_type == UnitType.WARD_COMMITTEE and ward_code in units["ward"]:
        return int(units["ward"][ward_code])
    return (
        units["by_type"].get(unit_type)
        or units["by_type"].get(UnitType.WARD_COMMITTEE)
        or units["by_type"].get(UnitType.HEALTH_DEPARTMENT)
    )


async def _cases(
    session: AsyncSession,
    profile: DemoProfile,
    contacts: dict[str, int],
    units: dict[str, Any],
    staff: list[int],
) -> dict[int, int]:
    """Insert cases with their timeline and forwardings; returns call index → case id."""
    call_cases: dict[int, int] = {}
    now = utcnow()
    for start in range(0, len(profile.cases), BATCH):
        chunk = profile.cases[start : start + BATCH]
        rows, plans = [], []
        for c in chunk:
            code = random_code()
            status = STATUS_OF[c.outcome]
            forwarded = c.outcome in FORWARDED_OUTCOMES
            unit_id = _unit_for(units, c.category, c.ward_code) if forwarded else None
            if forwarded and unit_id is None:
                forwarded, status = False, CaseStatus.NEW
            done = status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
            resolved_at = (c.finished_at if forwarded else c.handled_at) if done else None
            closed_at = None
            if status == CaseStatus.CLOSED:
                closed_at = c.closed_at if forwarded else c.handled_at
            elif status == CaseStatus.REJECTED:
                closed_at = c.handled_at
            operator = staff[c.assignee] if c.assignee is not None else None
            rows.append(
                {
                    "code": code,
                    "channel": c.channel,
                    "category_code": c.category,
                    "urgent": c.urgent,
                    "priority": "critical" if c.urgent else "normal",
                    "status": status,
                    "description": c.description,
                    "ward_code": c.ward_code,
                    "address": c.address,
                    "public": False,
                    "contact_id": contacts[_e164(c.contact_phone)],
                    "assignee_id": operator if status != CaseStatus.NEW else None,
                    "created_by_id": operator,
                    "ever_forwarded": forwarded,
                    "answer": c.answer if done else None,
                    "search_text": search_text_for(code, c.description, c.address, c.contact_name),
                    "created_at": c.created_at,
                    "updated_at": max(
                        t
                        for t in (c.created_at, c.handled_at, c.accepted_at, resolved_at, closed_at)
                        if t is not None
                    ),
                    "resolved_at": resolved_at,
                    "closed_at": closed_at,
                }
            )
            plans.append((c, status, forwarded, unit_id, operator, closed_at))
        ids = await _reserve_ids(session, Case, len(rows))
        for row, case_id in zip(rows, ids, strict=True):
            row["id"] = case_id
        await _insert(session, Case, rows)
        events: list[dict[str, Any]] = []
        assignments: list[dict[str, Any]] = []
        for case_id, (c, status, forwarded, unit_id, operator, closed_at) in zip(
            ids, plans, strict=True
        ):
            event = functools.partial(_event, events, case_id)
            event("created", c.created_at, to_status="new", data={"channel": c.channel},
                  actor_id=operator)  # fmt: skip
            if c.handled_at is None:
                pass
            elif status == CaseStatus.IN_PROGRESS:
                event("taken", c.handled_at, from_status="new", to_status="in_progress",
                      actor_id=operator)  # fmt: skip
            elif forwarded:
                _forwarding(c, case_id, unit_id, operator, units, now, event, assignments)
                if closed_at is not None:
                    event("closed", closed_at, from_status="resolved", to_status="closed",
                          actor_id=operator)  # fmt: skip
            elif status != CaseStatus.NEW:
                kind = {CaseStatus.REJECTED: "rejected", CaseStatus.CLOSED: "closed"}.get(
                    status, "resolved"
                )
                event(kind, c.handled_at, from_status="new", to_status=status.value,
                      reason=c.answer, actor_id=operator)  # fmt: skip
            if c.call_index is not None:
                call_cases[c.call_index] = case_id
        await _insert(session, CaseEvent, events)
        await _insert(session, CaseAssignment, assignments)
    return call_cases


def _event(
    events: list[dict[str, Any]], case_id: int, kind: str, at: datetime, **extra: Any
) -> None:
    events.append({"case_id": case_id, "kind": kind, "at": at, **EVENT_DEFAULTS, **extra})


def _forwarding(
    c: Any,
    case_id: int,
    unit_id: int | None,
    operator: int | None,
    units: dict[str, Any],
    now: datetime,
    event: Any,
    assignments: list[dict[str, Any]],
) -> None:
    """A forwarding and its timeline: forwarded, accepted, flagged overdue, resolved."""
    assert c.handled_at is not None and unit_id is not None
    due = c.handled_at + timedelta(hours=units["hours"][c.category])
    finished = c.finished_at
    # The worker's sweep flags a forwarding once its deadline has passed unanswered.
    flagged = due + timedelta(minutes=1)
    late = (finished if finished is not None else now) > flagged
    overdue_at = flagged if late else None
    status = AssignmentStatus.RESOLVED if finished is not None else AssignmentStatus.PENDING
    if finished is None and c.accepted_at is not None:
        status = AssignmentStatus.ACCEPTED
    assignments.append(
        {
            "case_id": case_id,
            "unit_id": unit_id,
            "status": status,
            "note": "",
            "due_at": due,
            "overdue_at": overdue_at,
            "created_at": c.handled_at,
            "accepted_at": c.accepted_at,
            "finished_at": finished,
            "answer": c.answer if finished is not None else None,
        }
    )
    event("forwarded", c.handled_at, unit_id=unit_id, from_status="new", to_status="forwarded",
          actor_id=operator)  # fmt: skip
    if c.accepted_at is not None:
        event("accepted", c.accepted_at, unit_id=unit_id, from_status="forwarded",
              to_status="accepted")  # fmt: skip
    if overdue_at is not None:
        event("overdue", overdue_at, unit_id=unit_id, data={"due_at": due.isoformat()})
    if finished is not None:
        event("resolved", finished, unit_id=unit_id, from_status="accepted",
              to_status="resolved", reason=c.answer)  # fmt: skip
