"""The deadline sweep: forwardings past their due time are flagged, counted and announced."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import SYSTEM
from hotline.cases import timeline
from hotline.cases.assignment_state import overdue_sql
from hotline.cases.models import Case, CaseAssignment
from hotline.db import utcnow
from hotline.reports.counters import count_unit


async def mark_overdue(session: AsyncSession, *, limit: int = 500) -> int:
    """Flag overdue forwardings (assignment_state.overdue_sql) once each, count them and
    announce the escalation."""
    now = utcnow()
    due = list(
        (
            await session.scalars(
                select(CaseAssignment)
                .where(overdue_sql(now), CaseAssignment.overdue_at.is_(None))
                .order_by(CaseAssignment.due_at)
                .limit(limit)
                # Each worker process runs this sweep: rows another one holds are its to
                # flag (it would otherwise count and log them a second time on its commit).
                .with_for_update(skip_locked=True)
            )
        ).all()
    )
    for assignment in due:
        assignment.overdue_at = now
        await count_unit(session, unit_id=assignment.unit_id, at=now, overdue=1)
        case = await session.get(Case, assignment.case_id)
        assert case is not None
        await timeline.log(
            session,
            case,
            "overdue",
            SYSTEM,
            unit_id=assignment.unit_id,
            data={"due_at": assignment.due_at.isoformat()},
        )
    await session.flush()
    return len(due)
