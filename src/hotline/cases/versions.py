"""Optimistic concurrency for a case: its version is the id of its newest timeline entry
that changes the case.

Every change of a case writes its timeline, so a page (or an API client) that read version
N and acts with `expected_version=N` acts on the case as it saw it; if anyone changed the
case since, the action is refused with a Conflict instead of overwriting what they did.
Entries that change nothing an action depends on (a note, a reply to the citizen, the use of
a knowledge-base article) are not versions: someone writing a note while a colleague
prepares an action must not make that action fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from hotline.cases.models import Case, CaseEvent
from hotline.db import utcnow
from hotline.errors import Conflict
from hotline.messages import msg

# Timeline kinds that change nothing of the case (cases/notes.py writes the first two,
# knowledge/suggest.py the third).
NOTE_KIND, REPLY_KIND = "note", "reply"
UNVERSIONED_KINDS = frozenset({NOTE_KIND, REPLY_KIND, "article_used"})

STALE = msg(
    "Yêu cầu vừa được người khác cập nhật sau khi bạn mở nó. "
    "Hãy xem lại thay đổi mới nhất rồi thao tác lại."
)


async def version_of(session: AsyncSession, case_id: int) -> int:
    """The case's current version (0 before its first timeline entry)."""
    found = await session.scalar(
        select(func.max(CaseEvent.id)).where(
            CaseEvent.case_id == case_id, CaseEvent.kind.not_in(UNVERSIONED_KINDS)
        )
    )
    return int(found or 0)


def version_in(events: Sequence[CaseEvent]) -> int:
    """The version of a case from its timeline already read (the case page)."""
    ids = [e.id for e in events if e.kind not in UNVERSIONED_KINDS]
    return max(ids, default=0)


async def versions_of(session: AsyncSession, case_ids: Iterable[int]) -> dict[int, int]:
    """The versions of many cases in one query (lists: the unit inbox)."""
    ids = list(case_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(CaseEvent.case_id, func.max(CaseEvent.id))
        .where(CaseEvent.case_id.in_(ids), CaseEvent.kind.not_in(UNVERSIONED_KINDS))
        .group_by(CaseEvent.case_id)
    )
    found = {case_id: int(v or 0) for case_id, v in rows.all()}
    return {i: found.get(i, 0) for i in ids}


async def check_version(session: AsyncSession, case: Case, expected: int | None) -> None:
    """Refuse (Conflict, field expected_version) an action made on an older view of the case.

    The case's row is written first: a concurrent action on it waits for this transaction
    (PostgreSQL row lock, SQLite's single writer), and the version read after the wait
    includes whatever the other one wrote, so two stale actions cannot both pass.
    """
    if expected is None:
        return
    now = utcnow()
    await session.execute(
        update(Case)
        .where(Case.id == case.id)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(case, "updated_at", now)
    if await version_of(session, case.id) != expected:
        raise Conflict(STALE, field="expected_version", code="stale_version")
