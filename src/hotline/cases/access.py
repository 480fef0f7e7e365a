"""Who may see and act on which case. Invisible cases are NotFound, never Forbidden."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor
from hotline.cases.assignment_state import ACTIVE_STATUSES
from hotline.cases.codes import normalise_code
from hotline.cases.medical import reads_medical
from hotline.cases.models import AssignmentStatus, Case, CaseAssignment, CaseStatus
from hotline.contacts.models import Channel
from hotline.errors import NotFound
from hotline.messages import msg

# A unit reads a case through a forwarding it holds (pending, accepted), or one it answered
# (resolved) while that answer stands, i.e. while the case is resolved or closed; it acts on
# a case (files, its own verbs) only through a forwarding it holds. One it returned, or whose
# answer was reopened, is no longer its case: the reporter's details, the files and the
# timeline are closed to it until it is forwarded to the unit again.
UNIT_HOLDS = ACTIVE_STATUSES
ANSWER_STANDS = (CaseStatus.RESOLVED, CaseStatus.CLOSED)


def visible_clause(actor: Actor, *, write: bool = False) -> Any:
    """SQL condition for the cases this actor may see, or act on with `write` (None: all)."""
    if allows(actor, Permission.SEE_ALL_CASES):
        return None
    if actor.unit_id is None:
        return Case.id.is_(None)
    mine = (CaseAssignment.case_id == Case.id, CaseAssignment.unit_id == actor.unit_id)
    holds = exists().where(*mine, CaseAssignment.status.in_(UNIT_HOLDS))
    if write:
        return holds
    answered = exists().where(*mine, CaseAssignment.status == AssignmentStatus.RESOLVED)
    return or_(holds, and_(Case.status.in_(ANSWER_STANDS), answered))


async def get_case_for(
    session: AsyncSession, actor: Actor, code: str, *, write: bool = False
) -> Case:
    """Fetch a case by tracking code if the actor may see it (act on it, with `write`)."""
    canonical = normalise_code(code)
    if canonical is None:
        raise NotFound(msg("Không có yêu cầu mã {code}", code=_shown(code)), field="code")
    stmt = select(Case).where(Case.code == canonical)
    clause = visible_clause(actor, write=write)
    if clause is not None:
        stmt = stmt.where(clause)
    case = await session.scalar(stmt)
    if case is None:
        raise NotFound(msg("Không có yêu cầu mã {code}", code=_shown(code)), field="code")
    return case


# The most of an unknown code a refusal repeats (a pasted page of text is not echoed whole).
SHOWN_CODE = 40


def _shown(code: str) -> str:
    return code if len(code) <= SHOWN_CODE else code[:SHOWN_CODE] + "…"


def can_edit(actor: Actor) -> bool:
    """Whether the actor works cases as the hotline (open, edit, take, forward, ...)."""
    return allows(actor, Permission.HANDLE_CASES)


# Timeline data for hotline staff only: the contact ids of the reporters of other cases
# (a merge lists them on the primary). A unit sees the primary, not those cases or people.
STAFF_ONLY_EVENT_DATA = frozenset({"reporters"})


# Timeline data of a care case whose values are the medical text or the home (the edits'
# old and new values): kept as "changed" with no value for those who read the neutral line.
MEDICAL_CHANGES = frozenset({"description", "address", "location", "lat", "long"})


def event_data_for(
    actor: Actor,
    data: dict[str, Any],
    *,
    channel: Channel | str | None = None,
    assignee_id: int | None = None,
) -> dict[str, Any]:
    """What of a timeline entry's data (stored or live) this actor may read; `channel` and
    `assignee_id` are the case's (a live event carries them for a care case)."""
    if not allows(actor, Permission.SEE_ALL_CASES) and STAFF_ONLY_EVENT_DATA.intersection(data):
        data = {k: v for k, v in data.items() if k not in STAFF_ONLY_EVENT_DATA}
    changes = data.get("changes")
    if (
        channel is not None
        and isinstance(changes, dict)
        and MEDICAL_CHANGES.intersection(changes)
        and not reads_medical(actor, channel=channel, assignee_id=assignee_id)
    ):
        hidden = {k: ({} if k in MEDICAL_CHANGES else v) for k, v in changes.items()}
        data = {**data, "changes": hidden}
    return data


def case_event_data_for(actor: Actor, case: Case, data: dict[str, Any]) -> dict[str, Any]:
    """A stored timeline entry's data of this case as this actor may read it."""
    return event_data_for(actor, data, channel=case.channel, assignee_id=case.assignee_id)
