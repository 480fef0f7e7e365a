"""Notes on a case: internal notes among staff, and replies addressed to the citizen.

Each is a timeline entry of its own kind, written with its live event, so everyone with
the case page open sees it at once. An internal note keeps its text where the timeline
keeps staff notes and reasons (`reason`); a reply keeps it where answers to the citizen
go (`data.answer`, as a resolve answer does), and the portal's tracking page shows the
replies beside the answer (`replies_of`). Neither changes the case: not its status, not
its record, not its version (versions.py), so a note added while a colleague prepares an
action does not make that action stale. No outbound channel sends a reply by itself (none
is connected, as for a resolve answer): a phone reporter is told by the hotline.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import REFUSALS, Permission, allows
from hotline.auth.service import Actor
from hotline.cases import timeline
from hotline.cases.access import get_case_for
from hotline.cases.actions import unit_assignment
from hotline.cases.models import CaseAssignment, CaseEvent
from hotline.cases.queries import assignments_of
from hotline.cases.versions import NOTE_KIND, REPLY_KIND
from hotline.errors import InvalidInput, NotAllowed
from hotline.messages import msg

TEXT_MAX = 4000


class Visibility(enum.StrEnum):
    INTERNAL = "internal"  # staff only: the hotline and the units that see the case
    REPLY = "reply"  # addressed to the citizen, shown on the portal's tracking page


KINDS = {Visibility.INTERNAL: NOTE_KIND, Visibility.REPLY: REPLY_KIND}


@dataclass(frozen=True)
class Note:
    id: int
    case: str
    visibility: Visibility
    text: str
    actor_id: int | None
    author: str
    unit_id: int | None
    at: datetime


@dataclass(frozen=True)
class Reply:
    """A reply as the citizen reads it: when, and what; not who."""

    at: datetime
    text: str


def note_visibilities(actor: Actor, assignment: CaseAssignment | None) -> frozenset[Visibility]:
    """The notes `actor` may add to a case they may read, in any status of the case:
    hotline staff internal notes and replies; a unit officer internal notes while the unit
    holds the case (`assignment`: its forwarding, `actions.unit_assignment`)."""
    found = set()
    if allows(actor, Permission.HANDLE_CASES) or assignment is not None:
        found.add(Visibility.INTERNAL)
    if allows(actor, Permission.REPLY_TO_CITIZENS):
        found.add(Visibility.REPLY)
    return frozenset(found)


def check_text(text: str | None) -> str:
    """The note's text trimmed; refused (field `text`) when empty or too long."""
    body = (text or "").strip()
    if not body:
        raise InvalidInput("Nhập nội dung ghi chú", field="text")
    if len(body) > TEXT_MAX:
        raise InvalidInput(
            msg(
                "Nội dung tối đa {limit} ký tự (đang có {length})", limit=TEXT_MAX, length=len(body)
            ),
            field="text",
        )
    return body


def _visibility(value: str | Visibility) -> Visibility:
    try:
        return Visibility(value)
    except ValueError:
        raise InvalidInput(
            "Chọn ghi chú nội bộ (internal) hoặc trả lời người dân (reply)", field="visibility"
        ) from None


async def add_note(
    session: AsyncSession, *, actor: Actor, code: str, text: str | None, visibility: str
) -> Note:
    """Add an internal note or a reply to the citizen to a case (`note_visibilities` says
    who may): a `note` or `reply` timeline entry and its live event. A case the actor may
    not see is NotFound; a kind of note they may not add is NotAllowed."""
    kind = _visibility(visibility)
    case = await get_case_for(session, actor, code)
    assignment = unit_assignment(actor, await assignments_of(session, case.id))
    if kind not in note_visibilities(actor, assignment):
        if kind == Visibility.REPLY:
            raise NotAllowed(REFUSALS[Permission.REPLY_TO_CITIZENS], field="visibility")
        raise NotAllowed("Đơn vị của bạn không còn giữ yêu cầu này", field="visibility")
    body = check_text(text)
    internal = kind == Visibility.INTERNAL
    unit_id = assignment.unit_id if assignment is not None else None
    entry = await timeline.log(
        session,
        case,
        KINDS[kind],
        actor,
        unit_id=unit_id,
        reason=body if internal else None,
        data=None if internal else {"answer": body},
    )
    await session.flush()
    return Note(
        id=entry.id,
        case=case.code,
        visibility=kind,
        text=body,
        actor_id=actor.user_id,
        author=actor.username,
        unit_id=unit_id,
        at=entry.at,
    )


async def replies_of(session: AsyncSession, case_id: int) -> list[Reply]:
    """The replies to the citizen on a case, oldest first (never its internal notes)."""
    rows = await session.execute(
        select(CaseEvent.at, CaseEvent.data)
        .where(CaseEvent.case_id == case_id, CaseEvent.kind == REPLY_KIND)
        .order_by(CaseEvent.id)
    )
    return [Reply(at=at, text=str((data or {}).get("answer", ""))) for at, data in rows.all()]
