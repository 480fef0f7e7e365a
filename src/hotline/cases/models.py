"""Cases, their forwardings to units, and their append-only timeline."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.contacts.models import Channel
from hotline.db import Base, JSONType, UTCDateTime, enum_column, utcnow
from hotline.ids import BigId


class CaseStatus(enum.StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    FORWARDED = "forwarded"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class AssignmentStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    RESOLVED = "resolved"


def _enum(e: type[enum.Enum], length: int = 20) -> Any:
    return enum_column(e, length)


class Case(Base):
    __tablename__ = "case"
    __table_args__ = (
        Index("ix_case_created_at_id", "created_at", "id"),
        Index("ix_case_status_created_at", "status", "created_at"),
        # Duplicate suggestion reads "this ward, these hours": (ward, time) serves that as one
        # range scan and still serves ward-only filters, so it replaces the ward index
        # instead of adding one more index for intake to maintain.
        Index("ix_case_ward_code_created_at", "ward_code", "created_at"),
        # Most cases have no assignee yet and are nobody's duplicate: partial indexes cost
        # intake nothing for those rows, which matters in a surge.
        Index(
            "ix_case_assignee_id",
            "assignee_id",
            postgresql_where=text("assignee_id IS NOT NULL"),
            sqlite_where=text("assignee_id IS NOT NULL"),
        ),
        Index(
            "ix_case_duplicate_of_id",
            "duplicate_of_id",
            postgresql_where=text("duplicate_of_id IS NOT NULL"),
            sqlite_where=text("duplicate_of_id IS NOT NULL"),
        ),
        # Diacritic-free full-text search: on PostgreSQL a stored generated column
        # search_vector = to_tsvector('simple', search_text) with a GIN index, created by
        # migration 20261123_0002 and deliberately not mapped here (SQLite has no tsvector;
        # it searches search_text with LIKE).
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    category_code: Mapped[str | None] = mapped_column(ForeignKey("category.code"), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[Priority] = mapped_column(_enum(Priority), default=Priority.NORMAL)
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus), default=CaseStatus.NEW)
    description: Mapped[str] = mapped_column(Text)
    ward_code: Mapped[str | None] = mapped_column(ForeignKey("ward.code"))
    address: Mapped[str] = mapped_column(String(300), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    ever_forwarded: Mapped[bool] = mapped_column(Boolean, default=False)
    answer: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseAssignment(Base):
    """One forwarding of a case to one unit, with its deadline and outcome."""

    __tablename__ = "case_assignment"
    __table_args__ = (Index("ix_case_assignment_open_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    status: Mapped[AssignmentStatus] = mapped_column(_enum(AssignmentStatus))
    note: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(Text)
    return_reason: Mapped[str | None] = mapped_column(Text)


class CaseEvent(Base):
    """Append-only timeline: who did what to the case, when and why."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IntakeKey(Base):
    """An `Idempotency-Key` sent with a new case: a retry with the same key (by the same
    user) is answered with the case the first request made. Written in the case's own
    transaction; the primary key makes two concurrent retries one case."""

    __tablename__ = "intake_key"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    # sha256 of the validated request: the same key with another body is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
