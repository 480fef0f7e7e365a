"""What happens to a citizen's message after it is stored: triage reads it, and the domains
above this one act on it through durable jobs.

The webhook stores the message and queues `MESSAGE_IN` in the same transaction (or the same
statement, inbox_pg.py), so the provider is answered without waiting for triage and a
message is never read twice: the job's key is the message's id. The job classifies the text
and queues, with keys of their own, the work of domains that sit above channels in the
layers (pyproject's import contracts), which register the handlers:

- `CONSULT_FROM_MESSAGE` (care/jobs.py): a text classified `tu_van_suc_khoe` becomes a
  consult request for the consult doctors;
- `AUTO_ANSWER` (knowledge/jobs.py): with HOTLINE_KB_AUTO_ANSWER on, a text that is not
  urgent, in a conversation tied to no case, may be answered from the knowledge base.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels.models import Audience, Conversation, Direction, Message
from hotline.jobs.service import enqueue
from hotline.site import site_of
from hotline.triage.intake import guess_for

MESSAGE_IN = "channel_message_in"
CONSULT_FROM_MESSAGE = "care_consult_from_message"
AUTO_ANSWER = "knowledge_auto_answer"
CONSULT_CATEGORY = "tu_van_suc_khoe"


def message_in_key(message_id: int) -> str:
    return f"{MESSAGE_IN}:{message_id}"


async def queue_message_in(session: AsyncSession, *, message_id: int) -> None:
    """Queue the reading of a citizen's stored text (in the transaction that stored it)."""
    await enqueue(
        session,
        kind=MESSAGE_IN,
        key=message_in_key(message_id),
        payload={"message_id": message_id},
    )


async def human_replied(session: AsyncSession, conversation_id: int) -> bool:
    """An operator has written in this conversation: a person handles it now."""
    found = await session.scalar(
        select(Message.id)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.OUT,
            Message.author_id.is_not(None),
        )
        .limit(1)
    )
    return found is not None


async def message_in(session: AsyncSession, payload: dict[str, Any]) -> None:
    """The `MESSAGE_IN` job: triage's category and urgency for the text, then a consult
    request for a health consult, else (switch on, not urgent, no case, no operator yet)
    an auto-answer attempt. A consult request is never auto-answered: a doctor answers.
    A staff conversation's messages (notify.py) are neither."""
    message_id = int(payload["message_id"])
    row = (
        await session.execute(
            select(Message, Conversation)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.id == message_id)
        )
    ).first()
    if row is None:
        return
    message, conversation = row
    text = message.text.strip()
    if message.direction != Direction.IN or message.automatic or not text:
        return
    if conversation.audience == Audience.STAFF:
        return  # a volunteer answering a staff text: no consult request, no auto-answer
    guess = await guess_for(session, text, category=True, urgent=True)
    if guess.category == CONSULT_CATEGORY:
        await enqueue(
            session,
            kind=CONSULT_FROM_MESSAGE,
            key=f"{CONSULT_FROM_MESSAGE}:{message_id}",
            payload={"message_id": message_id},
        )
        return
    if (
        not site_of(session).kb_auto_answer
        or guess.urgent
        or conversation.case_id is not None
        or await human_replied(session, conversation.id)
    ):
        return
    await enqueue(
        session,
        kind=AUTO_ANSWER,
        key=f"{AUTO_ANSWER}:{message_id}",
        payload={"message_id": message_id},
    )
