"""Staff and conversations: the inbox list, one conversation with its messages, a reply,
a case opened from it or linked to it. Reading one is reading a citizen's personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows, require
from hotline.auth.service import Actor
from hotline.cases.access import get_case_for
from hotline.cases.models import Case
from hotline.cases.service import NewCase, open_case
from hotline.channels.acknowledge import acknowledge
from hotline.channels.files import message_file, queue_files_to_case
from hotline.channels.models import (
    Audience,
    Channel,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
)
from hotline.channels.outbox import queue_message
from hotline.channels.registry import CASE_CHANNEL, adapter_for
from hotline.channels.sms import Segments, segments
from hotline.contacts.service import ReadSubject, log_personal_read, log_personal_reads
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.events import DomainEvent, record_event
from hotline.messages import msg

MAX_REPLY = 2000
MAX_LIMIT = 200


@dataclass(frozen=True)
class ConversationPage:
    items: list[tuple[Conversation, Channel]]
    next_cursor: str | None


def reply_window_ends_at(conversation: Conversation, channel: Channel) -> datetime | None:
    """Until when the provider accepts a reply (Zalo: 7 days after the citizen's last
    message), or None when it sets no window."""
    window = adapter_for(channel.kind).reply_window
    if window is None or conversation.last_inbound_at is None:
        return None
    return conversation.last_inbound_at + window


def _cursor(conversation: Conversation) -> str:
    return f"{conversation.last_message_at.isoformat()}_{conversation.id}"


async def list_conversations(
    session: AsyncSession,
    *,
    actor: Actor,
    channel_id: int | None = None,
    status: str | None = None,
    contact_id: int | None = None,
    case_code: str | None = None,
    audience: str | None = Audience.CITIZEN,
    cursor: str | None = None,
    limit: int = 50,
) -> ConversationPage:
    """The inbox, latest activity first; hotline staff; each citizen listed is a read.
    `audience`: citizens' conversations by default, "staff" for the texts the hotline sent
    its own people (channels/notify.py), None for both (a case's conversations)."""
    require(actor, Permission.READ_CONTACTS)
    stmt = select(Conversation, Channel).join(Channel, Channel.id == Conversation.channel_id)
    if audience is not None:
        try:
            stmt = stmt.where(Conversation.audience == Audience(audience))
        except ValueError:
            raise InvalidInput(
                msg("Đối tượng không hợp lệ: {a}", a=audience), field="audience"
            ) from None
    if channel_id is not None:
        stmt = stmt.where(Conversation.channel_id == channel_id)
    if status is not None:
        try:
            stmt = stmt.where(Conversation.status == ConversationStatus(status))
        except ValueError:
            raise InvalidInput(
                msg("Trạng thái không hợp lệ: {s}", s=status), field="status"
            ) from None
    if contact_id is not None:
        stmt = stmt.where(Conversation.contact_id == contact_id)
    if case_code is not None:
        case = await get_case_for(session, actor, case_code)
        stmt = stmt.where(Conversation.case_id == case.id)
    if cursor:
        try:
            at_raw, _, id_raw = cursor.rpartition("_")
            at, last_id = datetime.fromisoformat(at_raw), int(id_raw)
        except ValueError:
            raise InvalidInput(msg("Con trỏ trang không hợp lệ"), field="cursor") from None
        stmt = stmt.where(
            or_(
                Conversation.last_message_at < at,
                and_(Conversation.last_message_at == at, Conversation.id < last_id),
            )
        )
    limit = max(1, min(limit, MAX_LIMIT))
    rows = (
        await session.execute(
            stmt.order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(
                limit + 1
            )
        )
    ).all()
    items = [(r[0], r[1]) for r in rows[:limit]]
    await log_personal_reads(
        session,
        user_id=actor.user_id,
        purpose="conversation_list",
        subjects=[ReadSubject(contact_id=c.contact_id) for c, _ in items],
    )
    more = len(rows) > limit
    return ConversationPage(items, _cursor(items[-1][0]) if more and items else None)


def changed(session: AsyncSession, conversation: Conversation, what: str) -> None:
    """`conversation.updated` in the log: a case opened or linked, the conversation closed
    (hotline staff's consoles refresh their list; units never see it: no unit ids)."""
    record_event(
        session,
        DomainEvent(
            kind="conversation.updated",
            data={
                "conversation_id": conversation.id,
                "channel_id": conversation.channel_id,
                "what": what,
            },
        ),
    )


def _missing(conversation_id: int) -> NotFound:
    return NotFound(
        msg("Không có cuộc hội thoại {id}", id=conversation_id), field="conversation_id"
    )


async def _get(session: AsyncSession, conversation_id: int) -> tuple[Conversation, Channel]:
    row = (
        await session.execute(
            select(Conversation, Channel)
            .join(Channel, Channel.id == Conversation.channel_id)
            .where(Conversation.id == conversation_id)
        )
    ).first()
    if row is None:
        raise _missing(conversation_id)
    return row[0], row[1]


async def _get_for(
    session: AsyncSession, actor: Actor, conversation_id: int, permission: Permission
) -> tuple[Conversation, Channel]:
    """A conversation to act on: NotFound for whoever may not see citizens' conversations,
    then the action's own permission."""
    if not allows(actor, Permission.READ_CONTACTS):
        raise _missing(conversation_id)
    require(actor, permission)
    return await _get(session, conversation_id)


async def messages_of(session: AsyncSession, conversation_id: int) -> list[Message]:
    """In the order they were written (the provider's time; arrival breaks ties)."""
    return list(
        (
            await session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.created_at, Message.id)
            )
        ).all()
    )


