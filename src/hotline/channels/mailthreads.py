"""Which conversation an incoming e-mail continues (email/threads.py says where to look; this
looks): a message of ours or of theirs it answers, else a case whose tracking code its
subject names. Only e-mail gives an event thread references or a subject. And the other
way: the subject and references an e-mail reply goes out with (`reply_thread`)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.cases.models import Case
from hotline.channels.adapter import Inbound
from hotline.channels.email.sending import DEFAULT_SUBJECT
from hotline.channels.email.threads import case_codes, thread_keys
from hotline.channels.models import (
    Channel,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
)


def threaded(event: Inbound) -> bool:
    return bool(event.thread_refs or event.subject)


async def _open_or_reopened(
    session: AsyncSession, conversation: Conversation
) -> Conversation | None:
    """The conversation an answer joins: itself when open; a closed one is reopened unless
    its citizen has opened another meanwhile (then None: that open one is theirs)."""
    if conversation.status == ConversationStatus.OPEN:
        return conversation
    other = await session.scalar(
        select(Conversation.id).where(
            Conversation.channel_id == conversation.channel_id,
            Conversation.external_user_id == conversation.external_user_id,
            Conversation.status == ConversationStatus.OPEN,
        )
    )
    if other is not None:
        return None
    conversation.status = ConversationStatus.OPEN
    await session.flush()
    return conversation


async def find_thread(
    session: AsyncSession, channel: Channel, event: Inbound
) -> tuple[Conversation | None, int | None]:
    """(the conversation whose stored message the event answers, None), else (None, the id
    of the case its subject names), else (None, None). Our replies are found by the
    Message-ID the outbox kept as their `provider_id`, the citizen's by their `event_id`."""
    for key in thread_keys(event):
        if key.kind == "message_id":
            conversation_id = await session.scalar(
                select(Message.conversation_id)
                .where(
                    Message.channel_id == channel.id,
                    or_(Message.event_id == key.value, Message.provider_id == key.value),
                )
                .order_by(Message.id.desc())
                .limit(1)
            )
            if conversation_id is None:
                continue
            conversation = await session.get(Conversation, conversation_id)
            if conversation is not None:
                return await _open_or_reopened(session, conversation), None
        else:
            # The tracking code is what a citizen holds to follow their case (the portal
            # shows its answer to whoever has it), so naming it links the mail to it.
            case_id = await session.scalar(select(Case.id).where(Case.code == key.value))
            if case_id is not None:
                return None, case_id
    return None, None


async def reply_thread(
    session: AsyncSession, conversation: Conversation, message_id: int
) -> tuple[str | None, tuple[str, ...], str | None]:
    """An e-mail reply's subject (the citizen's last one, with the case's tracking code),
    References (the conversation's Message-IDs, theirs and ours, oldest first) and
    In-Reply-To (the citizen's last message)."""
    rows = (
        await session.execute(
            select(Message.direction, Message.event_id, Message.provider_id, Message.subject)
            .where(Message.conversation_id == conversation.id, Message.id != message_id)
            .order_by(Message.created_at, Message.id)
        )
    ).all()
    refs: list[str] = []
    subject = reply_to = None
    for direction, event_id, provider_id, subject_of in rows:
        found = event_id if direction == Direction.IN else provider_id
        if found and found.startswith("<") and found not in refs:
            refs.append(found)
            if direction == Direction.IN:
                reply_to = found
        if direction == Direction.IN and subject_of:
            subject = subject_of
    if conversation.case_id is not None:
        code = await session.scalar(select(Case.code).where(Case.id == conversation.case_id))
        if code and code not in case_codes(subject):
            subject = f"{subject or DEFAULT_SUBJECT} [{code}]"
    return subject, tuple(refs), reply_to
