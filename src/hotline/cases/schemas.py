"""JSON shapes of the case API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from hotline.cases.assignment_state import is_overdue
from hotline.cases.intake_pg import OpenedCase
from hotline.cases.models import Case, CaseAssignment, CaseEvent
from hotline.cases.notes import Note, Visibility
from hotline.cases.workflow import MAX_DEADLINE_HOURS
from hotline.types import Id, Int32


class ContactIn(BaseModel):
    name: str = Field(default="", max_length=200)
    phone: str | None = Field(default=None, max_length=40)


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(max_length=20)
    description: str = Field(min_length=1, max_length=20_000)
    category: str | None = Field(default=None, max_length=40)
    # Left out (or null): triage's suggestion is applied and named in CaseCreated.suggested.
    urgent: bool | None = None
    priority: str = "normal"
    contact: ContactIn | None = None
    ward_code: str | None = Field(default=None, max_length=8)
    address: str = Field(default="", max_length=300)
    lat: float | None = None
    long: float | None = None
    public: bool = False
    # The call this case comes from (the console's draft case after an operator answered).
    call_id: Id | None = None
    # What the operator took from the suggestions, applied in the same transaction: the case
    # it repeats (it is recorded as that case's duplicate), or the answer given at once (it
    # is recorded as resolved) with the knowledge-base article it came from.
    duplicate_of: str | None = Field(default=None, max_length=20)
    answer: str | None = Field(default=None, max_length=20_000)
    article_id: Id | None = None


class CasePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str | None = None
    urgent: bool | None = None
    priority: str | None = None
    description: str | None = Field(default=None, max_length=20_000)
    ward_code: str | None = None
    address: str | None = Field(default=None, max_length=300)
    lat: float | None = None
    long: float | None = None
    public: bool | None = None


class ForwardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: Int32
    note: str = Field(default="", max_length=4000)
    deadline_hours: int | None = Field(default=None, ge=1, le=MAX_DEADLINE_HOURS)
    # The case version the caller acted on (CaseDetail.version): refused with 409 if the
    # case changed since. Left out: no check.
    expected_version: int | None = Field(default=None, ge=0)


class VersionIn(BaseModel):
    """The body of a verb that takes nothing else (take, accept)."""

    # The case version the caller acted on (CaseDetail.version): refused with 409 if the
    # case changed since. Left out: no check.
    expected_version: int | None = Field(default=None, ge=0)


class ReasonIn(BaseModel):
    reason: str | None = Field(default=None, max_length=4000)
    # The case version the caller acted on (CaseDetail.version): refused with 409 if the
    # case changed since. Left out: no check.
    expected_version: int | None = Field(default=None, ge=0)


class ResolveIn(BaseModel):
    answer: str | None = Field(default=None, max_length=20_000)
    # The case version the caller acted on (CaseDetail.version): refused with 409 if the
    # case changed since. Left out: no check.
    expected_version: int | None = Field(default=None, ge=0)


class CloseIn(BaseModel):
    note: str = Field(default="", max_length=4000)
    # The case version the caller acted on (CaseDetail.version): refused with 409 if the
    # case changed since. Left out: no check.
    expected_version: int | None = Field(default=None, ge=0)


class DuplicateIn(BaseModel):
    original_code: str = Field(max_length=20)
    # The case version the caller acted on (CaseDetail.version): refused with 409 if the
    # case changed since. Left out: no check.
    expected_version: int | None = Field(default=None, ge=0)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Trimmed, then 1 to 4,000 characters (cases/notes.py, which names `text` when refused).
    text: str
    # internal: staff only; reply: addressed to the citizen, shown on the portal.
    visibility: Visibility = Visibility.INTERNAL


class NoteOut(BaseModel):
    id: int
    case: str
    visibility: Visibility
    text: str
    actor_id: int | None
    author: str
    unit_id: int | None
    at: datetime

    @classmethod
    def of(cls, note: Note) -> NoteOut:
        return cls(
            id=note.id,
            case=note.case,
            visibility=note.visibility,
            text=note.text,
            actor_id=note.actor_id,
            author=note.author,
            unit_id=note.unit_id,
            at=note.at,
        )


class AssignmentOut(BaseModel):
    id: int
    unit_id: int
    status: str
    note: str
    due_at: datetime
    overdue: bool
    # When the deadline sweep escalated it (kept after the unit finished late).
    overdue_at: datetime | None
    created_at: datetime
    accepted_at: datetime | None
    finished_at: datetime | None
    answer: str | None
    return_reason: str | None

    @classmethod
    def of(cls, a: CaseAssignment, now: datetime) -> AssignmentOut:
        return cls(
            id=a.id,
            unit_id=a.unit_id,
            status=a.status.value,
            note=a.note,
            due_at=a.due_at,
            overdue=is_overdue(a, now),
            overdue_at=a.overdue_at,
            created_at=a.created_at,
            accepted_at=a.accepted_at,
            finished_at=a.finished_at,
            answer=a.answer,
            return_reason=a.return_reason,
        )


class CaseOut(BaseModel):
    code: str
    status: str
    channel: str
    category: str | None
    urgent: bool
    priority: str
    description: str
    ward_code: str | None
    address: str
    lat: float | None
    long: float | None
    public: bool
    contact_id: int | None
    assignee_id: int | None
    duplicate_of: str | None = None
    ever_forwarded: bool
    answer: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def of(cls, c: Case | OpenedCase, duplicate_of: str | None = None) -> Self:
        return cls(
            code=c.code,
            status=c.status.value,
            channel=c.channel.value,
            category=c.category_code,
            urgent=c.urgent,
            priority=c.priority.value,
            description=c.description,
            ward_code=c.ward_code,
            address=c.address,
            lat=c.lat,
            long=c.long,
            public=c.public,
            contact_id=c.contact_id,
            assignee_id=c.assignee_id,
            duplicate_of=duplicate_of,
            ever_forwarded=c.ever_forwarded,
            answer=c.answer,
            created_at=c.created_at,
            updated_at=c.updated_at,
            resolved_at=c.resolved_at,
            closed_at=c.closed_at,
        )


class CaseDetail(CaseOut):
    contact: dict[str, Any] | None = None
    assignments: list[AssignmentOut] = []
    duplicates: list[str] = []
    attachments: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    # What the caller may do to the case now (cases/actions.py) and the version to send
    # back as expected_version with it (cases/versions.py).
    actions: list[str] = []
    version: int = 0


class CasePage(BaseModel):
    items: list[CaseOut]
    next_cursor: str | None


class EventOut(BaseModel):
    id: int
    kind: str
    actor_id: int | None
    unit_id: int | None
    from_status: str | None
    to_status: str | None
    reason: str | None
    data: dict[str, Any]
    at: datetime

    @classmethod
    def of(cls, e: CaseEvent, *, data: dict[str, Any] | None = None) -> EventOut:
        """`data`: the entry's data as the reader may see it (`access.event_data_for`)."""
        return cls(
            id=e.id,
            kind=e.kind,
            actor_id=e.actor_id,
            unit_id=e.unit_id,
            from_status=e.from_status,
            to_status=e.to_status,
            reason=e.reason,
            data=(e.data or {}) if data is None else data,
            at=e.at,
        )


class PossibleDuplicate(BaseModel):
    """An open case that the new one probably repeats (duplicates/service.py scores it)."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    score: float
    reasons: dict[str, Any]
    status: str
    created_at: datetime
    description: str


class CaseCreated(CaseOut):
    # None when not asked for (?suggest_duplicates=true): intake stays as cheap as before.
    possible_duplicates: list[PossibleDuplicate] | None = None
    # The fields triage filled in because the intake left them out: "category", "urgent".
    suggested: list[str] = Field(default_factory=list)
