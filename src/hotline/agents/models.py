"""An operator's phone and availability, one row per user who takes calls."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, JSONType, UTCDateTime, enum_column, utcnow


class AgentStatus(enum.StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"


class Agent(Base):
    __tablename__ = "agent"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[AgentStatus] = mapped_column(enum_column(AgentStatus, 12))
    # When the status last changed: for an available operator, how long they have been idle.
    status_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # SIP digest credentials of the operator's phone. Digest needs MD5(user:realm:password)
    # at the server, so a slow password hash is impossible; HA1 is stored instead of the
    # password (a thief could register as that phone in this realm, but learns no password).
    sip_username: Mapped[str | None] = mapped_column(String(80), unique=True)
    sip_ha1: Mapped[str | None] = mapped_column(String(32))
    # A phone that does not register is reached at a fixed URI instead.
    sip_uri: Mapped[str | None] = mapped_column(String(200))
    # Calls offered in a row and not answered; the line sets the operator away at 2.
    missed: Mapped[int] = mapped_column(Integer, default=0)
    # What they can do ("medical", "lang_en", ...): queues ring members by skill.
    skills: Mapped[list[str] | None] = mapped_column(JSONType)
    # The call the operator is on now, for the console (set by the phone line).
    current_call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id", ondelete="SET NULL"))


class SipRegistration(Base):
    """Where an operator's phone registered (its latest binding), kept so that a restarted
    phone-line process, or another one sharing the database, rings it without waiting for
    the phone to register again."""

    __tablename__ = "sip_registration"

    username: Mapped[str] = mapped_column(String(80), primary_key=True)  # the SIP login
    contact: Mapped[str] = mapped_column(String(500))  # the phone's Contact URI
    # Where the REGISTER came from: INVITEs go there (NAT), and it is the refresh's source.
    received_host: Mapped[str] = mapped_column(String(64))
    received_port: Mapped[int] = mapped_column(Integer)
    # Registered through the edge: the Path its calls are routed back by (RFC 3327).
    path: Mapped[list[str] | None] = mapped_column(JSONType)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    instance: Mapped[str | None] = mapped_column(String(64))  # the line that took it


class SipLockout(Base):
    """Failed REGISTER digests of one SIP login or one source address, shared by every
    phone-line process on the database and kept across their restarts: a guesser spread
    over several lines (the edge hands each new Call-ID to any of them) or waiting for a
    restart gets the budget once. The lines also count in memory (telephony/sip/guard.py),
    which holds when the database is away."""

    __tablename__ = "sip_lockout"

    # "user:<login>" or "address:<host>" (an IPv6 address by its /64, netaddr.client_key).
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # within the current window
    window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    strikes: Mapped[int] = mapped_column(Integer, default=0)  # lockouts so far (doubling)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the row says nothing any more (its window over, its last lockout long past): it is
    # never read as a lockout after `locked_until`, and deleted after this.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
