"""Citizens who call or write, their phone numbers and channel identities."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime, utcnow
from hotline.ids import BigId


class Channel(enum.StrEnum):
    """How a citizen reaches the hotline: a case's channel, a contact identity's channel."""

    PHONE = "phone"
    ZALO = "zalo"
    FACEBOOK = "facebook"
    VIBER = "viber"
    EMAIL = "email"
    SMS = "sms"
    APP = "app"
    WEB = "web"
    WALK_IN = "walk_in"
    # Made by the system, not by a citizen: an urgent case home care opened for a patient
    # whose check-in showed a warning sign (care/escalation.py). Never a contact identity.
    CARE = "care"


class Contact(Base):
    __tablename__ = "contact"
    __table_args__ = (
        Index(
            "ix_contact_merged_into_id",
            "merged_into_id",
            postgresql_where=text("merged_into_id IS NOT NULL"),
            sqlite_where=text("merged_into_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    ward_code: Mapped[str | None] = mapped_column(ForeignKey("ward.code"))
    note: Mapped[str] = mapped_column(Text, default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContactPhone(Base):
    __tablename__ = "contact_phone"

    e164: Mapped[str] = mapped_column(String(20), primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )


class ContactSharedPhone(Base):
    """A number this contact is reached on that another contact owns: a household's one
    phone. The owner keeps the number in contact_phone (one contact per number), so a call,
    an intake or a message from it still finds the owner; the household member's card and
    cases show it too (contacts.service.phones_of), so a case about them carries a number
    to call back."""

    __tablename__ = "contact_shared_phone"

    # No foreign key to contact_phone: the member keeps the number whatever becomes of
    # the owner's card (a merge, a removal), or a case about them would lose its callback.
    e164: Mapped[str] = mapped_column(String(20), primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ContactIdentity(Base):
    """An id on another channel (a Zalo user id, a Facebook PSID, an e-mail address...)."""

    __tablename__ = "contact_identity"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200), default="")


class PersonalDataRead(Base):
    """Every read of a citizen's personal data by staff (who, when, what): the person is a
    contact, else a caller's number with no contact card, else only the case (its files)."""

    __tablename__ = "personal_data_read"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    purpose: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
