"""Evidence files: checked by content, size-capped, stored outside the web root."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import filetype
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.attachments.models import Attachment
from hotline.auth.service import Actor
from hotline.cases import timeline
from hotline.cases.models import Case
from hotline.contacts.service import log_personal_read
from hotline.errors import InvalidInput, NotFound, TooLarge, UnsupportedMedia
from hotline.messages import msg
from hotline.site import site_of

# Photos, videos, audio and PDF. The type comes from the bytes; the name is never trusted.
ALLOWED_PREFIXES = ("image/", "video/", "audio/")
ALLOWED_EXACT = frozenset({"application/pdf"})
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def sniff_media_type(head: bytes) -> str | None:
    kind = filetype.guess(head)
    if kind is None:
        return None
    mime = str(kind.mime)
    if mime in ALLOWED_EXACT or mime.startswith(ALLOWED_PREFIXES):
        return mime
    return None


def _safe_filename(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).strip() or "tep-dinh-kem"
    return "".join(ch for ch in base if ch.isprintable())[:200]


async def add_attachment(
    session: AsyncSession, *, actor: Actor, case: Case, filename: str, data: bytes
) -> Attachment:
    """Store a file for a case. Too big → TooLarge, not an allowed type → UnsupportedMedia;
    in both cases nothing is written."""
    site = site_of(session)
    if not data:
        raise InvalidInput("Tệp rỗng", field="file")
    if len(data) > site.attachment_max_bytes:
        limit_mb = site.attachment_max_bytes / 1024 / 1024
        raise TooLarge(msg("Tệp vượt quá {limit_mb:g} MB", limit_mb=limit_mb), field="file")
    media_type = sniff_media_type(data[:8192])
    if media_type is None:
        raise UnsupportedMedia(
            "Chỉ nhận ảnh, video, âm thanh hoặc PDF (kiểm tra theo nội dung tệp)", field="file"
        )
    storage_name = secrets.token_hex(20)
    directory = site.attachments_dir
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / storage_name
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    attachment = Attachment(
        case_id=case.id,
        filename=_safe_filename(filename),
        media_type=media_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_name=storage_name,
        uploaded_by_id=actor.user_id,
    )
    session.add(attachment)
    try:
        await session.flush()
        await timeline.log(
            session,
            case,
            "attachment_added",
            actor,
            data={"filename": attachment.filename, "media_type": media_type},
        )
    except Exception:
        path.unlink(missing_ok=True)
        raise
    session.info.setdefault("on_rollback_unlink", []).append(path)
    return attachment


async def list_attachments(session: AsyncSession, case_id: int) -> list[Attachment]:
    return list(
        (
            await session.scalars(
                select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id)
            )
        ).all()
    )


async def get_attachment(
    session: AsyncSession, *, actor: Actor, case: Case, attachment_id: int
) -> tuple[Attachment, Path]:
    """A case's file for download. A photo or a letter is the reporter's personal data:
    the read is logged (against the reporter, or the case when it has none)."""
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None or attachment.case_id != case.id:
        raise NotFound("Không tìm thấy tệp", field="attachment_id")
    await log_personal_read(
        session, actor=actor, contact_id=case.contact_id, case_id=case.id, purpose="attachment"
    )
    return attachment, site_of(session).attachments_dir / attachment.storage_name
