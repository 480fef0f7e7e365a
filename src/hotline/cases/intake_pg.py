"""Case intake on PostgreSQL: its rules written once, as one statement for many reports.

Intake is the hot path of a surge. The portable path (cases/service.py) makes about eight
round trips (contact lookup, contact, phone, case, timeline entry, counter, event, BEGIN,
COMMIT); here the contact find-or-create, the case, its first timeline entry, the report
counter and the live event are one statement of data-modifying CTEs, `INTAKE_SQL`, over
arrays of reports: a lone report is a batch of one. A single statement is a transaction
of its own, so the API runs it in autocommit on a plain asyncpg pool: one round trip, no
ORM session; reports arriving while every connection is busy are written together by
`cases/intake_batch.py`. Inside a unit of work (`insert_in_session`) the same statement
runs through the session. The rules are the same as the portable path's, and the test
suite runs both engines.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.cases.models import Case, CaseStatus, Channel, Priority
from hotline.contacts.models import Contact
from hotline.site import Site

log = structlog.get_logger(__name__)

if TYPE_CHECKING:
    from hotline.cases.intake_batch import IntakeWriter

# (case id, contact id) of a written report; None when its tracking code was taken.
Written = tuple[int, int | None] | None

# Statement parameters (`statement_params` keys) in INTAKE_SQL's array order.
COLUMNS = (
    "e164",
    "name",
    "code",
    "channel",
    "category",
    "urgent",
    "priority",
    "description",
    "ward_code",
    "address",
    "lat",
    "long",
    "public",
    "contact_id",
    "actor_id",
    "search",
    "event_data",
    "now",
    "day",
    "hour",
    "live",
)

# Settings of the connections INTAKE_SQL runs on in autocommit (web/state.py). The statement
# is planned once per connection and its plan kept: planning it afresh for each call was
# most of PostgreSQL's CPU per report (bench/FINDINGS.md). A cached plan is made for any
# data, and the first one may be made on a new site's empty tables, so every row INTAKE_SQL
# reads is looked up by an index condition on the statement's own arrays (`= ANY (...)`,
# never a join a small table would have planned as a scan), and sequential scans are off:
# the plan made on empty tables still looks rows up by index when they have grown
# (tests/cases/test_intake_plan.py). The foreign-key checks' plans are cached the same way.
PLAN_SETTINGS = {"plan_cache_mode": "force_generic_plan", "enable_seqscan": "off"}

# Per report: a report whose tracking code is taken writes nothing; a known number gives
# its contact (a name fills an empty one); a new number gets one new contact, however many
# reports bring it, and a concurrent registration of it wins (ON CONFLICT DO UPDATE waits
# for it and returns its owner even though this statement's snapshot cannot see it; ours
# is then dropped by the caller); each case gets its timeline entry, its report increment
# and its `case.created` event in the event log, in the reports' order.
INTAKE_SQL = """
WITH input AS (
    SELECT * FROM unnest(
        CAST(:e164 AS varchar[]), CAST(:name AS varchar[]), CAST(:code AS varchar[]),
        CAST(:channel AS varchar[]), CAST(:category AS varchar[]), CAST(:urgent AS boolean[]),
        CAST(:priority AS varchar[]), CAST(:description AS text[]),
        CAST(:ward_code AS varchar[]), CAST(:address AS varchar[]), CAST(:lat AS float8[]),
        CAST(:long AS float8[]), CAST(:public AS boolean[]), CAST(:contact_id AS bigint[]),
        CAST(:actor_id AS bigint[]), CAST(:search AS text[]), CAST(:event_data AS jsonb[]),
        CAST(:now AS timestamptz[]), CAST(:day AS date[]), CAST(:hour AS smallint[]),
        CAST(:live AS jsonb[])
    ) WITH ORDINALITY AS t(
        e164, name, code, channel, category, urgent, priority, description, ward_code,
        address, lat, long, public, contact_id, actor_id, search, event_data, at, day, hour,
        live, n
    )
    WHERE t.code NOT IN (
        SELECT c.code FROM "case" c WHERE c.code = ANY (CAST(:code AS varchar[]))
    )
), existing AS (
    SELECT p.e164, p.contact_id AS id FROM contact_phone p
    WHERE p.e164 = ANY (CAST(:e164 AS varchar[]))
), named AS (
    UPDATE contact c SET name = x.name
    FROM (
        SELECT DISTINCT ON (e.id) e.id, i.name FROM existing e JOIN input i USING (e164)
        WHERE i.name <> '' ORDER BY e.id, i.n
    ) x
    WHERE c.id = x.id AND c.name = '' AND c.id = ANY (ARRAY(SELECT id FROM existing))
), fresh AS (
    SELECT f.e164, f.name, f.at, nextval(pg_get_serial_sequence('contact', 'id')) AS id
    FROM (
        -- As when the number's reports come one by one: the contact is made by the first
        -- and named by the first that gives a name.
        SELECT i.e164,
               (array_agg(i.name ORDER BY i.name = '', i.n))[1] AS name,
               (array_agg(i.at ORDER BY i.n))[1] AS at
        FROM input i
        WHERE i.e164 IS NOT NULL AND i.e164 NOT IN (SELECT e164 FROM existing)
        GROUP BY i.e164
    ) f
), new_contact AS (
    INSERT INTO contact (id, name, address, note, created_at)
    SELECT f.id, f.name, '', '', f.at FROM fresh f
    RETURNING id
), new_phone AS (
    -- Numbers in a fixed order, so two batches sharing new numbers cannot deadlock.
    INSERT INTO contact_phone (e164, contact_id)
    SELECT e164, id FROM fresh ORDER BY e164
    ON CONFLICT (e164) DO UPDATE SET contact_id = contact_phone.contact_id
    RETURNING e164, contact_id
), new_case AS (
    INSERT INTO "case" (
        code, channel, category_code, urgent, priority, status, description, ward_code,
        address, lat, long, public, contact_id, created_by_id, ever_forwarded, search_text,
        created_at, updated_at
    )
    SELECT i.code, i.channel, i.category, i.urgent, i.priority, 'new', i.description,
           i.ward_code, i.address, i.lat, i.long, i.public,
           COALESCE(e.id, p.contact_id, i.contact_id), i.actor_id, false, i.search, i.at, i.at
    FROM input i LEFT JOIN existing e USING (e164) LEFT JOIN new_phone p USING (e164)
    ORDER BY i.n
    ON CONFLICT (code) DO NOTHING
    RETURNING id, code, contact_id
), timeline AS (
    INSERT INTO case_event (case_id, kind, actor_id, to_status, data, at)
    SELECT c.id, 'created', i.actor_id, 'new', i.event_data, i.at
    FROM new_case c JOIN input i USING (code)
), counter AS (
    -- Appended, not upserted: see reports/models.py (case_counter_delta).
    INSERT INTO case_counter_delta (day, hour, category_code, channel, created, forwarded, urgent)
    SELECT i.day, i.hour, COALESCE(i.category, ''), i.channel, 1, 0, i.urgent::int
    FROM new_case c JOIN input i USING (code)
), live AS (
    -- The live event, committed with the case (hotline/events.py).
    INSERT INTO event (at, kind, case_code, unit_ids, data)
    SELECT i.at, 'case.created', c.code, '[]', i.live
    FROM new_case c JOIN input i USING (code)
    ORDER BY i.n
)
SELECT code, id, contact_id FROM new_case
UNION ALL
SELECT NULL, id, NULL FROM new_contact
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


