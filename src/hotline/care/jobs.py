"""Job handlers of the care domain, loaded by the worker (jobs/worker.py): a citizen's
message that triage classified `tu_van_suc_khoe` (queued by channels/inbound.py) becomes a
consult request for the consult doctors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.care.consults import request_consult
from hotline.care.models import ConsultRequest, ConsultSource, ConsultStatus
from hotline.channels.inbound import CONSULT_FROM_MESSAGE
from hotline.channels.models import Conversation, Message
from hotline.contacts.models import ContactPhone
from hotline.jobs.runs import Handler


async def consult_from_message(session: AsyncSession, payload: dict[str, Any]) -> None:
    """One consult request per conversation while one is waiting or taken: a second
    message asking again, or this job run again after a crash, adds none (the doctor reads
    the conversation). The number to call back is the contact's, when known."""
    row = (
        await session.execute(
            select(Message, Conversation)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.id == int(payload["message_id"]))
            # Two messages of one conversation read at once: one request between them.
            .with_for_update(of=Conversation)
        )
    ).first()
    if row is None:
        return
    message, conversation = row
    waiting = await session.scalar(
        select(ConsultRequest.id)
        .where(
            ConsultRequest.conversation_id == conversation.id,
            ConsultRequest.source == ConsultSource.MESSAGE,
            ConsultRequest.status.in_((ConsultStatus.OPEN, ConsultStatus.TAKEN)),
        )
        .limit(1)
    )
    if waiting is not None:
        return
    phone = await session.scalar(
        select(ContactPhone.e164)
        .where(ContactPhone.contact_id == conversation.contact_id)
        .order_by(ContactPhone.e164)
        .limit(1)
    )
    await request_consult(
        session,
        contact_id=conversation.contact_id,
        source=ConsultSource.MESSAGE.value,
        text=message.text,
        phone=phone,
        conversation_id=conversation.id,
    )


HANDLERS: dict[str, Handler] = {CONSULT_FROM_MESSAGE: consult_from_message}
