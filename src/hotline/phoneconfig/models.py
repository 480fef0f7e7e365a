"""Phone configuration rows and their audit trail.

One row per configured object (a line, a menu, a destination, a queue, a prompt), its body
as JSON validated by `schemas.py`. An object without a row is the built-in default (version
0), so a fresh install behaves exactly as the code defaults and HOTLINE_SIP_* settings say.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, JSONType, UTCDateTime, utcnow
from hotline.ids import BigId


class PhoneConfigItem(Base):
    __tablename__ = "phone_config_item"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # line | menu | destination | queue | prompt
    key: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # Optimistic concurrency: a PUT names the version it edited; a stale one is a 409.
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class PhoneConfigChange(Base):
    """Who changed what, when. Its highest id is also the configuration's version, which the
    phone-line process polls to know when to reload."""

    __tablename__ = "phone_config_change"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    key: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(12))  # put | upload | unupload
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
