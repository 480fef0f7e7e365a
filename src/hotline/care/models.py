"""Home care: doctors and their availability, patients followed at home, check-ins and their
schedule, treatment facilities with beds, admission requests, consult requests."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, JSONType, UTCDateTime, enum_column, utcnow
from hotline.ids import BigId


class DoctorGroup(enum.StrEnum):
    CONSULT = "consult"
    PROACTIVE = "proactive"


class CareDoctor(Base):
    """A doctor's profile: the user (role doctor) it belongs to, groups and capacity."""

    __tablename__ = "care_doctor"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    specialty: Mapped[str] = mapped_column(String(120), default="")
    years_experience: Mapped[int] = mapped_column(Integer)
    licence_number: Mapped[str] = mapped_column(String(40), default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    consult: Mapped[bool] = mapped_column(Boolean, default=False)
    proactive: Mapped[bool] = mapped_column(Boolean, default=False)
    # Most patients followed at once; patient_count is kept with each assignment so that
    # two registrations at once cannot both take the last place (a conditional UPDATE).
    capacity: Mapped[int] = mapped_column(Integer)
    patient_count: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DoctorWindow(Base):
    """A weekly window (local site time) in which a doctor takes a group's work."""

    __tablename__ = "care_doctor_window"
    __table_args__ = (Index("ix_care_doctor_window_group_weekday", "group", "weekday"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("care_doctor.user_id", ondelete="CASCADE"), index=True
    )
    group: Mapped[DoctorGroup] = mapped_column(enum_column(DoctorGroup, 12))
    weekday: Mapped[int] = mapped_column(SmallInteger)  # 0 Monday .. 6 Sunday
    start_minute: Mapped[int] = mapped_column(SmallInteger)  # minutes after local midnight
    end_minute: Mapped[int] = mapped_column(SmallInteger)


class PatientStatus(enum.StrEnum):
    F0 = "F0"
    F1 = "F1"


class CareState(enum.StrEnum):
    ACTIVE = "active"  # followed at home
    ADMITTED = "admitted"  # moved to a facility
    ENDED = "ended"  # recovered, or follow-up ended


class EndReason(enum.StrEnum):
    RECOVERED = "recovered"
    HOSPITALISED = "hospitalised"
    DIED = "died"
    MOVED = "moved"
    OTHER = "other"


class CarePatient(Base):
    __tablename__ = "care_patient"
    __table_args__ = (
        # The worklist: a doctor's followed patients, riskiest first.
        Index("ix_care_patient_doctor_state_rank", "doctor_id", "state", "risk_rank"),
        Index("ix_care_patient_slots_until", "state", "slots_until"),
        # One followed patient (not ended) per person: two registrations at once cannot
        # both land (care/registration.py answers the second with the duplicate's 409).
        Index(
            "uq_care_patient_contact_followed",
            "contact_id",
            unique=True,
            postgresql_where=text("state <> 'ended'"),
            sqlite_where=text("state <> 'ended'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    status: Mapped[PatientStatus] = mapped_column(enum_column(PatientStatus, 4))
    national_id: Mapped[str | None] = mapped_column(String(20))
    age: Mapped[int | None] = mapped_column(SmallInteger)
    test_date: Mapped[date | None] = mapped_column(Date)
    test_type: Mapped[str | None] = mapped_column(String(20))
    vaccine_doses: Mapped[int] = mapped_column(SmallInteger, default=0)
    last_dose_date: Mapped[date | None] = mapped_column(Date)
    comorbidities: Mapped[list[str]] = mapped_column(JSONType, default=list)
    comorbidities_stable: Mapped[bool] = mapped_column(Boolean, default=False)
    pregnant: Mapped[bool] = mapped_column(Boolean, default=False)
    can_self_care: Mapped[bool] = mapped_column(Boolean, default=True)
    has_carer: Mapped[bool] = mapped_column(Boolean, default=False)
    ward_code: Mapped[str | None] = mapped_column(ForeignKey("ward.code"))
    address: Mapped[str] = mapped_column(String(300), default="")
    eligible: Mapped[bool] = mapped_column(Boolean)
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    state: Mapped[CareState] = mapped_column(enum_column(CareState, 12), default=CareState.ACTIVE)
    # The latest check-in's result, kept here for the worklist's order (higher: riskier).
    risk_rank: Mapped[int] = mapped_column(Integer, default=0)
    last_checkin_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # The urgent case the last escalation opened: while it is open, a new warning sign
    # alerts again but opens no second case.
    urgent_case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    # Check-in slots exist up to here (the worker's sweep extends them).
    slots_until: Mapped[datetime] = mapped_column(UTCDateTime)
    # Part of the signed check-in link: a new nonce invalidates the links given before.
    link_nonce: Mapped[str] = mapped_column(String(32))
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Follow-up ended (state ENDED): why, when, by whom (care/followup.py).
    end_reason: Mapped[EndReason | None] = mapped_column(enum_column(EndReason, 12))
    end_note: Mapped[str] = mapped_column(Text, default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class PatientChange(Base):
    """A change to a followed patient's record (edit, reassignment, end of follow-up): who,
    when, the fields before and after. Health data: read only like the patient."""

    __tablename__ = "care_patient_change"
    __table_args__ = (Index("ix_care_patient_change_patient_id", "patient_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("care_patient.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: the system
    action: Mapped[str] = mapped_column(String(20))  # edit | reassign | assign | end
    before: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class CheckIn(Base):
    __tablename__ = "care_checkin"
    __table_args__ = (Index("ix_care_checkin_patient_at", "patient_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("care_patient.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A doctor during a call; None: the patient or their carer through the signed link.
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    source: Mapped[str] = mapped_column(String(12))  # doctor | link | registration
    spo2: Mapped[int | None] = mapped_column(SmallInteger)
    respiratory_rate: Mapped[int | None] = mapped_column(SmallInteger)
    pulse: Mapped[int | None] = mapped_column(SmallInteger)
    temperature: Mapped[float | None] = mapped_column(Float)
    systolic_bp: Mapped[int | None] = mapped_column(SmallInteger)
    diastolic_bp: Mapped[int | None] = mapped_column(SmallInteger)
    consciousness: Mapped[str | None] = mapped_column(String(12))
    on_oxygen: Mapped[bool] = mapped_column(Boolean, default=False)
    symptoms: Mapped[list[str]] = mapped_column(JSONType, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    news2: Mapped[int] = mapped_column(SmallInteger)
    warning_signs: Mapped[list[str]] = mapped_column(JSONType, default=list)
    severity: Mapped[str] = mapped_column(String(12))
    tier: Mapped[str] = mapped_column(String(8))
    risk: Mapped[str] = mapped_column(String(8))
    result: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    rule_set_version: Mapped[str] = mapped_column(String(120))
    case_code: Mapped[str | None] = mapped_column(String(20))


class SlotState(enum.StrEnum):
    DUE = "due"
    DONE = "done"
    REMINDED = "reminded"
    MISSED = "missed"  # alerted


class CheckInSlot(Base):
    """A check-in due at a time; the worker's sweep reminds, then alerts, when it passes."""

    __tablename__ = "care_checkin_slot"
    __table_args__ = (
        UniqueConstraint("patient_id", "due_at"),
        Index("ix_care_checkin_slot_state_due_at", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("care_patient.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[SlotState] = mapped_column(enum_column(SlotState, 10), default=SlotState.DUE)
    checkin_id: Mapped[int | None] = mapped_column(
        ForeignKey("care_checkin.id", ondelete="SET NULL")
    )
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Facility(Base):
    """A treatment facility and its free beds, kept up to date by its unit."""

    __tablename__ = "care_facility"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    ward_code: Mapped[str | None] = mapped_column(ForeignKey("ward.code"))
    beds_total: Mapped[int] = mapped_column(Integer, default=0)
    beds_free: Mapped[int] = mapped_column(Integer, default=0)
    oxygen_beds_total: Mapped[int] = mapped_column(Integer, default=0)
    oxygen_beds_free: Mapped[int] = mapped_column(Integer, default=0)
    icu_beds_total: Mapped[int] = mapped_column(Integer, default=0)
    icu_beds_free: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class AdmissionStatus(enum.StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    ADMITTED = "admitted"
    CANCELLED = "cancelled"


class Admission(Base):
    """A doctor's request that a patient be admitted to a facility, and its answer."""

    __tablename__ = "care_admission"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("care_patient.id", ondelete="CASCADE"), index=True
    )
    facility_id: Mapped[int] = mapped_column(ForeignKey("care_facility.id"), index=True)
    bed_kind: Mapped[str] = mapped_column(String(10))  # general | oxygen | icu
    status: Mapped[AdmissionStatus] = mapped_column(enum_column(AdmissionStatus, 12))
    note: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsultSource(enum.StrEnum):
    PHONE = "phone"  # a caller of branch 3 who asked to be called back
    MESSAGE = "message"  # a citizen's message classified tu_van_suc_khoe
    STAFF = "staff"  # entered by hotline staff


class ConsultStatus(enum.StrEnum):
    OPEN = "open"
    TAKEN = "taken"
    DONE = "done"


class ConsultRequest(Base):
    """A citizen waiting for a consult doctor: due at the start of a consult window (or
    when it was made, inside one) and assigned to that window's doctors."""

    __tablename__ = "care_consult_request"
    __table_args__ = (Index("ix_care_consult_request_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[ConsultSource] = mapped_column(enum_column(ConsultSource, 10))
    status: Mapped[ConsultStatus] = mapped_column(
        enum_column(ConsultStatus, 8), default=ConsultStatus.OPEN
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20), default="")  # the number to call back
    text: Mapped[str] = mapped_column(Text, default="")
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id", ondelete="SET NULL"))
    callback_id: Mapped[int | None] = mapped_column(
        ForeignKey("callback.id", ondelete="SET NULL"), unique=True
    )
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation.id", ondelete="SET NULL")
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while the phone line holds the request for a try it is dialling (None: taken by
    # a doctor by hand); a line that stops or crashes before recording the try leaves it
    # set, and the request is released (consult_dialling.release_line_claims).
    dialling_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsultAssignee(Base):
    """A doctor of the window a consult request is due in: they see it and may take it."""

    __tablename__ = "care_consult_assignee"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("care_consult_request.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
