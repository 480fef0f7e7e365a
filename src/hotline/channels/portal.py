"""The citizen portal as a channel: a report sent on the portal is a conversation in the one
inbox, tied to its case; an operator's reply from the inbox is shown on the report's
tracking page, and the citizen answers there.

The citizen on this channel is the holder of the report's code and tracking secret (the
portal checks both before calling here): their conversation's user id is `portal:<code>`.
Every site has one portal channel, created the first time a report needs it; disabled by an
administrator, reports no longer open conversations and the tracking page takes no answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.cases.models import Case
from hotline.channels.adapter import HttpClient, Inbound, InboundKind, Outgoing, Sent
from hotline.channels.inbox import store
from hotline.channels.models import (
    Channel,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
)
from hotline.contacts.models import Channel as ContactChannel
from hotline.contacts.models import ContactIdentity
from hotline.db import dialect_name, insert_for, utcnow
from hotline.errors import InvalidInput, NotFound
from hotline.messages import msg

KIND = "portal"
DEFAULT_NAME = "Cổng phản ánh trực tuyến"
TEXT_MAX = 2000


class PortalAdapter:
    kind: ClassVar[str] = KIND
    required: ClassVar[frozenset[str]] = frozenset()
    secrets: ClassVar[frozenset[str]] = frozenset()
    # Sending is making the reply readable on the tracking page: doing it twice is once.
    idempotent_send: ClassVar[bool] = True
    reply_window: ClassVar[None] = None

    def verify(self, settings: Mapping[str, Any], headers: Mapping[str, str], body: bytes) -> bool:
        # No provider calls /hooks/ for the portal: its pages call this module.
        return False

    def read(self, settings: Mapping[str, Any], body: bytes) -> Sequence[Inbound]:
        return ()

    async def send(self, settings: Mapping[str, Any], message: Outgoing, http: HttpClient) -> Sent:
        """Nothing to call: a reply marked `sent` is what the tracking page shows."""
        return Sent(provider_id=f"portal:{message.idempotency_key}")


ADAPTER = PortalAdapter()


def user_of(code: str) -> str:
    return f"portal:{code}"


async def portal_channel(session: AsyncSession) -> Channel | None:
    """The site's portal channel (the oldest, when an administrator added another),
    created on first use; None when it is disabled."""
    channel = await session.scalar(
        select(Channel).where(Channel.kind == KIND).order_by(Channel.id).limit(1)
    )
    if channel is None:
        now = utcnow()
        channel = Channel(
            kind=KIND, name=DEFAULT_NAME, settings={}, enabled=True, created_at=now, updated_at=now
        )
        session.add(channel)
        await session.flush()
    return channel if channel.enabled else None


async def _tie(session: AsyncSession, channel: Channel, case: Case) -> Conversation | None:
    """The citizen's open conversation on the portal, tied to their case."""
    conversation = await session.scalar(
        select(Conversation).where(
            Conversation.channel_id == channel.id,
            Conversation.external_user_id == user_of(case.code),
            Conversation.status == ConversationStatus.OPEN,
        )
    )
    if conversation is not None and conversation.case_id is None:
        conversation.case_id = case.id
        await session.flush()
    return conversation


async def open_report_conversation(
    session: AsyncSession, *, case: Case, name: str = ""
) -> Conversation | None:
    """A report just sent on the portal: its text is the first message of a conversation
    tied to the case, for the case's contact (None when the portal channel is disabled).
    Triage has read the report already, as a case: the message is not read again."""
    channel = await portal_channel(session)
    if channel is None:
        return None
    user = user_of(case.code)
    if case.contact_id is not None:
        await session.execute(
            insert_for(dialect_name(session))(ContactIdentity)
            .values(
                contact_id=case.contact_id,
                channel=ContactChannel.WEB.value,
                external_id=user,
                display_name=name[:200],
            )
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        )
    event = Inbound(
        kind=InboundKind.MESSAGE,
        event_id=f"{user}:report",
        user_id=user,
        user_name=name or None,
        text=case.description,
        sent_at=case.created_at,
    )
    await store(session, channel=channel, event=event, read=False)
    return await _tie(session, channel, case)


async def citizen_answer(session: AsyncSession, *, case: Case, text: str, key: str) -> bool:
    """The report's sender answers on the tracking page (the portal checked their code
    and secret): a message in their conversation, which joins the inbox again. `key` is
    the form's own id: the same form sent twice is one message. False for a repeat."""
    text = text.replace("\x00", "").strip()
    if not text or len(text) > TEXT_MAX:
        raise InvalidInput(msg("Nội dung cần từ 1 đến {n} ký tự", n=TEXT_MAX), field="text")
    if not key or len(key) > 64 or not key.replace("-", "").isalnum():
        raise InvalidInput(msg("Biểu mẫu không hợp lệ, vui lòng tải lại trang"), field="key")
    channel = await portal_channel(session)
    if channel is None:
        raise NotFound(msg("Cổng phản ánh không nhận tin trả lời lúc này"), field="text")
    user = user_of(case.code)
    stored = await store(
        session,
        channel=channel,
        event=Inbound(kind=InboundKind.MESSAGE, event_id=f"{user}:{key}", user_id=user, text=text),
        read=False,
    )
    await _tie(session, channel, case)
    return stored > 0


@dataclass(frozen=True)
class ThreadLine:
    from_citizen: bool
    text: str  # empty for the citizen's own messages
    at: datetime


async def report_thread(session: AsyncSession, *, case: Case) -> list[ThreadLine]:
    """The report's exchange on the portal, oldest first: the replies delivered to the
    citizen (not those still queued or failed) and when they wrote. The tracking page
    shows no one's personal data, so the citizen's own texts (the report's among them)
    are not repeated there: a code and secret passed on show the hotline's side only."""
    rows = await session.execute(
        select(Message.direction, Message.text, Message.created_at, Message.sent_at)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(Channel, Channel.id == Conversation.channel_id)
        .where(
            Channel.kind == KIND,
            Conversation.external_user_id == user_of(case.code),
            (Message.direction == Direction.IN) | (Message.status == MessageStatus.SENT),
            Message.kind == "text",
            Message.event_id.is_distinct_from(f"{user_of(case.code)}:report"),
        )
        .order_by(Message.created_at, Message.id)
    )
    return [
        ThreadLine(
            direction == Direction.IN,
            "" if direction == Direction.IN else text,
            sent_at or created_at,
        )
        for direction, text, created_at, sent_at in rows.all()
    ]
