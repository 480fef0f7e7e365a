"""Job handlers of the channels domain, loaded by the worker (jobs/worker.py): replies out,
a case's answer to its reporter on the channel they wrote from, a citizen's text read
after it was stored (inbound.py), and an echo placed once the sends it may belong to have
their outcomes (echoes.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import SYSTEM
from hotline.cases import jobs as case_jobs
from hotline.cases import timeline
from hotline.cases.models import Case, CaseEvent
from hotline.cases.sharing import NOTIFY_REPORTER
from hotline.channels.echoes import ECHO_LATER, place_echo
from hotline.channels.inbound import MESSAGE_IN, message_in
from hotline.channels.models import Channel, Conversation
from hotline.channels.outbox import CHANNEL_SEND, queue_message
from hotline.channels.sender import deliver
from hotline.jobs.runs import Handler

TEXT_LIMIT = 1900  # below the smallest provider limit (Zalo 2,000), room for the heading


def answer_text(codes: list[str], answer: str) -> str:
    heading = f"Tổng đài 1022 trả lời yêu cầu {', '.join(codes)}: "
    room = TEXT_LIMIT - len(heading)
    body = answer if len(answer) <= room else answer[: room - 1].rstrip() + "…"
    return heading + body


async def _conversations_of(session: AsyncSession, case_ids: list[int]) -> list[Conversation]:
    """The conversations, on enabled channels, tied to the cases: the one a case was opened
    from and those linked to it later (other citizens reporting the same thing). One per
    citizen, their newest (a citizen who wrote again after a conversation was closed is told
    once); the newest first."""
    rows = await session.scalars(
        select(Conversation)
        .join(Channel, Channel.id == Conversation.channel_id)
        .where(Conversation.case_id.in_(case_ids), Channel.enabled.is_(True))
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    )
    citizens: dict[int, Conversation] = {}
    for conversation in rows.all():
        citizens.setdefault(conversation.contact_id, conversation)
    return list(citizens.values())


async def notify_reporter(session: AsyncSession, payload: dict[str, Any]) -> None:
    """Tell a reporter their case's answer. A case that came from a conversation on a
    connected channel is answered there, through the outbox, and so is every other citizen
    whose conversation was linked to it (the job's key and the citizen make the reply's
    idempotency key: a rerun queues nothing twice); any other is left to the cases' handler
    (a callback for phone reporters, pending delivery otherwise)."""
    case = await session.get(Case, int(payload["case_id"]))
    if case is None:
        return
    codes = [str(c) for c in payload.get("case_codes") or [case.code]]
    case_ids = list((await session.scalars(select(Case.id).where(Case.code.in_(codes)))).all()) or [
        case.id
    ]
    conversations = await _conversations_of(session, case_ids)
    if not conversations:
        if not payload.get("own"):
            await case_jobs.notify_reporter(session, payload)
        # A case's own reporter who wrote from no connected channel reads the answer on
        # the portal (its tracking code), as before.
        return
    primary = await session.scalar(select(Case).where(Case.code == payload.get("primary")))
    answer = ((primary or case).answer or case.answer or "").strip()
    if not answer:
        return
    key = str(payload.get("key") or f"{NOTIFY_REPORTER}:{case.id}")
    logged = await session.scalars(
        select(CaseEvent.data).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == "notification_queued"
        )
    )
    already = {d.get("message_id") for d in logged.all()}
    for conversation in conversations:
        message = await queue_message(
            session,
            conversation=conversation,
            text=answer_text(codes, answer),
            author_id=None,
            source="notification",
            key=f"{key[:100]}:{conversation.contact_id}",
        )
        if message.id in already:
            continue
        await timeline.log(
            session,
            case,
            "notification_queued",
            SYSTEM,
            data={
                "key": key,
                "conversation_id": conversation.id,
                "message_id": message.id,
                "primary": payload.get("primary"),
                "cases": codes,
            },
        )


HANDLERS: dict[str, Handler] = {
    CHANNEL_SEND: deliver,
    NOTIFY_REPORTER: notify_reporter,
    MESSAGE_IN: message_in,
    ECHO_LATER: place_echo,
}
