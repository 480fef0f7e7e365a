"""A message left on the line becomes a case: the caller's number, the queue's category, and
the call (whose recording is the message) linked to it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import SYSTEM
from hotline.calls.models import Call
from hotline.cases.models import Case
from hotline.cases.service import NewCase, open_case

OTHER = "khac"  # a message left outside any queue with a category


async def voicemail_case(session: AsyncSession, *, call: Call, category: str | None) -> Case:
    """Open the case for a voicemail in the call record's transaction (the line is the
    author); not urgent until an operator has listened to it."""
    where = f" ({call.branch})" if call.branch else ""
    return await open_case(
        session,
        actor=SYSTEM,
        data=NewCase(
            channel="phone",
            description=(
                f"Lời nhắn thoại để lại trên tổng đài {call.line}{where}: "
                "nghe bản ghi âm của cuộc gọi."
            ),
            category=category or OTHER,
            urgent=False,
            contact_phone=call.caller or None,
            call_id=call.id,
        ),
    )
