"""The cases shown with a followed patient (the case they were registered from, the urgent
`cap_cuu` cases their check-ins opened), on the patient page and the alerts: each with its
status, and whether this user may open it. Cases belong to the hotline and the units holding
them: cases/access.py decides who opens one, so a doctor gets the code and the status as text
and a supervisor a link. A care role registering a person from a case reads that case here
(case_to_register), not through the cases list, which stays closed to doctors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.care.access import may_follow
from hotline.cases.access import visible_clause
from hotline.cases.codes import normalise_code
from hotline.cases.models import Case, CaseStatus
from hotline.contacts.service import ReadSubject, log_personal_reads
from hotline.errors import NotFound
from hotline.messages import msg

# The most of an unknown code a refusal repeats (a pasted page of text is not echoed whole).
SHOWN_CODE = 40


@dataclass(frozen=True)
class CaseRef:
    code: str
    status: CaseStatus
    openable: bool  # the actor may open the case's page (cases/access.py)


async def case_refs(
    session: AsyncSession, *, actor: Actor, codes: Iterable[str | None]
) -> dict[str, CaseRef]:
    """The cases of these tracking codes by code, each with its status and whether the
    actor may open it. The caller has already checked the actor may see the patient."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    rows = (
        await session.execute(select(Case.id, Case.code, Case.status).where(Case.code.in_(wanted)))
    ).all()
    clause = visible_clause(actor)
    ids = [case_id for case_id, _code, _status in rows]
    if clause is None:
        openable = set(ids)
    else:
        openable = set(
            (await session.scalars(select(Case.id).where(Case.id.in_(ids), clause))).all()
        )
    return {
        code: CaseRef(code=code, status=status, openable=case_id in openable)
        for case_id, code, status in rows
    }


async def case_to_register(session: AsyncSession, *, actor: Actor, code: str) -> Case:
    """The case a care role (a proactive-care doctor included) registers a person from, by
    the tracking code they were given: the care permission checked, the read logged (the
    registration takes the case's reporter). Only this case: a doctor still sees no cases
    list. An unknown code is NotFound naming `case_code`."""
    may_follow(actor)
    canonical = normalise_code(code)
    case = (
        await session.scalar(select(Case).where(Case.code == canonical))
        if canonical is not None
        else None
    )
    if case is None:
        shown = code if len(code) <= SHOWN_CODE else code[:SHOWN_CODE] + "…"
        raise NotFound(msg("Không có yêu cầu mã {code}", code=shown), field="case_code")
    await log_personal_reads(
        session,
        user_id=actor.user_id,
        purpose="care_register_case",
        subjects=[ReadSubject(contact_id=case.contact_id, case_id=case.id)],
    )
    return case
