"""The site's own cases as training examples for the triage model.

Cases own the knowledge of which cases staff confirmed; triage only learns from the
examples it is given (`triage.service.train_model`), so triage sits below cases.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.cases.models import Case, CaseEvent, CaseStatus
from hotline.triage.corpus import Example, split_corpus
from hotline.triage.normalise import normalise

CONFIRMED_STATUSES = (CaseStatus.RESOLVED, CaseStatus.CLOSED)
HISTORY_LIMIT = 50_000


async def history_examples(session: AsyncSession) -> list[Example]:
    """Cases whose category staff confirmed: resolved or closed with a category, or whose
    category an operator changed by hand ("updated" timeline event). Newest first, capped.

    Texts of the held-out split are left out so the reported metrics stay honest.
    """
    changed: set[int] = set()
    events = await session.execute(
        select(CaseEvent.case_id, CaseEvent.data).where(CaseEvent.kind == "updated")
    )
    for case_id, data in events:
        if isinstance(data, dict) and "category" in (data.get("changes") or {}):
            changed.add(int(case_id))
    stmt = (
        select(Case.id, Case.description, Case.category_code, Case.urgent, Case.status)
        .where(Case.category_code.is_not(None))
        .order_by(Case.id.desc())
    )
    _, held_out = split_corpus()
    held_texts = {normalise(e.text) for e in held_out}
    out: list[Example] = []
    for case_id, description, category, urgent, status in await session.execute(stmt):
        if status not in CONFIRMED_STATUSES and case_id not in changed:
            continue
        if normalise(description) in held_texts:
            continue
        out.append(Example(description, str(category), bool(urgent)))
        if len(out) >= HISTORY_LIMIT:
            break
    return out
