"""Writing the case timeline and the matching live event, in one place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.cases.access import (
    ANSWER_STANDS,
    MEDICAL_CHANGES,
    UNIT_HOLDS,
    case_event_data_for,
)
from hotline.cases.intake_pg import OpenedCase
from hotline.cases.medical import (
    TEXT_DATA,
    TIMELINE_PURPOSE,
    has_text,
    reads_medical,
    shown_entry,
)
from hotline.cases.models import AssignmentStatus, Case, CaseAssignment, CaseEvent
from hotline.contacts.models import Channel
from hotline.contacts.service import ReadSubject, log_personal_reads
from hotline.events import DomainEvent, record_event


async def unit_ids_of(session: AsyncSession, case_id: int) -> tuple[int, ...]:
    """The units whose officers get the case's live events (the rule of access.py)."""
    rows = await session.scalars(
        select(CaseAssignment.unit_id)
        .join(Case, Case.id == CaseAssignment.case_id)
        .where(
            CaseAssignment.case_id == case_id,
            or_(
                CaseAssignment.status.in_(UNIT_HOLDS),
                and_(
                    CaseAssignment.status == AssignmentStatus.RESOLVED,
                    Case.status.in_(ANSWER_STANDS),
                ),
            ),
        )
        .distinct()
    )
    return tuple(sorted(rows.all()))


async def log(
    session: AsyncSession,
    case: Case,
    kind: str,
    actor: Actor,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str | None = None,
    unit_id: int | None = None,
    data: dict[str, Any] | None = None,
    unit_ids: tuple[int, ...] | None = None,
) -> CaseEvent:
    """Append a timeline entry and queue the live event published after commit."""
    entry = CaseEvent(
        case_id=case.id,
        kind=kind,
        actor_id=actor.user_id,
        unit_id=unit_id,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data=data or {},
    )
    session.add(entry)
    if unit_ids is None:
        unit_ids = await unit_ids_of(session, case.id)
    announce(session, case, kind, actor, data=data, unit_ids=unit_ids)
    return entry


def announce(
    session: AsyncSession,
    case: Case,
    kind: str,
    actor: Actor,
    *,
    data: dict[str, Any] | None,
    unit_ids: tuple[int, ...],
) -> None:
    """Queue the live event for a timeline entry written by other means (bulk SQL)."""
    record_event(session, live_event(case, kind, actor, data=data, unit_ids=unit_ids))


def live_event(
    case: Case | OpenedCase,
    kind: str,
    actor: Actor,
    *,
    data: dict[str, Any] | None,
    unit_ids: tuple[int, ...] = (),
) -> DomainEvent:
    """The live event for a timeline entry. A care case's carries its channel and holder,
    its edits of the medical text or the home as changed with no value, and no words
    written on it (an answer, a file's name: medical.TEXT_DATA), to everyone: a live event
    reaches every open screen and the event log, where its read could not be logged;
    those in charge read them in the timeline, a logged read."""
    edits = (data or {}).get("changes")
    if case.channel == Channel.CARE and data and isinstance(edits, dict):
        changes = {k: ({} if k in MEDICAL_CHANGES else v) for k, v in edits.items()}
        data = {**data, "changes": changes}
    if case.channel == Channel.CARE and data:
        data = {k: v for k, v in data.items() if k not in TEXT_DATA}
    live = live_data(case.status.value, actor, data)
    if case.channel == Channel.CARE:
        live.update(channel=Channel.CARE.value, assignee_id=getattr(case, "assignee_id", None))
    return DomainEvent(kind=f"case.{kind}", case_code=case.code, unit_ids=unit_ids, data=live)


def live_data(status: str, actor: Actor, data: dict[str, Any] | None) -> dict[str, Any]:
    """A case event's data as subscribers get it (also written by intake's SQL)."""
    return {"status": status, "actor": actor.username, **(data or {})}


async def events_of(session: AsyncSession, case_id: int) -> list[CaseEvent]:
    return list(
        (
            await session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            )
        ).all()
    )


async def shown_events(
    session: AsyncSession,
    actor: Actor,
    case: Case,
    events: list[CaseEvent] | None = None,
    *,
    values_shown: bool = True,
    read_logged: bool = False,
) -> list[tuple[CaseEvent, dict[str, Any]]]:
    """A case's timeline, each entry as this actor may read it (cases/access.py, and
    cases/medical.py for the words written on a home care urgent case). Shown to one in
    charge of such a case, an edit of its medical text or home with its values, or any
    note, reason, answer or file name, is a logged read (cases/medical.py); the pages show
    an edit without its values (`values_shown=False`); `read_logged`: the caller logged
    the full read of the case already (the case page)."""
    if events is None:
        events = await events_of(session, case.id)
    shown = [
        shown_entry(actor, case, e, case_event_data_for(actor, case, e.data or {})) for e in events
    ]
    if (
        not read_logged
        and case.channel == Channel.CARE
        and reads_medical(actor, channel=case.channel, assignee_id=case.assignee_id)
    ):
        edits = (d.get("changes") for _, d in shown) if values_shown else ()
        if any(isinstance(c, dict) and MEDICAL_CHANGES.intersection(c) for c in edits) or any(
            has_text(e) for e, _ in shown
        ):
            await log_personal_reads(
                session,
                user_id=actor.user_id,
                purpose=TIMELINE_PURPOSE,
                subjects=[ReadSubject(contact_id=case.contact_id, case_id=case.id)],
            )
    return shown
