"""The web chat's visitors: a session started from the widget, their messages into the inbox,
their own thread and the live events of it. No staff member is involved: the visitor's token
(channels/webchat.py) is the authentication, and everything here is scoped to the
conversations its holder started, so a visitor reads only their own thread.

A visitor's message takes the path of any provider event (inbox.store): deduplicated on
(channel, event id), where the event id is the visitor's user id and the message id the
widget made, so a message the widget sends twice (a retry after a lost answer, a page opened
twice) is stored once.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.channels import webchat
from hotline.channels.adapter import Inbound, InboundKind
from hotline.channels.inbox import store
from hotline.channels.models import Channel, Conversation, Direction, Message, MessageStatus
from hotline.db import utcnow
from hotline.errors import InvalidInput, NotAllowed, NotFound, Unauthenticated
from hotline.events import DomainEvent, EventRow
from hotline.messages import msg

KIND = "webchat"
MESSAGE_EVENT = "conversation.message"
TEXT_MAX = 2000
THREAD_MAX = 200
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


@dataclass(frozen=True)
class ChatSession:
    token: str
    title: str | None
    welcome_text: str | None


async def chat_channel(session: AsyncSession, *, channel_id: int, origin: str | None) -> Channel:
    """An enabled web chat channel, called from one of the origins it allows (NotAllowed
    otherwise: a site that did not embed it cannot use it from its visitors' browsers)."""
    channel = await session.get(Channel, channel_id)
    if channel is None or not channel.enabled or channel.kind != KIND:
        raise NotFound(msg("Không có kênh {id}", id=channel_id), field="channel_id")
    if not webchat.origin_allowed(channel.settings, origin):
        raise NotAllowed(msg("Trang này không được nhúng khung chat của kênh"), field="Origin")
    return channel


def start_session(
    channel: Channel, *, identifier: str | None = None, identity_hmac: str | None = None
) -> ChatSession:
    """A new visitor token: anonymous, or for a citizen the embedding site vouches for with
    HMAC-SHA256(secret, identifier) (NotAllowed when the proof is wrong). Writes nothing: a
    visitor becomes a contact with their first message."""
    settings = channel.settings
    if identifier is not None or identity_hmac is not None:
        identifier = webchat.check_identifier(identifier or "")
        if not webchat.identity_proven(settings, identifier, identity_hmac or ""):
            raise NotAllowed(msg("Xác thực danh tính không đúng"), field="identity_hmac")
        user = webchat.identified_user(channel.id, identifier)
    else:
        user = webchat.anonymous_user(secrets.token_urlsafe(18))
    return ChatSession(
        token=webchat.sign_token(settings, channel.id, user, webchat.token_now()),
        title=_text_setting(channel, "title"),
        welcome_text=_text_setting(channel, "welcome_text"),
    )


def _text_setting(channel: Channel, name: str) -> str | None:
    value = channel.settings.get(name)
    return value if isinstance(value, str) and value.strip() else None


def visitor_of(channel: Channel, token: str | None) -> webchat.Visitor:
    """The holder of a visitor token: Unauthenticated without a valid one, NotFound for a
    token of another channel's visitor (nothing of theirs is here)."""
    if not token:
        raise Unauthenticated(msg("Thiếu mã phiên chat"), field="Authorization")
    try:
        user = webchat.read_token(channel.settings, channel.id, token, webchat.token_now())
    except webchat.OtherChannel:
        raise NotFound(msg("Không có phiên chat này"), field="Authorization") from None
    except webchat.BadToken:
        raise Unauthenticated(
            msg("Phiên chat không hợp lệ hoặc đã hết hạn"), field="Authorization"
        ) from None
    return webchat.Visitor(channel.id, user, webchat.phone_of(user))


def _event_id(visitor: webchat.Visitor, client_id: str) -> str:
    return f"{visitor.user_id}#{client_id}"


async def post_message(
    session: AsyncSession,
    *,
    channel: Channel,
    visitor: webchat.Visitor,
    client_id: str,
    text: str,
) -> tuple[Message, bool]:
    """Store a visitor's message in their conversation (the inbox's path: contact, identity,
    conversation, live event); True when it is new, False for a repeat of its client id."""
    if not _CLIENT_ID.fullmatch(client_id or ""):
        raise InvalidInput(msg("Mã tin nhắn gồm 8 đến 64 chữ, số, '-' hoặc '_'"), field="client_id")
    text = (text or "").strip()
    if not text or len(text) > TEXT_MAX:
        raise InvalidInput(msg("Tin nhắn từ 1 đến {n} ký tự", n=TEXT_MAX), field="text")
    event_id = _event_id(visitor, client_id)
    stored = await store(
        session,
        channel=channel,
        event=Inbound(
            kind=InboundKind.MESSAGE,
            event_id=event_id,
            user_id=visitor.user_id,
            text=text,
            sent_at=utcnow(),
            phones=(visitor.phone,) if visitor.phone else (),
        ),
    )
    message = await session.scalar(
        select(Message).where(Message.channel_id == channel.id, Message.event_id == event_id)
    )
    assert message is not None
    return message, stored > 0


async def conversation_ids(session: AsyncSession, visitor: webchat.Visitor) -> set[int]:
    """Every conversation of this visitor on their channel (a closed one stays theirs)."""
    rows = await session.scalars(
        select(Conversation.id).where(
            Conversation.channel_id == visitor.channel_id,
            Conversation.external_user_id == visitor.user_id,
        )
    )
    return set(rows.all())


async def owns(session: AsyncSession, visitor: webchat.Visitor, conversation_id: int) -> bool:
    found = await session.scalar(
        select(Conversation.id).where(
            Conversation.id == conversation_id,
            Conversation.channel_id == visitor.channel_id,
            Conversation.external_user_id == visitor.user_id,
        )
    )
    return found is not None


def _shown(conversations: set[int]) -> tuple[ColumnElement[bool], ...]:
    """What a visitor sees: their own texts, and replies once sent (a reply queued, being
    sent or failed has not reached them)."""
    return (
        Message.conversation_id.in_(conversations),
        (
            (Message.direction == Direction.IN) & (Message.kind == "text")
            | (Message.direction == Direction.OUT) & (Message.status == MessageStatus.SENT)
        ),
    )


async def thread(session: AsyncSession, visitor: webchat.Visitor) -> list[Message]:
    """The visitor's thread, its last THREAD_MAX messages in the order they were written."""
    mine = await conversation_ids(session, visitor)
    if not mine:
        return []
    rows = await session.scalars(
        select(Message)
        .where(*_shown(mine))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(THREAD_MAX)
    )
    return list(reversed(rows.all()))


async def shown_message(
    session: AsyncSession, conversations: set[int], message_id: int
) -> Message | None:
    """A message of the visitor's thread, if they may see it now."""
    if not conversations:
        return None
    return await session.scalar(
        select(Message).where(Message.id == message_id, *_shown(conversations))
    )


async def missed_events(
    session: AsyncSession, *, after: int, upto: int, limit: int
) -> list[DomainEvent] | None:
    """Conversation messages' events with after < id <= upto, oldest first, for a stream
    resuming from `after`; None when more were missed than `limit` or the log no longer
    holds them (the widget then reloads its thread)."""
    oldest = await session.scalar(select(EventRow.id).order_by(EventRow.id).limit(1))
    if oldest is not None and after + 1 < oldest:
        return None
    rows = (
        await session.scalars(
            select(EventRow)
            .where(EventRow.id > after, EventRow.id <= upto, EventRow.kind == MESSAGE_EVENT)
            .order_by(EventRow.id)
            .limit(limit + 1)
        )
    ).all()
    if len(rows) > limit:
        return None
    return [DomainEvent.of_row(row) for row in rows]


def client_id_of(message: Message) -> str | None:
    if message.direction != Direction.IN or not message.event_id:
        return None
    return message.event_id.rpartition("#")[2] or None


def as_seen(message: Message) -> dict[str, object]:
    """A message as the visitor sees it: no operator's name, no status, no provider ids."""
    return {
        "id": message.id,
        "client_id": client_id_of(message),
        "from": "visitor" if message.direction == Direction.IN else "hotline",
        "text": message.text,
        "at": message.created_at.isoformat(),
    }
