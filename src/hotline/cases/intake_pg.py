"""Case intake on PostgreSQL in one statement.

Intake is the hot path of a surge. The portable path (cases/service.py) makes about eight
round trips (contact lookup, contact, phone, case, timeline entry, counter, BEGIN, COMMIT);
here the contact find-or-create, the case, its first timeline entry and the report counter
are one statement of data-modifying CTEs. A single statement is a transaction of its own, so
the API runs it in autocommit on a plain asyncpg pool (`insert_one`): one round trip, no ORM
session; reports arriving while every connection is busy are written together by
`cases/intake_batch.py`, which applies the same rules to many rows. Inside a unit of work
(`insert_case`) the statement runs through the session. The rules are the same as the
portable path's, and the test suite runs both engines.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog
from sqlalchemy import delete, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.cases.models import Case, CaseStatus, Channel, Priority
from hotline.contacts.models import Contact
from hotline.site import Site

log = structlog.get_logger(__name__)

if TYPE_CHECKING:
    from hotline.cases.intake_batch import IntakeWriter

# (case id, contact id) of a written report; None when its tracking code was taken.
Written = tuple[int, int | None] | None

_CTES = """
WITH existing AS (
    SELECT contact_id AS id FROM contact_phone WHERE e164 = CAST(:e164 AS varchar)
), named AS (
    UPDATE contact SET name = CAST(:name AS varchar)
    WHERE id IN (SELECT id FROM existing) AND name = '' AND CAST(:name AS varchar) <> ''
      AND NOT EXISTS (SELECT 1 FROM "case" WHERE code = CAST(:code AS varchar))
), new_contact AS (
    INSERT INTO contact (name, address, note, created_at)
    SELECT CAST(:name AS varchar), '', '', CAST(:now AS timestamptz)
    WHERE CAST(:e164 AS varchar) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM existing)
      -- A taken tracking code means no case: then no contact either, since in autocommit
      -- nothing would roll it back.
      AND NOT EXISTS (SELECT 1 FROM "case" WHERE code = CAST(:code AS varchar))
    RETURNING id
), new_phone AS (
    INSERT INTO contact_phone (e164, contact_id)
    SELECT CAST(:e164 AS varchar), id FROM new_contact
    -- A concurrent request registered the same new number first: DO UPDATE (a no-op) waits
    -- for it and returns its row even though this statement's snapshot cannot see it, so
    -- the case still gets the number's owner.
    ON CONFLICT (e164) DO UPDATE SET contact_id = contact_phone.contact_id
    RETURNING contact_id
), new_case AS (
    INSERT INTO "case" (
        code, channel, category_code, urgent, priority, status, description, ward_code,
        address, lat, long, public, contact_id, created_by_id, ever_forwarded, search_text,
        created_at, updated_at
    ) VALUES (
        CAST(:code AS varchar), CAST(:channel AS varchar), CAST(:category AS varchar),
        CAST(:urgent AS boolean), CAST(:priority AS varchar), 'new', CAST(:description AS text),
        CAST(:ward_code AS varchar), CAST(:address AS varchar), CAST(:lat AS float8),
        CAST(:long AS float8), CAST(:public AS boolean),
        COALESCE(
            (SELECT id FROM existing),
            (SELECT contact_id FROM new_phone),
            CAST(:contact_id AS bigint)
        ),
        CAST(:actor_id AS bigint), false, CAST(:search AS text),
        CAST(:now AS timestamptz), CAST(:now AS timestamptz)
    )
    ON CONFLICT (code) DO NOTHING
    RETURNING *
), event AS (
    INSERT INTO case_event (case_id, kind, actor_id, to_status, data, at)
    SELECT id, 'created', CAST(:actor_id AS bigint), 'new', CAST(:event_data AS jsonb),
           CAST(:now AS timestamptz)
    FROM new_case
), counter AS (
    -- Appended, not upserted: see reports/models.py (case_counter_delta).
    INSERT INTO case_counter_delta (day, hour, category_code, channel, created, forwarded, urgent)
    SELECT CAST(:day AS date), CAST(:hour AS smallint), CAST(:category_key AS varchar),
           CAST(:channel AS varchar), 1, 0, CAST(:urgent_n AS integer)
    FROM new_case
)
"""


_PARAM = re.compile(r"(?<!:):(\w+)")


def _positional(sql: str) -> tuple[str, list[str]]:
    """`:name` parameters → asyncpg's `$1…$n`, and the names in that order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return _PARAM.sub(number, sql), names


