"""Idempotency keys of case intake: a retried request makes no second case.

A client that lost the answer to `POST /api/v1/cases` sends the request again with the same
`Idempotency-Key` header and gets the case the first one made. Keys belong to the user who
sent them. The key row is claimed (inserted) before the case is written, in the same
transaction, so a request that fails leaves no key behind, and of two concurrent requests
with one key the second waits on the primary key until the first commits, then finds its
row and answers with its case. Keys are kept at least `KEPT_FOR`, then swept by the worker.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.cases.models import Case, IntakeKey
from hotline.db import dialect_name, insert_for, utcnow
from hotline.errors import Conflict, InvalidInput
from hotline.messages import msg

HEADER = "Idempotency-Key"
KEPT_FOR = timedelta(hours=24)
_VALID = re.compile(r"[\x21-\x7e]{1,200}")  # visible ASCII, as UUIDs and the like are


def check_key(raw: str) -> str:
    """The key as sent, or InvalidInput naming the header."""
    if not _VALID.fullmatch(raw):
        raise InvalidInput(
            msg(
                "{header} phải gồm 1–200 ký tự ASCII nhìn thấy được (ví dụ một UUID)", header=HEADER
            ),
            field=HEADER,
        )
    return raw


def fingerprint(canonical_request: str) -> str:
    return hashlib.sha256(canonical_request.encode()).hexdigest()


async def claim(session: AsyncSession, *, actor: Actor, key: str, fingerprint: str) -> Case | None:
    """Claim `key` for a new case (None: go on and make it, then `attach`), or return the
    case an earlier request with this key made. The same key with another request body is
    refused, naming the header."""
    stmt = (
        insert_for(dialect_name(session))(IntakeKey)
        .values(user_id=actor.user_id, key=key, fingerprint=fingerprint, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(IntakeKey.user_id)
    )
    if (await session.execute(stmt)).first() is not None:
        return None
    row = (
        await session.execute(
            select(IntakeKey.fingerprint, IntakeKey.case_id).where(
                IntakeKey.user_id == actor.user_id, IntakeKey.key == key
            )
        )
    ).first()
    if row is None or row.case_id is None:
        # Swept or its case removed between the two statements: rare enough to ask for a retry.
        raise Conflict(
            msg("{header} đang được xử lý, vui lòng thử lại", header=HEADER), field=HEADER
        )
    if row.fingerprint != fingerprint:
        raise InvalidInput(
            msg("{header} này đã được dùng cho một yêu cầu khác; hãy dùng khóa mới", header=HEADER),
            field=HEADER,
        )
    case = await session.get(Case, row.case_id)
    if case is None:
        raise Conflict(
            msg("{header} đang được xử lý, vui lòng thử lại", header=HEADER), field=HEADER
        )
    return case


async def attach(session: AsyncSession, *, actor: Actor, key: str, case: Case) -> None:
    """Record the case a claimed key made (same transaction as the case)."""
    await session.execute(
        update(IntakeKey)
        .where(IntakeKey.user_id == actor.user_id, IntakeKey.key == key)
        .values(case_id=case.id)
    )


async def sweep_expired(session: AsyncSession) -> int:
    """Forget keys older than KEPT_FOR (the worker's periodic sweep)."""
    result = await session.execute(
        delete(IntakeKey).where(IntakeKey.created_at < utcnow() - KEPT_FOR)
    )
    return int(getattr(result, "rowcount", 0) or 0)
