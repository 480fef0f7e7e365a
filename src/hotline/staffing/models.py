"""Shift templates, the roster, swaps, clock records, volunteers, surge mode and the
notices sent when it starts."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, JSONType, UTCDateTime, enum_column, utcnow
from hotline.ids import BigId


class VolunteerStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    # Taken back, by the volunteer or a supervisor: their places from then on are gone.
    WITHDRAWN = "withdrawn"


class SwapStatus(enum.StrEnum):
    # Waiting for the colleague named to take the place: they accept or decline it.
    REQUESTED = "requested"
    # The colleague took it: waiting for a supervisor to approve or reject it.
    ACCEPTED = "accepted"
    DECLINED = "declined"
    APPROVED = "approved"
    REJECTED = "rejected"
    # Another request for the same place was approved first: the place has moved on.
    CANCELLED = "cancelled"
    # Taken back by the place's holder or whoever filed it, before anyone decided.
    WITHDRAWN = "withdrawn"


class ShiftTemplate(Base):
    """A shift worked every day: when it starts (site time), how long, how many people."""

    __tablename__ = "shift_template"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    starts_at: Mapped[time] = mapped_column(Time)
    hours: Mapped[int] = mapped_column(Integer)
    operators: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The timings before each change, oldest first: [{"until": "YYYY-MM-DD", "starts_at":
    # "HH:MM:SS", "hours": n}], each holding for the days before `until` (and after the
    # previous one's), so a change never re-times a shift already begun (checks.shift_span).
    earlier: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONType, default=list, server_default=text("'[]'")
    )


class Volunteer(Base):
    __tablename__ = "volunteer"
    __table_args__ = (
        # One approved offer per phone number. Offers waiting for a decision are not
        # unique: whoever signs up first with a number must not hold it against its owner
        # (volunteers.py: the number is proved by a code texted to it, or by a supervisor).
        Index(
            "uq_volunteer_phone_approved",
            "phone",
            unique=True,
            postgresql_where=text("status = 'approved'"),
            sqlite_where=text("status = 'approved'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    full_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    # {"medical": bool, "languages": [...], "channels": [...]}
    skills: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[VolunteerStatus] = mapped_column(enum_column(VolunteerStatus, 10))
    note: Mapped[str] = mapped_column(String(500), default="")
    # The account a volunteer answers calls with, once they have one.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # In reserve: willing to be called in when the line enters surge mode (alerted then).
    reserve: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The number proved to be the volunteer's: by the code texted to it (by None) or by a
    # supervisor who phoned it (by them). Only a confirmed offer is approved.
    phone_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    phone_confirmed_by: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    # The code last texted (SHA-256 of it), until when it holds, and the wrong tries.
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    code_tries: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    withdraw_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")


class VolunteerCodeMiss(Base):
    """A wrong confirmation code typed for a number (confirming.confirm_phone): the
    number's wrong tries are counted over the last 24 hours from these, whatever the day
    and whichever of its codes they were meant for."""

    __tablename__ = "volunteer_code_miss"
    __table_args__ = (Index("ix_volunteer_code_miss_phone_at", "phone", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RosterEntry(Base):
    """One person on one shift of one day: a staff account or a volunteer."""

    __tablename__ = "roster_entry"
    __table_args__ = (
        UniqueConstraint("day", "shift_id", "user_id", name="uq_roster_entry_user"),
        UniqueConstraint("day", "shift_id", "volunteer_id", name="uq_roster_entry_volunteer"),
        CheckConstraint("(user_id IS NULL) <> (volunteer_id IS NULL)", name="one_person"),
        Index("ix_roster_entry_day_shift", "day", "shift_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shift_template.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    volunteer_id: Mapped[int | None] = mapped_column(
        ForeignKey("volunteer.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class ShiftSwap(Base):
    """An operator asks to hand their place on a shift to a colleague; the colleague
    accepts or declines; a supervisor approves what they accepted (swaps.py)."""

    __tablename__ = "shift_swap"
    __table_args__ = (
        # One live request (waiting for the colleague, or accepted) per place (a holder's
        # place on one shift of one day) and colleague: the same request sent twice at once
        # cannot both land.
        Index(
            "uq_shift_swap_pending",
            "entry_id",
            "to_user_id",
            unique=True,
            postgresql_where=text("status IN ('requested', 'accepted')"),
            sqlite_where=text("status IN ('requested', 'accepted')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("roster_entry.id", ondelete="CASCADE"), index=True
    )
    # The place's holder (their account, or the account linked to their volunteer offer);
    # `filed_by` is who sent the request: the holder, or a supervisor for them.
    requested_by: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    filed_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    to_user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[SwapStatus] = mapped_column(enum_column(SwapStatus, 10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The colleague's answer (accepted or declined): who gave it and when.
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ShiftClock(Base):
    """An operator's clock-in and clock-out; an open row (no `out_at`) is someone at work."""

    __tablename__ = "shift_clock"
    __table_args__ = (
        Index("ix_shift_clock_user_out", "user_id", "out_at"),
        # One open row per person: clock-ins sent at once cannot leave two people at work.
        Index(
            "uq_shift_clock_open",
            "user_id",
            unique=True,
            postgresql_where=text("out_at IS NULL"),
            sqlite_where=text("out_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A clock-in off the roster: the supervisor who allowed it (themselves, or through a
    # ring override) and why; both empty for a clock-in on a rostered shift.
    override_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    override_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")


class RingOverride(Base):
    """A supervisor lets an operator take queue calls off their shift, until a time."""

    __tablename__ = "ring_override"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(200), default="", server_default="")


class ShiftAlert(Base):
    """An unfilled shift already announced to the supervisors (once per shift and day)."""

    __tablename__ = "shift_alert"
    __table_args__ = (UniqueConstraint("day", "shift_id", name="uq_shift_alert_day_shift"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shift_template.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rostered: Mapped[int] = mapped_column(Integer)
    needed: Mapped[int] = mapped_column(Integer)
    # When the hole was seen filled (null while it is open): a hole opening again after
    # that is announced again, on this row (`at` the new opening).
    filled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SurgeState(Base):
    """Surge mode now: one row (id 1), absent until the first entry."""

    __tablename__ = "surge_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A supervisor's switch holds until a supervisor switches it back; the sweep's own
    # entries it may end.
    manual: Mapped[bool] = mapped_column(Boolean, default=False)


class SurgeChange(Base):
    """Each entry into and exit from surge mode, with the queue's figures at that moment."""

    __tablename__ = "surge_change"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    active: Mapped[bool] = mapped_column(Boolean)
    manual: Mapped[bool] = mapped_column(Boolean)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    # waiting, longest_wait_seconds, offered_15min, abandoned_15min, abandonment
    figures: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class NoticeDelivery(enum.StrEnum):
    RECORDED = "recorded"  # kept here, read in the staffing API (and sent live to staff)
    SMS = "sms"  # also queued to the volunteer's phone through the SMS channel's outbox


class StaffingNotice(Base):
    """A durable notice of a surge entry to one supervisor or one reserve volunteer."""

    __tablename__ = "staffing_notice"
    __table_args__ = (
        # One notice per person and surge entry: a sweep run twice alerts nobody twice.
        UniqueConstraint("surge_change_id", "user_id", name="uq_staffing_notice_user"),
        UniqueConstraint("surge_change_id", "volunteer_id", name="uq_staffing_notice_volunteer"),
        CheckConstraint("(user_id IS NULL) <> (volunteer_id IS NULL)", name="one_person"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    surge_change_id: Mapped[int] = mapped_column(
        ForeignKey("surge_change.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    volunteer_id: Mapped[int | None] = mapped_column(
        ForeignKey("volunteer.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(500))
    delivery: Mapped[NoticeDelivery] = mapped_column(enum_column(NoticeDelivery, 10))
    # The outbox message of an SMS (channels' `message`), to follow its delivery.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
