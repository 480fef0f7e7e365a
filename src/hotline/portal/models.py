"""What the portal keeps beside a case: the hash of the citizen's tracking secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime, utcnow


class PortalTicket(Base):
    """A case sent through the portal: its code and this secret together let the citizen
    track it and add files to it. Only the secret's SHA-256 is kept (service.py says why)."""

    __tablename__ = "portal_ticket"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("case.id", ondelete="CASCADE"), primary_key=True
    )
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
