"""Job handlers of the knowledge base, loaded by the worker (jobs/worker.py): the automatic
answer to a citizen's message (queued by channels/inbound.py when HOTLINE_KB_AUTO_ANSWER is
on and triage found the text not urgent)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels.inbound import AUTO_ANSWER, human_replied
from hotline.channels.models import Conversation, ConversationStatus, Message
from hotline.channels.outbox import queue_message
from hotline.db import utcnow
from hotline.jobs.runs import Handler
from hotline.knowledge.suggest import HUMAN_OFFER, auto_answer_for

TEXT_LIMIT = 1900


async def auto_answer(session: AsyncSession, payload: dict[str, Any]) -> None:
    """Send the article's answer through the outbox when the knowledge base answers the
    text confidently (`auto_answer_for`), and mark the conversation answered
    automatically; it stays a conversation. Checked again here, since the conversation
    may have changed since the message came: none once it is tied to a case, closed, or an
    operator has replied. The reply's key is the message's: a rerun sends nothing twice."""
    message_id = int(payload["message_id"])
    row = (
        await session.execute(
            select(Message, Conversation)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.id == message_id)
            .with_for_update(of=Conversation)
        )
    ).first()
    if row is None:
        return
    message, conversation = row
    if (
        conversation.case_id is not None
        or conversation.status != ConversationStatus.OPEN
        or await human_replied(session, conversation.id)
    ):
        return
    found = await auto_answer_for(session, text=message.text[:5000])
    if found is None:
        return
    reply = found.reply
    if len(reply) > TEXT_LIMIT:  # the smallest provider's limit (Zalo 2,000)
        room = TEXT_LIMIT - len(HUMAN_OFFER) - 3
        reply = f"{found.article.answer[:room].rstrip()}…\n\n{HUMAN_OFFER}"
    await queue_message(
        session,
        conversation=conversation,
        text=reply,
        author_id=None,
        source="auto_answer",
        key=f"{AUTO_ANSWER}:{message_id}",
    )
    conversation.auto_answered_at = utcnow()
    conversation.auto_answer_article_id = found.article.id
    await session.flush()


HANDLERS: dict[str, Handler] = {AUTO_ANSWER: auto_answer}
