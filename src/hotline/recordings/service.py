"""Linking a recording to its call, and handing it to those allowed to hear it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.permissions import Permission, allows
from hotline.auth.service import Actor
from hotline.calls.models import Call
from hotline.contacts.service import log_personal_read
from hotline.errors import NotFound
from hotline.recordings.models import CallRecording

log = structlog.get_logger("hotline.recordings")


def recordings_dir(var_dir: Path) -> Path:
    return var_dir / "recordings"


@dataclass(frozen=True)
class RecordedFile:
    storage_name: str
    sha256: str
    size: int
    seconds: float
    channels: int


async def add_recording(
    session: AsyncSession, *, call_id: int, recorded: RecordedFile
) -> CallRecording:
    """Link a written WAV file to its call record."""
    recording = CallRecording(
        call_id=call_id,
        storage_name=recorded.storage_name,
        sha256=recorded.sha256,
        size=recorded.size,
        seconds=recorded.seconds,
        channels=recorded.channels,
    )
    session.add(recording)
    await session.flush()
    return recording


async def get_recording_for(
    session: AsyncSession, *, actor: Actor, call_id: int, directory: Path
) -> tuple[CallRecording, Path]:
    """A call's recording for a supervisor or administrator (anyone else: NotFound). The
    read is logged as a read of the caller's personal data."""
    if not allows(actor, Permission.LISTEN_RECORDINGS):
        raise NotFound("Không tìm thấy bản ghi âm", field="call_id")
    recording = await session.scalar(select(CallRecording).where(CallRecording.call_id == call_id))
    call = await session.get(Call, call_id)
    if recording is None or call is None:
        raise NotFound("Không tìm thấy bản ghi âm", field="call_id")
    await log_personal_read(
        session,
        actor=actor,
        contact_id=call.contact_id,
        phone=call.caller,
        case_id=call.case_id,
        purpose="call_recording",
    )
    log.info("recording_read", call_id=call_id, user_id=actor.user_id)
    return recording, directory / recording.storage_name
