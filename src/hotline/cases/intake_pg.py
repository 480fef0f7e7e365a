"""Case intake on PostgreSQL in one statement.

Intake is the hot path of a surge. The portable path (cases/service.py) makes about eight
round trips (contact lookup, contact, phone, case, timeline entry, counter, BEGIN, COMMIT);
here the contact find-or-create, the case, its first timeline entry and the report counter
are one statement of data-modifying CTEs, so a request costs BEGIN, this, COMMIT. The rules
are the same as the portable path's, and the test suite runs both (SQLite takes the other).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, literal_column, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from hotline.cases.models import Case
from hotline.contacts.models import Contact, ContactPhone
from hotline.site import site_of

_SQL = text(
    """
WITH existing AS (
    SELECT contact_id AS id FROM contact_phone WHERE e164 = CAST(:e164 AS varchar)
), named AS (
    UPDATE contact SET name = CAST(:name AS varchar)
    WHERE id IN (SELECT id FROM existing) AND name = '' AND CAST(:name AS varchar) <> ''
), new_contact AS (
    INSERT INTO contact (name, address, note, created_at)
    SELECT CAST(:name AS varchar), '', '', CAST(:now AS timestamptz)
    WHERE CAST(:e164 AS varchar) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM existing)
    RETURNING id
), new_phone AS (
    INSERT INTO contact_phone (e164, contact_id)
    SELECT CAST(:e164 AS varchar), id FROM new_contact
    ON CONFLICT (e164) DO NOTHING
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
    INSERT INTO case_counter (day, hour, category_code, channel, shard, created, forwarded, urgent)
    SELECT CAST(:day AS date), CAST(:hour AS smallint), CAST(:category_key AS varchar),
           CAST(:channel AS varchar), CAST(:shard AS smallint), 1, 0, CAST(:urgent_n AS integer)
    FROM new_case
    ON CONFLICT (day, hour, category_code, channel, shard) DO UPDATE
    SET created = case_counter.created + 1, urgent = case_counter.urgent + EXCLUDED.urgent
)
SELECT new_case.*, (SELECT id FROM new_contact) AS new_contact_id FROM new_case
"""
)


async def insert_case(
    session: AsyncSession,
    *,
    code: str,
    values: dict[str, Any],
    e164: str | None,
    contact_name: str,
    search: str,
    event_data: dict[str, Any],
) -> Case | None:
    """Insert the case (None if the code is taken) with contact, timeline entry and counter."""
    site = site_of(session)
    now: datetime = values["created_at"]
    day, hour = site.local_day_hour(now)
    params = {
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
        "shard": site.shard(),
        "urgent_n": int(values["urgent"]),
    }
    stmt = select(Case, literal_column("new_contact_id")).from_statement(_SQL)
    row = (await session.execute(stmt, params)).first()
    if row is None:
        return None
    case, new_contact_id = row
    if e164 is not None and case.contact_id is None:
        await _adopt_phone_owner(session, case, e164, new_contact_id)
    return case


async def _adopt_phone_owner(
    session: AsyncSession, case: Case, e164: str, new_contact_id: int | None
) -> None:
    """Another request registered the same new number at the same moment: its contact wins,
    and the contact this statement made for the number (left without a phone) is removed."""
    owner = await session.scalar(select(ContactPhone.contact_id).where(ContactPhone.e164 == e164))
    await session.execute(
        update(Case)
        .where(Case.id == case.id)
        .values(contact_id=owner)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(case, "contact_id", owner)
    if new_contact_id is not None:
        await session.execute(delete(Contact).where(Contact.id == new_contact_id))
