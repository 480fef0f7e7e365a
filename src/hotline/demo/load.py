"""Writing a demo profile into the database, in bulk, with demo staff accounts.

Records are inserted in bulk (thousands of rows at a time) rather than through the case
services, because the services stamp "now" and the demo needs its historical times; the
report counters are then rebuilt from the inserted rows so reports match exactly.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import Role, User
from hotline.auth.service import SYSTEM, create_user
from hotline.calls.models import Call, CallOutcome
from hotline.cases.codes import random_code
from hotline.cases.models import AssignmentStatus, Case, CaseAssignment, CaseEvent, CaseStatus
from hotline.cases.service import search_text_for
from hotline.contacts.models import Contact, ContactPhone
from hotline.db import create_engine, dialect_name, make_sessionmaker
from hotline.demo.profiles import FORWARDED_OUTCOMES, DemoProfile, build_profile
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

STATUS_OF = {
    "resolved_directly": CaseStatus.RESOLVED,
    "closed_directly": CaseStatus.CLOSED,
    "open": CaseStatus.NEW,
    "rejected": CaseStatus.REJECTED,
    "forwarded_resolved": CaseStatus.RESOLVED,
    "forwarded_open": CaseStatus.FORWARDED,
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


async def _load(settings: Settings, profile: DemoProfile, console: Console) -> dict[str, int]:
    engine = create_engine(settings.effective_database_url)
    sessionmaker = make_sessionmaker(engine, Site.from_settings(settings))
    try:
        async with sessionmaker() as session, session.begin():
            with Progress(console=console, transient=False) as progress:
                task = progress.add_task(f"Nạp dữ liệu mẫu {profile.name}", total=7)
                units = await _units(session, profile)
                progress.advance(task)
                await _users(session, units)
                progress.advance(task)
                contacts = await _contacts(session, profile)
                progress.advance(task)
                call_cases = await _cases(session, profile, contacts, units)
                progress.advance(task)
                calls = await _calls(session, profile, contacts, call_cases)
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


async def _users(session: AsyncSession, units: dict[str, Any]) -> None:
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
) -> int:
    rows = []
    for index, call in enumerate(profile.calls):
        e164 = _e164(call.caller)
        answered = call.outcome == "answered"
        rows.append(
            {
                "line": call.line,
                "caller": e164,
                "contact_id": contacts.get(e164),
                "started_at": call.started_at,
                "answered_at": call.started_at + timedelta(seconds=call.wait_seconds)
                if answered
                else None,
                "ended_at": call.started_at
                + timedelta(seconds=call.wait_seconds + call.talk_seconds),
                "menu_path": "",
                "branch": call.branch,
                "queue_wait_seconds": call.wait_seconds,
                "talk_seconds": call.talk_seconds,
                "outcome": CallOutcome(call.outcome),
                "case_id": call_cases.get(index),
            }
        )
    await _insert(session, Call, rows)
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
) -> dict[int, int]:
    """Insert cases with their timeline and forwardings; returns call index → case id."""
    call_cases: dict[int, int] = {}
    for start in range(0, len(profile.cases), BATCH):
        chunk = profile.cases[start : start + BATCH]
        rows, plans = [], []
        for c in chunk:
            code = random_code()
            status = STATUS_OF[c.outcome]
            forwarded = c.outcome in FORWARDED_OUTCOMES
            unit_id = _unit_for(units, c.category, c.ward_code) if forwarded else None
            done = status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
            if forwarded and unit_id is None:
                forwarded, status = False, CaseStatus.NEW
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
                    "ever_forwarded": forwarded,
                    "answer": c.answer if done else None,
                    "search_text": search_text_for(code, c.description, c.address, c.contact_name),
                    "created_at": c.created_at,
                    "updated_at": c.handled_at or c.created_at,
                    "resolved_at": c.handled_at if done else None,
                    "closed_at": c.handled_at
                    if status in (CaseStatus.CLOSED, CaseStatus.REJECTED)
                    else None,
                }
            )
            plans.append((c, status, forwarded, unit_id))
        ids = await _reserve_ids(session, Case, len(rows))
        for row, case_id in zip(rows, ids, strict=True):
            row["id"] = case_id
        await _insert(session, Case, rows)
        events: list[dict[str, Any]] = []
        assignments: list[dict[str, Any]] = []
        for case_id, (c, status, forwarded, unit_id) in zip(ids, plans, strict=True):
            events.append(
                {
                    "case_id": case_id,
                    "kind": "created",
                    "to_status": "new",
                    "data": {"channel": c.channel},
                    "at": c.created_at,
                }
            )
            if forwarded and c.handled_at is not None:
                finished = status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
                due = c.handled_at + timedelta(hours=units["hours"][c.category])
                assignments.append(
                    {
                        "case_id": case_id,
                        "unit_id": unit_id,
                        "status": AssignmentStatus.RESOLVED
                        if finished
                        else AssignmentStatus.PENDING,
                        "note": "",
                        "due_at": due,
                        "created_at": c.handled_at,
                        "finished_at": c.handled_at + timedelta(hours=2) if finished else None,
                        "answer": c.answer if finished else None,
                    }
                )
                events.append(
                    {
                        "case_id": case_id,
                        "kind": "forwarded",
                        "unit_id": unit_id,
                        "from_status": "new",
                        "to_status": "forwarded",
                        "data": {},
                        "at": c.handled_at,
                    }
                )
            if (
                status != CaseStatus.NEW
                and status != CaseStatus.FORWARDED
                and c.handled_at is not None
            ):
                kind = {CaseStatus.REJECTED: "rejected", CaseStatus.CLOSED: "closed"}.get(
                    status, "resolved"
                )
                events.append(
                    {
                        "case_id": case_id,
                        "kind": kind,
                        "to_status": status.value,
                        "data": {},
                        "reason": c.answer,
                        "at": c.handled_at + timedelta(hours=2 if forwarded else 0),
                    }
                )
            if c.call_index is not None:
                call_cases[c.call_index] = case_id
        await session.execute(insert(CaseEvent), events)
        if assignments:
            await session.execute(insert(CaseAssignment), assignments)
    return call_cases
