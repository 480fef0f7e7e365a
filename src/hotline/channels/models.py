"""Channels (a connected account at a provider), conversations and their messages."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, JSONType, UTCDateTime, enum_column, utcnow
from hotline.ids import BigId


class Channel(Base):
    """One connected account: a Zalo OA, a Facebook Page, a mailbox... `settings` holds its
    ids and secrets; the adapter of its kind says which are required and which are secret."""

    __tablename__ = "channel"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # What the worker keeps between two reads of a pulled channel (a mailbox's UIDVALIDITY
    # and last UID), saved with the messages of the read that produced it.
    state: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Audience(enum.StrEnum):
    CITIZEN = "citizen"  # a citizen wrote, or was answered: the operators' inbox
    # The hotline wrote first to its own people (a reserve volunteer called in by SMS,
    # staffing/alerts.py): kept out of the citizen inbox, never triaged nor acknowledged.
    STAFF = "staff"


class Conversation(Base):
    """A citizen's exchange on one channel. One open conversation per contact and channel
    (a partial unique index), so two messages arriving together join the same one."""

    __tablename__ = "conversation"
    __table_args__ = (
        Index(
            "uq_conversation_open",
            "channel_id",
            "external_user_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_conversation_last_message_at", "last_message_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    external_user_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[ConversationStatus] = mapped_column(
        enum_column(ConversationStatus, 10), default=ConversationStatus.OPEN
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("case.id", ondelete="SET NULL"), index=True
    )
    audience: Mapped[Audience] = mapped_column(
        enum_column(Audience, 10), default=Audience.CITIZEN, server_default="citizen"
    )
    # The citizen unfollowed (unsubscribed): replies would not reach them.
    following: Mapped[bool] = mapped_column(Boolean, default=True)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Answered from the knowledge base without an operator (knowledge/jobs.py): when, and
    # with which article (no foreign key: the knowledge domain sits above this one, and
    # its articles are archived, not deleted).
    auto_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    auto_answer_article_id: Mapped[int | None] = mapped_column(Integer)


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


# The error prefix of a send whose outcome is unknown (outbox.py, echoes.py).
IN_DOUBT = "in_doubt"
# The error of a reply whose send is under way while an echo of its text waits to be placed
# (echoes.py): its answer, if not an acceptance, leaves it in doubt rather than retried.
AWAITING_ECHO = f"{IN_DOUBT}: đang đối chiếu với tin nhà cung cấp báo lại"


class MessageStatus(enum.StrEnum):
    RECEIVED = "received"  # a citizen's message
    QUEUED = "queued"  # a reply waiting for the worker (first try or a retry)
    SENDING = "sending"  # handed to the provider, no answer yet
    SENT = "sent"  # the provider accepted it (its id in provider_id)
    FAILED = "failed"  # not delivered: permanent error, retries exhausted, or in doubt


class Message(Base):
    __tablename__ = "message"
    __table_args__ = (
        # A provider's event is stored once, however often it is delivered.
        UniqueConstraint("channel_id", "event_id"),
        Index("ix_message_conversation_id_id", "conversation_id", "id"),
        # Our sends are looked up by provider id and channel (echoes, mail threads): one
        # index for both, led by the provider's id so that no plan takes it, or the channel's
        # range of another, for a lookup by channel alone (migration 0064).
        Index("ix_message_provider_id_channel_id", "provider_id", "channel_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(enum_column(Direction, 4))
    # "text", "image", "location", "file", ... (the first attachment's kind, else text)
    kind: Mapped[str] = mapped_column(String(20), default="text")
    text: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str | None] = mapped_column(Text)  # e-mail
    # The provider's id of an inbound event (or of an echo): unique per channel.
    event_id: Mapped[str | None] = mapped_column(String(300))
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    status: Mapped[MessageStatus] = mapped_column(enum_column(MessageStatus, 10))
    error: Mapped[str | None] = mapped_column(Text)
    # Outgoing: the outbox's key (a reply is never sent twice) and the provider's id of it.
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    provider_id: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who wrote an outgoing message: a user, else the system (a notification); an echo of a
    # message written in the provider's own tool has neither and `source` "provider".
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    source: Mapped[str] = mapped_column(String(20), default="citizen")
    # Sent by a machine (an auto-reply, a list, a loop): never acknowledged (RFC 3834).
    automatic: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sql_text("false")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An SMS reply: the parts the gateway sends it in (sms.py's count), known when queued.
    segments: Mapped[int | None] = mapped_column(Integer)


class SavedReply(Base):
    """A reply text operators insert in one click, for one category (None: every category).
    `{ma_ho_so}` in its text becomes the conversation's case code."""

    __tablename__ = "saved_reply"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    category_code: Mapped[str | None] = mapped_column(
        ForeignKey("category.code", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
