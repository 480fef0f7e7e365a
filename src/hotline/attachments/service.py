"""Evidence files: checked by content, size-capped, stored outside the web root."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filetype
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.attachments.models import Attachment
from hotline.auth.service import Actor
from hotline.cases import timeline
from hotline.cases.medical import reads_medical
from hotline.cases.models import Case
from hotline.contacts.service import log_personal_read
from hotline.errors import InvalidInput, NotAllowed, NotFound, TooLarge, UnsupportedMedia
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


@dataclass(frozen=True)
class KeptFile:
    """A file checked and written to the attachments' storage, not yet any case's."""

    filename: str
    media_type: str
    size: int
    sha256: str
    storage_name: str

    def as_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
            "storage_name": self.storage_name,
        }


def keep_file(session: AsyncSession, *, filename: str, data: bytes) -> KeptFile:
    """Check a file (size cap, type by content) and write it to the attachments' storage.
    Too big → TooLarge, not an allowed type → UnsupportedMedia, empty → InvalidInput; then
    nothing is written. Written, it is removed again if the transaction rolls back."""
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
    session.info.setdefault("on_rollback_unlink", []).append(path)
    return KeptFile(
        filename=_safe_filename(filename),
        media_type=media_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_name=storage_name,
    )


def is_storage_name(name: str) -> bool:
    """A name `keep_file` could have given (40 hex digits): nothing else is opened."""
    return len(name) == 40 and all(c in "0123456789abcdef" for c in name)


async def add_attachment(
    session: AsyncSession, *, actor: Actor, case: Case, filename: str, data: bytes
) -> Attachment:
    """Store a file for a case. Too big → TooLarge, not an allowed type → UnsupportedMedia;
    in both cases nothing is written. A home care urgent case takes files only from those
    in charge of it (NotAllowed: take it first), as they alone read its files."""
    if not reads_medical(actor, channel=case.channel, assignee_id=case.assignee_id):
        raise NotAllowed(
            msg("Chỉ người phụ trách ca cấp cứu được đính kèm tệp: hãy nhận yêu cầu trước"),
            field="file",
        )
    kept = keep_file(session, filename=filename, data=data)
    path = site_of(session).attachments_dir / kept.storage_name
    media_type = kept.media_type
    attachment = Attachment(
        case_id=case.id,
        filename=kept.filename,
        media_type=kept.media_type,
        size=kept.size,
        sha256=kept.sha256,
        storage_name=kept.storage_name,
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
    return attachment


async def attach_kept(
    session: AsyncSession, *, actor: Actor, case: Case, kept: Sequence[dict[str, Any]]
) -> int:
    """Files kept earlier (`keep_file`, e.g. those of an e-mail) become the case's
    attachments, each once (a file already attached is skipped); how many were added."""
    names = [k["storage_name"] for k in kept if is_storage_name(str(k.get("storage_name")))]
    if not names:
        return 0
    known = set(
        (
            await session.scalars(
                select(Attachment.storage_name).where(Attachment.storage_name.in_(names))
            )
        ).all()
    )
    added = 0
    for k in kept:
        name = str(k.get("storage_name"))
        if name in known or not is_storage_name(name):
            continue
        known.add(name)
        session.add(
            Attachment(
                case_id=case.id,
                filename=str(k["filename"]),
                media_type=str(k["media_type"]),
                size=int(k["size"]),
                sha256=str(k["sha256"]),
                storage_name=name,
                uploaded_by_id=actor.user_id,
            )
        )
        added += 1
        await timeline.log(
            session,
            case,
            "attachment_added",
            actor,
            data={"filename": str(k["filename"]), "media_type": str(k["media_type"])},
        )
    await session.flush()
    return added


async def list_attachments(session: AsyncSession, case_id: int) -> list[Attachment]:
    return list(
        (
            await session.scalars(
                select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id)
            )
        ).all()
    )


async def attachments_shown(session: AsyncSession, actor: Actor, case: Case) -> list[Attachment]:
    """The case's files as this actor may see them: none of a home care urgent case to
    one who reads only its neutral line (a file may show how the patient is: it follows
    the case's medical text, cases/medical.py)."""
    if not reads_medical(actor, channel=case.channel, assignee_id=case.assignee_id):
        return []
    return await list_attachments(session, case.id)


async def get_attachment(
    session: AsyncSession, *, actor: Actor, case: Case, attachment_id: int
) -> tuple[Attachment, Path]:
    """A case's file for download. A photo or a letter is the reporter's personal data:
    the read is logged (against the reporter, or the case when it has none). A home care
    urgent case's file is NotFound to one who reads only its neutral line."""
    attachment = await session.get(Attachment, attachment_id)
    if (
        attachment is None
        or attachment.case_id != case.id
        or not reads_medical(actor, channel=case.channel, assignee_id=case.assignee_id)
    ):
        raise NotFound("Không tìm thấy tệp", field="attachment_id")
    await log_personal_read(
        session, actor=actor, contact_id=case.contact_id, case_id=case.id, purpose="attachment"
    )
    return attachment, site_of(session).attachments_dir / attachment.storage_name
