"""Who may see and act on which case. Invisible cases are NotFound, never Forbidden."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor
from hotline.cases.assignment_state import ACTIVE_STATUSES
from hotline.cases.codes import normalise_code
from hotline.cases.models import AssignmentStatus, Case, CaseAssignment
from hotline.errors import NotFound

# A unit sees a case through a forwarding it holds (pending, accepted) or answered
# (resolved: its answer is the case's). One it returned is no longer its case: the
# reporter's details, the files and the timeline are closed to it until forwarded again.
UNIT_SEES = (*ACTIVE_STATUSES, AssignmentStatus.RESOLVED)


def visible_clause(actor: Actor) -> Any:
    """SQL condition for the cases this actor may see (None: all)."""
    if allows(actor, Permission.SEE_ALL_CASES):
        return None
    if actor.unit_id is None:
        return Case.id.is_(None)
    return exists().where(
        CaseAssignment.case_id == Case.id,
        CaseAssignment.unit_id == actor.unit_id,
        CaseAssignment.status.in_(UNIT_SEES),
    )


async def get_case_for(session: AsyncSession, actor: Actor, code: str) -> Case:
    """Fetch a case by tracking code if the actor may see it."""
    canonical = normalise_code(code)
    if canonical is None:
        raise NotFound(f"Không có yêu cầu mã {code}", field="code")
    stmt = select(Case).where(Case.code == canonical)
    clause = visible_clause(actor)
    if clause is not None:
        stmt = stmt.where(clause)
    case = await session.scalar(stmt)
    if case is None:
        raise NotFound(f"Không có yêu cầu mã {code}", field="code")
    return case


def can_edit(actor: Actor) -> bool:
    """Whether the actor works cases as the hotline (open, edit, take, forward, ...)."""
    return allows(actor, Permission.HANDLE_CASES)


# Timeline data for hotline staff only: the contact ids of the reporters of other cases
# (a merge lists them on the primary). A unit sees the primary, not those cases or people.
STAFF_ONLY_EVENT_DATA = frozenset({"reporters"})


def event_data_for(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """What of a timeline entry's data (stored or live) this actor may read."""
    if allows(actor, Permission.SEE_ALL_CASES) or not STAFF_ONLY_EVENT_DATA.intersection(data):
        return data
    return {k: v for k, v in data.items() if k not in STAFF_ONLY_EVENT_DATA}
