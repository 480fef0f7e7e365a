"""The cases shown with a followed patient (the case they were registered from, the urgent
`cap_cuu` cases their check-ins opened), on the patient page and the alerts: each with its
status, and whether this user may open it. Cases belong to the hotline and the units holding
them: cases/access.py decides who opens one, so a doctor gets the code and the status as text
and a supervisor a link."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.cases.access import visible_clause
from hotline.cases.models import Case, CaseStatus


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
