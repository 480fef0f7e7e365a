"""A primary case's answer reaches the reporters of the cases merged into it.

When a case is resolved its own reporter is queued the answer too when they wrote from a
messaging channel (the channels domain answers on the conversation the case came from).
When the primary is resolved (or a case is merged into an already resolved one) each
duplicate gets the answer on its own record and timeline, and one durable
`notify_reporter` job per reporter is written in the same transaction, so a rollback
leaves no notification behind and a crash after commit loses none. The job's handler
(channels/jobs.py) answers on the conversation the case came from, and otherwise
(cases/jobs.py) records a callback or a pending delivery on the timeline.
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from hotline.auth.service import Actor
from hotline.cases import timeline
from hotline.cases.models import Case, CaseStatus, Channel
from hotline.db import utcnow
from hotline.jobs.service import enqueue

NOTIFY_REPORTER = "notify_reporter"


async def duplicates_of(session: AsyncSession, primary: Case) -> list[Case]:
    return list(
        (
            await session.scalars(
                select(Case)
                .where(Case.duplicate_of_id == primary.id, Case.status == CaseStatus.DUPLICATE)
                .order_by(Case.id)
            )
        ).all()
    )


async def repoint(session: AsyncSession, *, actor: Actor, case: Case, root: Case) -> list[Case]:
    """Cases that were duplicates of `case` now repeat `root`, so `root`'s answer reaches them."""
    children = await duplicates_of(session, case)
    if not children:
        return []
    await session.execute(
        update(Case)
        .where(Case.id.in_([c.id for c in children]))
        .values(duplicate_of_id=root.id)
        .execution_options(synchronize_session="fetch")
    )
    for child in children:
        await timeline.log(
            session,
            child,
            "duplicate_repointed",
            actor,
            data={"from": case.code, "original": root.code},
        )
    return children


def _round(primary: Case) -> str:
    """One answering round of the primary: a reopened and re-answered primary is a new one."""
    at = primary.resolved_at
    if at is None:
        return "unresolved"
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat()


# Reporters who wrote rather than called: their answer may go back on the channel they
# wrote from (channels/jobs.py decides; a phone or walk-in reporter is called back instead).
# A `care` case was made by the system: there is nobody's message to answer on it.
_WRITTEN = frozenset(c for c in Channel if c not in (Channel.PHONE, Channel.WALK_IN, Channel.CARE))


async def _notify_own_reporter(session: AsyncSession, primary: Case) -> None:
    """Queue the answer for the resolved case's own reporter, once per answering round."""
    if primary.channel not in _WRITTEN:
        return
    key = f"{NOTIFY_REPORTER}:{primary.id}:own:{_round(primary)}"
    await enqueue(
        session,
        kind=NOTIFY_REPORTER,
        key=key,
        payload={
            "key": key,
            "own": True,
            "case_id": primary.id,
            "case_codes": [primary.code],
            "primary": primary.code,
            "channel": primary.channel.value,
            "contact_id": primary.contact_id,
        },
    )


async def share_answer(
    session: AsyncSession, *, actor: Actor, primary: Case, duplicates: list[Case] | None = None
) -> int:
    """Copy the primary's answer to its duplicates (all, or the given ones) and queue one
    notification per reporter other than the primary's own, once per reporter and answering
    round (a reporter with two merged cases, or merged again, is not told twice). Returns the
    jobs queued."""
    answer = (primary.answer or "").strip()
    if not answer:
        return 0
    await _notify_own_reporter(session, primary)
    if duplicates is None:
        duplicates = await duplicates_of(session, primary)
    if not duplicates:
        return 0
    now = utcnow()
    # Only cases still duplicates of this primary take its answer: one reopened meanwhile (its
    # row was locked by the reopening, so this waits and then sees it) keeps its own record.
    still = set(
        (
            await session.scalars(
                update(Case)
                .where(
                    Case.id.in_([d.id for d in duplicates]),
                    Case.status == CaseStatus.DUPLICATE,
                    Case.duplicate_of_id == primary.id,
                )
                .values(answer=answer, updated_at=now)
                .returning(Case.id)
                .execution_options(synchronize_session=False)
            )
        ).all()
    )
    duplicates = [d for d in duplicates if d.id in still]
    if not duplicates:
        return 0
    round_ = _round(primary)
    reporters: dict[str, list[Case]] = {}
    for dup in duplicates:
        set_committed_value(dup, "answer", answer)
        set_committed_value(dup, "updated_at", now)
        await timeline.log(
            session, dup, "answer_shared", actor, data={"primary": primary.code, "answer": answer}
        )
        if dup.contact_id is not None and dup.contact_id == primary.contact_id:
            continue  # the primary's own reporter hears the answer on the primary
        who = f"contact:{dup.contact_id}" if dup.contact_id is not None else f"case:{dup.id}"
        reporters.setdefault(who, []).append(dup)
    await session.flush()
    queued = 0
    for who, cases in reporters.items():
        first = cases[0]
        key = f"{NOTIFY_REPORTER}:{primary.id}:{who}:{round_}"
        queued += await enqueue(
            session,
            kind=NOTIFY_REPORTER,
            key=key,
            payload={
                "key": key,
                "case_id": first.id,
                "case_codes": [c.code for c in cases],
                "primary": primary.code,
                "channel": first.channel.value,
                "contact_id": first.contact_id,
            },
        )
    await timeline.log(
        session,
        primary,
        "answer_shared",
        actor,
        data={"duplicates": [d.code for d in duplicates], "notifications": queued},
    )
    return queued
