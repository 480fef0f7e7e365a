"""Opening and editing cases. State changes live in cases/workflow.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, require
from hotline.auth.service import Actor
from hotline.calls.service import link_call
from hotline.cases import codes, intake_pg, timeline
from hotline.cases.in_charge import check_triage
from hotline.cases.intake_batch import IntakeWriter
from hotline.cases.intake_pg import OpenedCase
from hotline.cases.medical import check_edit
from hotline.cases.models import Case, CaseStatus, Channel, Priority
from hotline.contacts.names import person_name
from hotline.contacts.phones import normalise_phone
from hotline.contacts.service import find_or_create_by_phone
from hotline.db import dialect_name, insert_for, utcnow
from hotline.directory.service import (
    check_category,
    check_ward,
    get_category,
    get_ward,
    is_confirmed,
)
from hotline.errors import Conflict, InvalidInput
from hotline.events import Wake, mark_written
from hotline.messages import msg
from hotline.reports.counters import count_case
from hotline.site import Site, site_of
from hotline.text import fold
from hotline.triage.intake import IntakeGuess, guess_for, guess_together

CODE_ATTEMPTS = 5


@dataclass
class NewCase:
    channel: str
    description: str
    # Left out (None): triage's suggestion is applied and named in `suggested`.
    category: str | None = None
    urgent: bool | None = None
    priority: str = Priority.NORMAL.value
    contact_name: str = ""
    contact_phone: str | None = None
    contact_id: int | None = None
    ward_code: str | None = None
    address: str = ""
    lat: float | None = None
    long: float | None = None
    public: bool = False
    # The phone call this report came from (linked in the same transaction).
    call_id: int | None = None
    # The fields triage filled in because the intake left them out ("category", "urgent").
    suggested: tuple[str, ...] = ()


def _needs_triage(data: NewCase) -> bool:
    return (data.category is None or data.urgent is None) and bool(data.description.strip())


def _apply_triage(data: NewCase, found: IntakeGuess) -> None:
    """Fill what the intake left out with triage's suggestion, noting it in `data.suggested`.
    A value the intake gave (an operator's choice, `urgent: false` included) is kept."""
    suggested = list(data.suggested)
    if data.category is None and found.category is not None:
        data.category = found.category
        suggested.append("category")
    if data.urgent is None and found.urgent is not None:
        data.urgent = found.urgent
        suggested.append("urgent")
    data.suggested = tuple(suggested)


def search_text_for(case_code: str, description: str, address: str, contact_name: str) -> str:
    return fold(f"{case_code} {description} {address} {contact_name}")


@dataclass
class _Intake:
    """A validated new case: column values and what goes with them."""

    values: dict[str, Any]
    e164: str | None
    contact_name: str
    event_data: dict[str, Any]


def _may_open(actor: Actor) -> None:
    require(actor, Permission.HANDLE_CASES, "Chỉ tổng đài viên được tạo yêu cầu")


def _validated(actor: Actor, data: NewCase) -> _Intake:
    """The checks that need no database, shared by every intake path."""
    try:
        channel = Channel(data.channel)
    except ValueError:
        raise InvalidInput(
            msg("Kênh không hợp lệ: {channel}", channel=data.channel), field="channel"
        ) from None
    if channel is Channel.CARE and actor.user_id is not None:
        # Only home care's escalation opens these (as the system): staff record how the
        # citizen actually reached the hotline.
        raise InvalidInput(msg("Kênh “care” chỉ dành cho yêu cầu hệ thống tạo"), field="channel")
    try:
        priority = Priority(data.priority)
    except ValueError:
        raise InvalidInput(
            msg("Mức ưu tiên không hợp lệ: {priority}", priority=data.priority), field="priority"
        ) from None
    description = data.description.strip()
    if not description:
        raise InvalidInput("Nội dung không được để trống", field="description")
    _check_coordinates(data.lat, data.long)
    e164 = (
        normalise_phone(data.contact_phone, field="contact.phone") if data.contact_phone else None
    )
    now = utcnow()
    urgent = bool(data.urgent)
    values = {
        "channel": channel,
        "category_code": data.category,
        "urgent": urgent,
        "priority": Priority.CRITICAL if urgent and priority == Priority.NORMAL else priority,
        "status": CaseStatus.NEW,
        "description": description,
        "ward_code": data.ward_code,
        "address": data.address.strip(),
        "lat": data.lat,
        "long": data.long,
        "public": data.public,
        "contact_id": data.contact_id,
        "created_by_id": actor.user_id,
        "created_at": now,
        "updated_at": now,
    }
    event_data: dict[str, Any] = {
        "channel": channel.value,
        "category": data.category,
        "urgent": urgent,
    }
    if data.suggested:
        event_data["suggested"] = list(data.suggested)
    contact_name = person_name(data.contact_name, field="contact.name")
    return _Intake(values, e164, contact_name, event_data)


async def open_case(session: AsyncSession, *, actor: Actor, data: NewCase) -> Case:
    """Record a new request from any channel; finds or creates the contact by phone.

    A category or urgency left out is triage's suggestion, listed in `data.suggested` and in
    the "created" timeline entry. Writes the case, its first timeline entry and the report
    counters in one transaction.
    """
    _may_open(actor)
    if _needs_triage(data):
        _apply_triage(
            data,
            await guess_for(
                session,
                data.description,
                category=data.category is None,
                urgent=data.urgent is None,
            ),
        )
    intake = _validated(actor, data)
    if data.category is not None:
        await check_category(session, data.category)
    if data.ward_code is not None:
        await check_ward(session, data.ward_code)
    if dialect_name(session) == "postgresql":
        case = await _insert_pg(session, intake, actor)
        mark_written(session)  # the statement wrote the live event
        await _link_call(session, data, case)
        return case
    values = intake.values
    if intake.e164:
        contact = await find_or_create_by_phone(
            session, phone=intake.e164, name=intake.contact_name
        )
        values["contact_id"] = contact.id
    case = await _insert_with_fresh_code(session, values, intake.contact_name)
    await timeline.log(
        session,
        case,
        "created",
        actor,
        to_status=case.status.value,
        data=intake.event_data,
        unit_ids=(),
    )
    await count_case(
        session,
        created_at=values["created_at"],
        category_code=data.category,
        channel=values["channel"].value,
        created=1,
        urgent=int(values["urgent"]),
    )
    await _link_call(session, data, case)
    return case


async def _link_call(session: AsyncSession, data: NewCase, case: Case) -> None:
    if data.call_id is not None:
        await link_call(session, call_id=data.call_id, case_id=case.id)


async def open_case_autocommit(
    writer: IntakeWriter | None,
    *,
    database: str,
    site: Site,
    actor: Actor,
    data: NewCase,
    in_transaction: bool = False,
    wake: Wake | None = None,
) -> OpenedCase | None:
    """`open_case` for PostgreSQL as one self-committing statement (intake's fast path),
    written alone or with the reports arriving at the same moment (cases/intake_batch.py).

    Same rules and writes as `open_case`, its live event included; `wake` is called once it
    has committed. Returns None, having written nothing, when this report must be opened by
    `open_case` in a unit of work instead: no writer (SQLite), the caller needs the
    transaction for more work (`in_transaction`: duplicate suggestions, an idempotency key),
    a call to link, a category or ward this process has not confirmed recently (`open_case`
    confirms them), or a field triage must fill while this process has no model loaded yet
    (`open_case` loads it).
    """
    _may_open(actor)
    if writer is None or in_transaction or data.call_id is not None:
        return None
    if _needs_triage(data):
        found = await guess_together(
            database, data.description, category=data.category is None, urgent=data.urgent is None
        )
        if found is None:
            return None
        _apply_triage(data, found)
    intake = _validated(actor, data)
    if data.category is not None and not is_confirmed(database, "category", data.category):
        return None
    if data.ward_code is not None and not is_confirmed(database, "ward", data.ward_code):
        return None
    for _ in range(CODE_ATTEMPTS):
        code = codes.random_code()
        params = _pg_params(site, code, intake, actor)
        case = await intake_pg.insert_case_autocommit(writer, params, intake.values)
        if case is not None:
            if wake is not None:
                wake()
            return case
    raise Conflict("Không cấp được mã yêu cầu, hãy thử lại", field="code")


def _pg_params(site: Site, code: str, intake: _Intake, actor: Actor) -> dict[str, Any]:
    values = intake.values
    return intake_pg.statement_params(
        site,
        code=code,
        values=values,
        e164=intake.e164,
        contact_name=intake.contact_name,
        search=search_text_for(code, values["description"], values["address"], intake.contact_name),
        event_data=intake.event_data,
        live=timeline.live_data(CaseStatus.NEW.value, actor, intake.event_data),
    )


async def _insert_with_fresh_code(
    session: AsyncSession, values: dict[str, Any], contact_name: str
) -> Case:
    """Insert under a random code; a taken code (a race or a rare repeat) just draws again.

    ON CONFLICT DO NOTHING keeps the transaction usable after a clash on both engines,
    without a savepoint round trip on every intake.
    """
    insert = insert_for(dialect_name(session))
    for _ in range(CODE_ATTEMPTS):
        code = codes.random_code()
        search = search_text_for(
            code, str(values["description"]), str(values["address"]), contact_name
        )
        stmt = (
            insert(Case)
            .values(code=code, search_text=search, **values)
            .on_conflict_do_nothing(index_elements=["code"])
            .returning(Case)
        )
        case = (await session.scalars(stmt)).first()
        if case is not None:
            return case
    raise Conflict("Không cấp được mã yêu cầu, hãy thử lại", field="code")


async def _insert_pg(session: AsyncSession, intake: _Intake, actor: Actor) -> Case:
    for _ in range(CODE_ATTEMPTS):
        code = codes.random_code()
        params = _pg_params(site_of(session), code, intake, actor)
        case = await intake_pg.insert_in_session(session, params)
        if case is not None:
            return case
    raise Conflict("Không cấp được mã yêu cầu, hãy thử lại", field="code")


def _check_coordinates(lat: float | None, long: float | None) -> None:
    if (lat is None) != (long is None):
        raise InvalidInput("Cần cả vĩ độ và kinh độ", field="lat" if lat is None else "long")
    if lat is not None and not -90 <= lat <= 90:
        raise InvalidInput("Vĩ độ phải trong khoảng -90..90", field="lat")
    if long is not None and not -180 <= long <= 180:
        raise InvalidInput("Kinh độ phải trong khoảng -180..180", field="long")


EDITABLE = (
    "category",
    "urgent",
    "priority",
    "description",
    "ward_code",
    "address",
    "lat",
    "long",
    "public",
)


async def update_case(
    session: AsyncSession, *, actor: Actor, case: Case, changes: dict[str, object]
) -> Case:
    """Edit a case's details; each changed field is on the timeline with old and new values.

    A category change moves the case between report buckets.
    """
    require(actor, Permission.HANDLE_CASES, "Chỉ tổng đài viên được sửa yêu cầu")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidInput(msg("Không sửa được trường {field}", field=field), field=field)
    check_edit(actor, case, changes)
    check_triage(actor, case, changes)
    diff: dict[str, dict[str, object]] = {}
    if "category" in changes and changes["category"] != case.category_code:
        new_cat = changes["category"]
        if new_cat is not None:
            await get_category(session, str(new_cat))
        await count_case(
            session,
            created_at=case.created_at,
            category_code=case.category_code,
            channel=case.channel.value,
            created=-1,
            forwarded=-int(case.ever_forwarded),
            urgent=-int(case.urgent),
        )
        await count_case(
            session,
            created_at=case.created_at,
            category_code=str(new_cat) if new_cat else None,
            channel=case.channel.value,
            created=1,
            forwarded=int(case.ever_forwarded),
            urgent=int(case.urgent),
        )
        diff["category"] = {"from": case.category_code, "to": new_cat}
        case.category_code = str(new_cat) if new_cat else None
    if "urgent" in changes and bool(changes["urgent"]) != case.urgent:
        delta = 1 if changes["urgent"] else -1
        await count_case(
            session,
            created_at=case.created_at,
            category_code=case.category_code,
            channel=case.channel.value,
            urgent=delta,
        )
        diff["urgent"] = {"from": case.urgent, "to": bool(changes["urgent"])}
        case.urgent = bool(changes["urgent"])
    if "priority" in changes and changes["priority"] != case.priority.value:
        try:
            priority = Priority(str(changes["priority"]))
        except ValueError:
            raise InvalidInput("Mức ưu tiên không hợp lệ", field="priority") from None
        diff["priority"] = {"from": case.priority.value, "to": priority.value}
        case.priority = priority
    if "ward_code" in changes and changes["ward_code"] != case.ward_code:
        if changes["ward_code"] is not None:
            await get_ward(session, str(changes["ward_code"]))
        diff["ward_code"] = {"from": case.ward_code, "to": changes["ward_code"]}
        case.ward_code = changes["ward_code"]  # type: ignore[assignment]
    for field in ("description", "address"):
        if field in changes and changes[field] != getattr(case, field):
            value = str(changes[field] or "").strip()
            if field == "description" and not value:
                raise InvalidInput("Nội dung không được để trống", field="description")
            diff[field] = {"from": getattr(case, field), "to": value}
            setattr(case, field, value)
    if "lat" in changes or "long" in changes:
        lat = changes.get("lat", case.lat)
        long = changes.get("long", case.long)
        _check_coordinates(lat, long)  # type: ignore[arg-type]
        if (lat, long) != (case.lat, case.long):
            diff["location"] = {"from": [case.lat, case.long], "to": [lat, long]}
            case.lat, case.long = lat, long  # type: ignore[assignment]
    if "public" in changes and bool(changes["public"]) != case.public:
        diff["public"] = {"from": case.public, "to": bool(changes["public"])}
        case.public = bool(changes["public"])
    if not diff:
        return case
    if "description" in diff or "address" in diff:
        from hotline.contacts.models import Contact

        name = ""
        if case.contact_id:
            name = (
                await session.scalar(select(Contact.name).where(Contact.id == case.contact_id))
                or ""
            )
        case.search_text = search_text_for(case.code, case.description, case.address, name)
    case.updated_at = utcnow()
    await session.flush()
    await timeline.log(session, case, "updated", actor, data={"changes": diff})
    return case
