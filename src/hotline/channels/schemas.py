"""JSON shapes of the channels API. A channel's secrets have no field here to come out by."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from hotline.channels.admin import public_settings, secrets_set
from hotline.channels.conversations import reply_window_ends_at
from hotline.channels.models import Audience, Channel, Conversation, Message, SavedReply

# A list only of texts (a web chat's allowed origins).
Setting = str | int | float | bool | list[str]


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=20)
    name: str = Field(max_length=200)
    settings: dict[str, Setting] = Field(default_factory=dict)


class ChannelPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    # Merged into the stored settings; null removes one.
    settings: dict[str, Setting | None] | None = None
    enabled: bool | None = None


class ChannelOut(BaseModel):
    id: int
    kind: str
    name: str
    enabled: bool
    settings: dict[str, Any]  # without secrets
    secrets_set: list[str]  # the names of the secrets stored, never their values
    hook_path: str
    created_at: datetime
    updated_at: datetime
    # Set when this change registered the hook with the provider itself (Viber):
    # {"url", "registered", "error"}.
    webhook: dict[str, Any] | None = None

    @classmethod
    def of(cls, channel: Channel) -> Self:
        return cls(
            id=channel.id,
            kind=channel.kind,
            name=channel.name,
            enabled=channel.enabled,
            settings=public_settings(channel),
            secrets_set=secrets_set(channel),
            hook_path=f"/hooks/{channel.id}",
            created_at=channel.created_at,
            updated_at=channel.updated_at,
        )


class MessageOut(BaseModel):
    id: int
    direction: str
    kind: str
    text: str
    subject: str | None = None  # e-mail
    attachments: list[dict[str, Any]]
    lat: float | None
    long: float | None
    status: str
    error: str | None
    source: str
    author_id: int | None
    provider_id: str | None
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    segments: int | None = None  # an SMS reply: the parts it is sent in

    @classmethod
    def of(cls, m: Message) -> Self:
        return cls(
            id=m.id,
            direction=m.direction.value,
            kind=m.kind,
            text=m.text,
            subject=m.subject,
            attachments=list(m.attachments or []),
            lat=m.lat,
            long=m.long,
            status=m.status.value,
            error=m.error,
            source=m.source,
            author_id=m.author_id,
            provider_id=m.provider_id,
            attempts=m.attempts,
            created_at=m.created_at,
            sent_at=m.sent_at,
            segments=m.segments,
        )


class ConversationOut(BaseModel):
    id: int
    channel_id: int
    channel_kind: str
    channel_name: str
    contact_id: int
    external_user_id: str
    status: str
    # "citizen", or "staff": a text the hotline sent its own people (a reserve volunteer).
    audience: str = "citizen"
    following: bool
    case_id: int | None
    case_code: str | None = None
    last_inbound_at: datetime | None
    last_message_at: datetime
    reply_window_ends_at: datetime | None
    created_at: datetime
    # Answered from the knowledge base without an operator: when, and with which article.
    auto_answered_at: datetime | None = None
    auto_answer_article_id: int | None = None

    @classmethod
    def of(cls, c: Conversation, channel: Channel, case_code: str | None = None) -> Self:
        return cls(
            id=c.id,
            channel_id=channel.id,
            channel_kind=channel.kind,
            channel_name=channel.name,
            contact_id=c.contact_id,
            external_user_id=c.external_user_id,
            status=c.status.value,
            audience=Audience(c.audience or Audience.CITIZEN).value,
            following=c.following,
            case_id=c.case_id,
            case_code=case_code,
            last_inbound_at=c.last_inbound_at,
            last_message_at=c.last_message_at,
            reply_window_ends_at=reply_window_ends_at(c, channel),
            created_at=c.created_at,
            auto_answered_at=c.auto_answered_at,
            auto_answer_article_id=c.auto_answer_article_id,
        )


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]


class ConversationPageOut(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000)
    # The same key twice (a double click, a retried request) is one reply.
    idempotency_key: str | None = Field(default=None, min_length=8, max_length=100)


class SegmentsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=2000)


class SegmentsOut(BaseModel):
    encoding: str  # "GSM-7" or "UCS-2"
    segments: int
    text: str  # what the gateway gets (without diacritics when it needs GSM-7)


class CaseFromConversationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=20_000)
    category: str | None = Field(default=None, max_length=40)
    urgent: bool | None = None
    ward_code: str | None = Field(default=None, max_length=8)
    address: str = Field(default="", max_length=300)


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case: str = Field(min_length=1, max_length=20)


class SavedReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # None: offered for every category.
    category: str | None = Field(default=None, max_length=40)
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=2000)


class SavedReplyPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Given as null: offered for every category; left out: unchanged.
    category: str | None = Field(default=None, max_length=40)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    text: str | None = Field(default=None, min_length=1, max_length=2000)


class SavedReplyOut(BaseModel):
    id: int
    category: str | None
    title: str
    text: str
    created_at: datetime
    updated_at: datetime
    updated_by: int | None

    @classmethod
    def of(cls, r: SavedReply) -> Self:
        return cls(
            id=r.id,
            category=r.category_code,
            title=r.title,
            text=r.text,
            created_at=r.created_at,
            updated_at=r.updated_at,
            updated_by=r.updated_by,
        )
