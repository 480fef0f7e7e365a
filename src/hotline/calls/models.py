"""Call records: every call, answered or not."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime, enum_column, utcnow
from hotline.ids import BigId


class CallOutcome(enum.StrEnum):
    ANSWERED = "answered"
    ABANDONED_MENU = "abandoned_menu"
    ABANDONED_QUEUE = "abandoned_queue"
    TRANSFERRED_115 = "transferred_115"
    TRANSFERRED_CDC = "transferred_cdc"
    CALLBACK_REQUESTED = "callback_requested"
    OUTSIDE_HOURS = "outside_hours"
    # The caller left a message (a queue's overflow); it became a case.
    VOICEMAIL = "voicemail"
    # An answered call still open when its phone-line instance started again (a crash).
    LINE_RESTARTED = "line_restarted"
    # The caller chose a destination (115, CDC) and every way of putting them through
    # failed; nobody answered them afterwards either (see TransferAttempt).
    TRANSFER_FAILED = "transfer_failed"
    # Ended by the line, not the caller, before any other outcome: the caller's media went
    # silent (RTP timeout), the call outlived the longest allowed, the line stopped.
    DROPPED = "dropped"
    # Never started: refused at the door (503 when the line is full, 488 when no codec is
    # common). Counted in the reports as failed attempts.
    FAILED = "failed"
    # A call the line placed (a callback it dials) that the citizen did not answer, or
    # answered busy (486, 600); failed and answered are shared with incoming calls.
    NO_ANSWER = "no_answer"
    BUSY = "busy"


class CallDirection(enum.StrEnum):
    INBOUND = "inbound"  # a citizen called the line
    OUTBOUND = "outbound"  # the line called a citizen back (telephony/callbacks.py)


# Who ended a call (`Call.ended_by`) and why (`Call.release_cause`), as the line saw it;
# their names on the pages are in calls/labels.py.
ENDED_BY = ("caller", "line", "operator", "destination")
RELEASE_CAUSES = (
    "caller_hangup",  # the caller's BYE
    "caller_cancel",  # the caller's CANCEL before the line answered
    "line_hangup",  # the menu or the queue was done with the call (outside hours, callback)
    "transferred",  # the REFER's target answered
    "operator_hangup",
    "destination_hangup",  # a bridged destination (transfer.py) hung up
    "rtp_timeout",  # no media from the caller for sip_rtp_timeout seconds
    "max_duration",  # longer than sip_max_call_seconds
    "session_expired",  # nobody refreshed the session timer (RFC 4028)
    "no_ack",  # the caller never confirmed the line's 200 OK
    "line_stopped",  # the line shut down during the call
    "line_error",
    "over_capacity",  # 503: sip_max_calls calls in progress
    "no_media_port",  # 503: no RTP port free
    "codec_not_acceptable",  # 488
    # A call the line placed: nobody answered in the ring time, the phone was busy, or no
    # request could be sent / the INVITE was refused otherwise.
    "no_answer",
    "busy",
    "unreachable",
)


class Call(Base):
    __tablename__ = "call"
    __table_args__ = (
        Index("ix_call_started_at", "started_at"),
        # The calls not ended yet (the dashboard's "in progress"): a handful at any time.
        Index(
            "ix_call_in_progress",
            "started_at",
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line: Mapped[str] = mapped_column(String(20), index=True)
    caller: Mapped[str] = mapped_column(String(20), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    menu_path: Mapped[str] = mapped_column(String(40), default="")
    branch: Mapped[str | None] = mapped_column(String(20))
    queue_wait_seconds: Mapped[int] = mapped_column(Integer, default=0)
    talk_seconds: Mapped[int] = mapped_column(Integer, default=0)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    outcome: Mapped[CallOutcome | None] = mapped_column(enum_column(CallOutcome, 24))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    # The phone-line instance (settings.sip_instance_id) that handled the call; None for
    # calls recorded through the API.
    instance: Mapped[str | None] = mapped_column(String(64), index=True)
    # What the phone line knows of the call (None for calls recorded through the API): the
    # SIP Call-ID, the trunk address the INVITE came from, the codec, the final status the
    # INVITE got, who ended the call and why (ENDED_BY, RELEASE_CAUSES).
    sip_call_id: Mapped[str | None] = mapped_column(String(128), index=True)
    trunk: Mapped[str | None] = mapped_column(String(64))
    codec: Mapped[str | None] = mapped_column(String(8))
    sip_status: Mapped[int | None] = mapped_column(SmallInteger)
    ended_by: Mapped[str | None] = mapped_column(String(12))
    release_cause: Mapped[str | None] = mapped_column(String(24))
    # The line's own key for the record: a record written again (replayed from the line's
    # spool after a database outage, a crash between the commit and the spool's clean-up)
    # finds its row instead of adding a second one.
    record_key: Mapped[str | None] = mapped_column(String(40), index=True, unique=True)
    # Who called whom: outbound rows are the callbacks the line dials (each linked from its
    # CallbackAttempt); the reports' counters count inbound calls only.
    direction: Mapped[CallDirection] = mapped_column(
        enum_column(CallDirection, 8), default=CallDirection.INBOUND, server_default="inbound"
    )


class CallbackStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    FAILED = "failed"  # the line dialled it as many times as its queue allows, in vain


class Callback(Base):
    """A caller who pressed 1 in the queue (or outside hours) to be called back.

    Ordered by `queued_at`, when they joined the queue, so they keep their place.
    """

    __tablename__ = "callback"
    __table_args__ = (Index("ix_callback_status_queued_at", "status", "queued_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    caller: Mapped[str] = mapped_column(String(20))
    line: Mapped[str] = mapped_column(String(20))
    branch: Mapped[str] = mapped_column(String(20))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the caller was promised the call: the start of the next consult window (care's
    # consult routing); None: as soon as someone can.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[CallbackStatus] = mapped_column(enum_column(CallbackStatus, 8))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The line's own dialling (telephony/callbacks.py): tries so far, and when the next may
    # start; a try in progress holds it until then, so two line instances never both dial.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CallbackResult(enum.StrEnum):
    CONNECTED = "connected"  # the caller answered and was put through to an operator
    NO_ANSWER = "no_answer"  # the caller did not answer (or was busy)
    AGENT_MISSED = "agent_missed"  # the caller answered, the operator did not
    FAILED = "failed"  # the caller's number could not be called


class CallbackAttempt(Base):
    """One time the line dialled a callback: when, to whom, how it went."""

    __tablename__ = "callback_attempt"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    callback_id: Mapped[int] = mapped_column(
        ForeignKey("callback.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    result: Mapped[CallbackResult] = mapped_column(enum_column(CallbackResult, 16))
    # The try's own call record (direction outbound), written with it from the line's spool.
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("call.id", ondelete="SET NULL"), index=True
    )


class TransferMethod(enum.StrEnum):
    REFER = "refer"  # the caller's side was asked to call the destination (blind transfer)
    BRIDGE = "bridge"  # the line called the destination and relayed the audio
    QUEUE = "queue"  # after the transfer failed: the caller waited for an operator


class TransferResult(enum.StrEnum):
    ANSWERED = "answered"  # the destination (or an operator) took the call
    ACCEPTED = "accepted"  # REFER accepted (202), no final word before the line let go
    REFUSED = "refused"  # a final failure status (REFER, its NOTIFY, or the INVITE)
    TIMEOUT = "timeout"  # no answer within the destination's bound
    UNREACHABLE = "unreachable"  # no request could be sent (address, port)
    ABANDONED = "abandoned"  # the caller hung up during the attempt
    CALLBACK = "callback"  # the caller asked to be called back while waiting


class TransferAttempt(Base):
    """One try at putting a caller through to a menu destination, in order: a failed
    emergency transfer shows here (and as the call's `transfer_failed` outcome)."""

    __tablename__ = "transfer_attempt"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    method: Mapped[TransferMethod] = mapped_column(enum_column(TransferMethod, 8))
    destination: Mapped[str] = mapped_column(String(20))  # a destination's or queue's name
    target: Mapped[str | None] = mapped_column(String(200))  # the SIP URI tried
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[TransferResult] = mapped_column(enum_column(TransferResult, 12))
    sip_status: Mapped[int | None] = mapped_column(Integer)
