"""A call's recording: one WAV file outside the web root, named at random, with its SHA-256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime, utcnow
from hotline.ids import BigId


class CallRecording(Base):
    __tablename__ = "call_recording"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("call.id", ondelete="CASCADE"), unique=True, index=True
    )
    storage_name: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    channels: Mapped[int] = mapped_column(Integer)  # 1: caller only; 2: caller, line/operator
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
