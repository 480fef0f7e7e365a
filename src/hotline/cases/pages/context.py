"""What the case page and its timeline show, read through the services that log personal
reads and hide an urgent care case's medical text from those not in charge of it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.attachments import service as attachments
from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor, display_names
from hotline.calls import labels as call_labels
from hotline.calls.service import calls_of_case
from hotline.cases import medical, notes, queries, timeline
from hotline.cases.actions import allowed_actions, unit_assignment
from hotline.cases.assignment_state import is_overdue
from hotline.cases.forward_choices import forward_choices, place_of
from hotline.cases.models import Case
from hotline.cases.transitions import Action
from hotline.cases.versions import version_in
from hotline.channels import pages as channel_pages
from hotline.channels import threads
from hotline.contacts.service import phones_of, read_contact
from hotline.db import utcnow
from hotline.directory.service import category_names, list_units
from hotline.duplicates.merge import can_merge_into
from hotline.duplicates.service import suggest_for_case
from hotline.knowledge.suggest import suggest_for_description


async def case_context(
    session: AsyncSession, actor: Actor, case: Case, language: str
) -> dict[str, Any]:
    """Everything the case page shows, read through the services that log personal reads
    (names in `language`)."""
    stored = case
    # Home care's urgent cases: the medical text and the home only to those in charge.
    case = await medical.shown_case(session, actor, stored)
    contact, phones = None, []
    if case.contact_id:
        contact = await read_contact(
            session, actor=actor, contact_id=case.contact_id, case_id=case.id, purpose="case_page"
        )
        phones = await phones_of(session, contact.id)
    assignments = await queries.assignments_of(session, case.id)
    held = unit_assignment(actor, assignments)
    actions = allowed_actions(actor, case, held)
    note_kinds = notes.note_visibilities(actor, held)
    events = await timeline.events_of(session, case.id)
    units = {u.id: u for u in await list_units(session)}
    categories = await category_names(session, language=language)
    articles = []
    # Whoever may resolve or reply gets the answers, as GET /api/v1/cases/{code}/articles
    # gives them.
    if Action.RESOLVE in actions or notes.Visibility.REPLY in note_kinds:
        articles = await suggest_for_description(
            session, description=case.description, category_code=case.category_code
        )
    can_merge = can_merge_into(actor, case)
    duplicates = []
    if Action.DUPLICATE in actions or can_merge:
        duplicates = await suggest_for_case(session, case=case, limit=5, actor=actor)
    original = await session.get(Case, case.duplicate_of_id) if case.duplicate_of_id else None
    return {
        "conversations": await case_conversations(session, actor, case),
        "case": case,
        "contact": contact,
        "medical_hidden": case is not stored,
        "phones": phones,
        "assignments": medical.shown_assignments(actor, stored, assignments),
        "overdue": {a.id for a in assignments if is_overdue(a, utcnow())},
        "actions": {a.value for a in actions},
        "note_kinds": {k.value for k in note_kinds},
        "version": version_in(events),
        # The case's full read is logged already (medical.shown_case).
        **await timeline_context(session, actor, stored, events, read_logged=True),
        "units": units,
        "forward": await forward_choices(session, case, list(units.values()))
        if Action.FORWARD in actions
        else None,
        "place": await place_of(session, case.ward_code),
        "categories": categories,
        "articles": articles,
        "suggested_duplicates": duplicates,
        "can_merge": can_merge,
        "duplicate_codes": await queries.duplicates_of(session, case.id),
        "original": original.code if original else None,
        "calls": await calls_of_case(session, case_id=case.id),
        "call_labels": call_labels,
        "attachments": await attachments.attachments_shown(session, actor, stored),
        "image_types": attachments.IMAGE_TYPES,
    }


async def case_conversations(
    session: AsyncSession, actor: Actor, case: Case
) -> list[dict[str, Any]]:
    """The case's conversations with their threads and reply boxes (hotline staff only:
    to units a citizen's messages are not theirs to read)."""
    if not allows(actor, Permission.READ_CONTACTS):
        return []
    rows = await threads.inbox_rows(
        session, actor=actor, status=None, case_code=case.code, audience=None
    )
    return [
        await channel_pages.thread_context(session, actor, row.conversation.id, suggestions=False)
        for row in rows
    ]


async def timeline_context(
    session: AsyncSession, actor: Actor, case: Case, events: list[Any], *, read_logged: bool
) -> dict[str, Any]:
    names = await display_names(session, {e.actor_id for e in events if e.actor_id})
    # The page names an edit without its old and new values; its notes, reasons and
    # answers are read as the case's medical text is (cases/medical.py).
    shown = await timeline.shown_events(
        session, actor, case, events, values_shown=False, read_logged=read_logged
    )
    return {"events": shown, "names": names}
