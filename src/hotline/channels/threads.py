"""What the console and the case page show of conversations: each row of the inbox with
the citizen's name and the last message, one thread with its reply window. Reads go through
conversations.py, which checks who may see them and logs each read of a citizen's data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor
from hotline.cases.models import Case
from hotline.channels.conversations import list_conversations, read_conversation
from hotline.channels.conversations import reply_window_ends_at as window_of
from hotline.channels.models import (
    Channel,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
)
from hotline.channels.registry import CASE_CHANNEL
from hotline.contacts.models import Contact, ContactIdentity
from hotline.db import utcnow
from hotline.errors import InvalidInput
from hotline.messages import msg

EXCERPT = 120


@dataclass(frozen=True)
class Row:
    conversation: Conversation
    channel: Channel
    name: str
    last: Message | None
    case_code: str | None
    failed: int  # replies that could not be sent

    @property
    def awaiting(self) -> bool:
        """The citizen wrote last: they wait for an answer."""
        return self.last is not None and self.last.direction == Direction.IN

    @property
    def excerpt(self) -> str:
        text = (self.last.text if self.last else "").strip()
        return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


@dataclass(frozen=True)
class Thread:
    conversation: Conversation
    channel: Channel
    name: str
    messages: list[Message]
    case_code: str | None
    case_category: str | None
    window_ends_at: datetime | None

    @property
    def window_open(self) -> bool:
        return self.window_ends_at is None or self.window_ends_at > utcnow()

    @property
    def last_inbound_text(self) -> str:
        for m in reversed(self.messages):
            if m.direction == Direction.IN and m.text.strip():
                return m.text.strip()
        return ""


async def inbox_channels(session: AsyncSession, *, actor: Actor) -> list[Channel]:
    """The channels the inbox can be filtered by (names only reach the page)."""
    if not allows(actor, Permission.READ_CONTACTS):
        return []
    return list((await session.scalars(select(Channel).order_by(Channel.name))).all())


async def _names(session: AsyncSession, pairs: list[tuple[Conversation, Channel]]) -> list[str]:
    contact_ids = {c.contact_id for c, _ in pairs}
    names = dict(
        (
            await session.execute(
                select(Contact.id, Contact.name).where(Contact.id.in_(contact_ids))
            )
        ).all()
    )
    shown = {}
    if pairs:
        rows = await session.execute(
            select(
                ContactIdentity.channel, ContactIdentity.external_id, ContactIdentity.display_name
            ).where(ContactIdentity.external_id.in_({c.external_user_id for c, _ in pairs}))
        )
        shown = {(ch, ext): name for ch, ext, name in rows.all() if name}
    out = []
    for c, ch in pairs:
        kind = CASE_CHANNEL[ch.kind].value if ch.kind in CASE_CHANNEL else ch.kind
        out.append(shown.get((kind, c.external_user_id)) or names.get(c.contact_id) or "")
    return out


async def _codes(session: AsyncSession, case_ids: set[int]) -> dict[int, tuple[str, str | None]]:
    if not case_ids:
        return {}
    rows = await session.execute(
        select(Case.id, Case.code, Case.category_code).where(Case.id.in_(case_ids))
    )
    return {i: (code, category) for i, code, category in rows.all()}


async def inbox_rows(
    session: AsyncSession,
    *,
    actor: Actor,
    channel_id: int | None = None,
    status: str | None = "open",
    case_code: str | None = None,
    audience: str | None = "citizen",
    limit: int = 50,
) -> list[Row]:
    """The inbox, newest activity first, each with its last message (a bounded number of
    queries whatever the number of rows)."""
    if status not in (None, "", "open", "closed"):
        raise InvalidInput(msg("Trạng thái không hợp lệ: {s}", s=status), field="status")
    page = await list_conversations(
        session,
        actor=actor,
        channel_id=channel_id,
        status=status or None,
        case_code=case_code,
        audience=audience or None,
        limit=limit,
    )
    pairs = page.items
    ids = [c.id for c, _ in pairs]
    last: dict[int, Message] = {}
    failed: dict[int, int] = {}
    if ids:
        newest = (
            select(Message.id)
            .where(Message.conversation_id == Conversation.id)
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(1)
            .correlate(Conversation)
            .scalar_subquery()
        )
        rows = await session.execute(
            select(Message).join(Conversation, Message.id == newest).where(Conversation.id.in_(ids))
        )
        last = {m.conversation_id: m for m in rows.scalars().all()}
        counted = await session.execute(
            select(Message.conversation_id, func.count())
            .where(Message.conversation_id.in_(ids), Message.status == MessageStatus.FAILED)
            .group_by(Message.conversation_id)
        )
        failed = dict(counted.all())
    codes = await _codes(session, {c.case_id for c, _ in pairs if c.case_id})
    names = await _names(session, pairs)
    return [
        Row(
            conversation=c,
            channel=ch,
            name=name,
            last=last.get(c.id),
            case_code=codes[c.case_id][0] if c.case_id in codes else None,
            failed=failed.get(c.id, 0),
        )
        for (c, ch), name in zip(pairs, names, strict=True)
    ]


async def thread(session: AsyncSession, *, actor: Actor, conversation_id: int) -> Thread:
    """One conversation as its thread shows it (NotFound to whoever may not see it)."""
    conversation, channel, messages = await read_conversation(
        session, actor=actor, conversation_id=conversation_id
    )
    codes = await _codes(session, {conversation.case_id} if conversation.case_id else set())
    code, category = codes.get(conversation.case_id or 0, (None, None))
    (name,) = await _names(session, [(conversation, channel)])
    return Thread(
        conversation=conversation,
        channel=channel,
        name=name,
        messages=messages,
        case_code=code,
        case_category=category,
        window_ends_at=window_of(conversation, channel)
        if conversation.status == ConversationStatus.OPEN
        else None,
    )