_SQL = text(
    _CTES + "SELECT new_case.*, (SELECT id FROM new_contact) AS new_contact_id FROM new_case"
)
# Autocommit callers know every value but these: no need to ship the whole row back.
_SQL_AUTOCOMMIT, _PARAM_NAMES = _positional(
    _CTES + "SELECT new_case.id, new_case.contact_id, (SELECT id FROM new_contact) FROM new_case"
)
_DROP_ORPHAN = (
    "DELETE FROM contact WHERE id = $1"
    " AND NOT EXISTS (SELECT 1 FROM contact_phone WHERE contact_id = $1)"
    ' AND NOT EXISTS (SELECT 1 FROM "case" WHERE contact_id = $1)'
)


def statement_params(
    site: Site,
    *,
    code: str,
    values: dict[str, Any],
    e164: str | None,
    contact_name: str,
    search: str,
    event_data: dict[str, Any],
) -> dict[str, Any]:
    now: datetime = values["created_at"]
    day, hour = site.local_day_hour(now)
    return {
        "e164": e164,
        "name": contact_name,
        "now": now,
        "code": code,
        "channel": values["channel"].value,
        "category": values["category_code"],
        "urgent": values["urgent"],
        "priority": values["priority"].value,
        "description": values["description"],
        "ward_code": values["ward_code"],
        "address": values["address"],
        "lat": values["lat"],
        "long": values["long"],
        "public": values["public"],
        "contact_id": values["contact_id"],
        "actor_id": values["created_by_id"],
        "search": search,
        "event_data": json.dumps(event_data, ensure_ascii=False),
        "day": day,
        "hour": hour,
        "category_key": values["category_code"] or "",
        "urgent_n": int(values["urgent"]),
    }


async def insert_case(session: AsyncSession, params: dict[str, Any]) -> Case | None:
    """Insert the case (None if the code is taken) with contact, timeline entry and counter.

    `params` from `statement_params`."""
    stmt = select(Case, literal_column("new_contact_id")).from_statement(_SQL)
    row = (await session.execute(stmt, params)).first()
    if row is None:
        return None
    case, new_contact_id = row
    if new_contact_id is not None and new_contact_id != case.contact_id:
        await session.execute(delete(Contact).where(Contact.id == new_contact_id))
    return case


@dataclass(frozen=True, slots=True)
class OpenedCase:
    """A case just committed by `insert_case_autocommit`: what intake answers with.

    Plain attributes, named as on `Case`: building an ORM instance per request only to read
    it back costs more than the rest of the Python work of an intake.
    """

    id: int
    code: str
    status: CaseStatus
    channel: Channel
    category_code: str | None
    urgent: bool
    priority: Priority
    description: str
    ward_code: str | None
    address: str
    lat: float | None
    long: float | None
    public: bool
    contact_id: int | None
    created_at: datetime
    updated_at: datetime
    assignee_id: None = None
    ever_forwarded: bool = False
    answer: None = None
    resolved_at: None = None
    closed_at: None = None


async def insert_one(conn: asyncpg.Connection, params: dict[str, Any]) -> Written:
    """The one-row statement in autocommit: (case id, contact id), or None if the code is
    taken (then nothing is written). `params` from `statement_params`."""
    row = await conn.fetchrow(_SQL_AUTOCOMMIT, *[params[name] for name in _PARAM_NAMES])
    if row is None:
        return None
    case_id, contact_id, new_contact_id = row
    if new_contact_id is not None and new_contact_id != contact_id:
        # Lost a race for a new number: the contact made for it has nothing attached.
        await drop_orphan_contacts(conn, [new_contact_id])
    return case_id, contact_id


async def drop_orphan_contacts(conn: asyncpg.Connection, contact_ids: list[int]) -> None:
    """Delete contacts an intake made but no case or phone came to own (a lost race).

    Runs after the intake has committed, so a failure here must not fail (or, for a batch,
    repeat) the intake: a leftover empty contact is only untidy, and is logged."""
    for contact_id in contact_ids:
        try:
            await conn.execute(_DROP_ORPHAN, contact_id)
        except asyncpg.PostgresError as exc:
            log.warning("intake_orphan_contact_kept", contact_id=contact_id, error=str(exc))


async def insert_case_autocommit(
    writer: IntakeWriter, params: dict[str, Any], values: dict[str, Any]
) -> OpenedCase | None:
    """The intake committed on its own, possibly together with others arriving at the same
    moment (cases/intake_batch.py). None: the code is taken, nothing written.

    `params` from `statement_params` over `values`, which also fill in the answer."""
    written = await writer.insert(params)
    if written is None:
        return None
    case_id, contact_id = written
    return OpenedCase(
        id=case_id,
        code=params["code"],
        status=values["status"],
        channel=values["channel"],
        category_code=values["category_code"],
        urgent=values["urgent"],
        priority=values["priority"],
        description=values["description"],
        ward_code=values["ward_code"],
        address=values["address"],
        lat=values["lat"],
        long=values["long"],
        public=values["public"],
        contact_id=contact_id,
        created_at=values["created_at"],
        updated_at=values["updated_at"],
    )