ASYNCPG_SQL, _ASYNCPG_NAMES = _positional(INTAKE_SQL)
assert tuple(_ASYNCPG_NAMES) == COLUMNS
_DROP_ORPHAN = (
    "DELETE FROM contact WHERE id = $1"
    " AND NOT EXISTS (SELECT 1 FROM contact_phone WHERE contact_id = $1)"
    ' AND NOT EXISTS (SELECT 1 FROM "case" WHERE contact_id = $1)'
)


# json.dumps(..., ensure_ascii=False) without building an encoder for every call (intake
# writes two documents per report).
_json = json.JSONEncoder(ensure_ascii=False).encode


def statement_params(
    site: Site,
    *,
    code: str,
    values: dict[str, Any],
    e164: str | None,
    contact_name: str,
    search: str,
    event_data: dict[str, Any],
    live: dict[str, Any],
) -> dict[str, Any]:
    """One report's values for INTAKE_SQL; `live` is its `case.created` event's data."""
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
        "event_data": _json(event_data),
        "day": day,
        "hour": hour,
        "live": _json(live),
    }


async def insert_in_session(session: AsyncSession, params: dict[str, Any]) -> Case | None:
    """INTAKE_SQL for one report inside the session's transaction: the case (None if the
    code is taken, nothing written). `params` from `statement_params`."""
    result = await session.execute(text(INTAKE_SQL), {name: [params[name]] for name in COLUMNS})
    case_id: int | None = None
    made: list[int] = []
    for code, row_id, _contact_id in result.all():
        if code is None:
            made.append(row_id)
        else:
            case_id = row_id
    if case_id is None:
        return None
    case = await session.get(Case, case_id)
    assert case is not None
    orphans = [c for c in made if c != case.contact_id]
    if orphans:
        # Lost a race for a new number: the contact made for it has nothing attached.
        await session.execute(delete(Contact).where(Contact.id.in_(orphans)))
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


async def write_rows(conn: asyncpg.Connection, rows: list[dict[str, Any]]) -> list[Written]:
    """INTAKE_SQL in autocommit for these reports (one or many), each answered with (case
    id, contact id), or None when its code was taken (then nothing is written for it)."""
    # Two reports drawing the same tracking code at once: the second is answered "code
    # taken" without being sent (its caller draws again), as the statement would, but
    # without joining its timeline entry to the first one's case.
    sent: dict[str, dict[str, Any]] = {}
    for row in rows:
        sent.setdefault(row["code"], row)
    columns = [[row[name] for row in sent.values()] for name in COLUMNS]
    records = await conn.fetch(ASYNCPG_SQL, *columns)
    written: dict[str, tuple[int, int | None]] = {}
    new_contacts: list[int] = []
    for code, record_id, contact_id in records:
        if code is None:
            new_contacts.append(record_id)
        else:
            written[code] = (record_id, contact_id)
    used = {contact_id for _, contact_id in written.values()}
    # Lost a race for a new number (or its reports' codes were taken meanwhile).
    await drop_orphan_contacts(conn, [c for c in new_contacts if c not in used])
    return [written.get(row["code"]) if sent[row["code"]] is row else None for row in rows]


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