async def read_conversation(
    session: AsyncSession, *, actor: Actor, conversation_id: int
) -> tuple[Conversation, Channel, list[Message]]:
    """One conversation and its messages, for hotline staff (to anyone else it does not
    exist: NotFound); the read is logged."""
    if not allows(actor, Permission.READ_CONTACTS):
        raise _missing(conversation_id)
    conversation, channel = await _get(session, conversation_id)
    await log_personal_read(
        session,
        actor=actor,
        purpose="conversation",
        contact_id=conversation.contact_id,
        case_id=conversation.case_id,
    )
    return conversation, channel, await messages_of(session, conversation.id)


async def read_file(
    session: AsyncSession, *, actor: Actor, conversation_id: int, message_id: int, index: int
) -> dict[str, Any]:
    """A file a citizen sent in a conversation (its kept description), for hotline staff;
    a photo or a letter is personal data: the read is logged."""
    if not allows(actor, Permission.READ_CONTACTS):
        raise _missing(conversation_id)
    conversation, _channel = await _get(session, conversation_id)
    found = await message_file(
        session, conversation_id=conversation.id, message_id=message_id, index=index
    )
    await log_personal_read(
        session,
        actor=actor,
        purpose="conversation_file",
        contact_id=conversation.contact_id,
        case_id=conversation.case_id,
    )
    return found


async def reply(
    session: AsyncSession,
    *,
    actor: Actor,
    conversation_id: int,
    text: str,
    key: str | None = None,
) -> Message:
    """Queue a reply through the outbox (sent by the worker); a repeated key is the same
    reply. Hotline staff only."""
    conversation, channel = await _get_for(
        session, actor, conversation_id, Permission.REPLY_TO_CITIZENS
    )
    text = (text or "").strip()
    if not text or len(text) > MAX_REPLY:
        raise InvalidInput(msg("Nội dung trả lời từ 1 đến {n} ký tự", n=MAX_REPLY), field="text")
    if not channel.enabled:
        raise Conflict(msg("Kênh này đã bị tắt"), field="channel")
    return await queue_message(
        session,
        conversation=conversation,
        text=text,
        author_id=actor.user_id,
        source="staff",
        key=f"reply:{key}" if key else None,
    )


async def reply_segments(
    session: AsyncSession, *, actor: Actor, conversation_id: int, text: str
) -> Segments | None:
    """How a reply being typed would go out by SMS (its encoding, parts and the text the
    gateway gets), or None when the conversation is not on an SMS channel. Writes
    nothing; hotline staff only."""
    _conversation, channel = await _get_for(
        session, actor, conversation_id, Permission.REPLY_TO_CITIZENS
    )
    if channel.kind != "sms":
        return None
    return segments(text[:MAX_REPLY], bool(channel.settings.get("gsm7_only")))


def _description(messages: list[Message]) -> str:
    lines = [
        m.text.strip()
        for m in messages
        if m.direction == Direction.IN and m.source != "automatic" and m.text.strip()
    ]
    return "\n".join(lines)[:20_000]


async def open_case_from(
    session: AsyncSession,
    *,
    actor: Actor,
    conversation_id: int,
    description: str | None = None,
    category: str | None = None,
    urgent: bool | None = None,
    ward_code: str | None = None,
    address: str = "",
    wait_minutes: int | None = None,
) -> Case:
    """Open a case from a conversation (cases' intake: triage, counters, timeline): the
    citizen's messages as its description, their last shared location as its place. The
    acknowledgement states `wait_minutes` when given (surge mode, acknowledge.py)."""
    conversation, channel = await _get_for(session, actor, conversation_id, Permission.HANDLE_CASES)
    if conversation.case_id is not None:
        raise Conflict(msg("Cuộc hội thoại đã gắn với một yêu cầu"), field="case")
    messages = await messages_of(session, conversation.id)
    text = (description or "").strip() or _description(messages)
    if not text:
        raise InvalidInput(msg("Chưa có nội dung để mở yêu cầu"), field="description")
    located = [m for m in messages if m.lat is not None and m.long is not None]
    case = await open_case(
        session,
        actor=actor,
        data=NewCase(
            channel=CASE_CHANNEL[channel.kind].value,
            description=text,
            category=category,
            urgent=urgent,
            contact_id=conversation.contact_id,
            ward_code=ward_code,
            address=address,
            lat=located[-1].lat if located else None,
            long=located[-1].long if located else None,
        ),
    )
    conversation.case_id = case.id
    changed(session, conversation, "case_opened")
    await queue_files_to_case(session, conversation_id=conversation.id, case_id=case.id)
    await acknowledge(
        session,
        conversation=conversation,
        channel=channel,
        case_code=case.code,
        wait_minutes=wait_minutes,
    )
    await session.flush()
    return case


async def link_case(
    session: AsyncSession, *, actor: Actor, conversation_id: int, case_code: str
) -> tuple[Conversation, Channel, Case]:
    """Join a conversation to an existing case (its answer then reaches this citizen)."""
    conversation, channel = await _get_for(session, actor, conversation_id, Permission.HANDLE_CASES)
    case = await get_case_for(session, actor, case_code, write=True)
    conversation.case_id = case.id
    changed(session, conversation, "case_linked")
    await queue_files_to_case(session, conversation_id=conversation.id, case_id=case.id)
    await session.flush()
    return conversation, channel, case


async def close_conversation(
    session: AsyncSession, *, actor: Actor, conversation_id: int
) -> tuple[Conversation, Channel]:
    """Close it: the citizen's next message starts a new conversation."""
    conversation, channel = await _get_for(
        session, actor, conversation_id, Permission.REPLY_TO_CITIZENS
    )
    conversation.status = ConversationStatus.CLOSED
    changed(session, conversation, "closed")
    await session.flush()
    return conversation, channel
