"""Serving a file kept in the attachments' storage (channels' e-mail files): the same rule
as a case's attachments, inline only when an image, never sniffed by the browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import FileResponse

from hotline.attachments.service import IMAGE_TYPES, is_storage_name
from hotline.errors import NotFound
from hotline.messages import msg


def kept_file_response(directory: Path, kept: dict[str, Any]) -> FileResponse:
    """The response for a kept file's description (its `storage_name`, `media_type`,
    `filename`); NotFound for a name the storage never gave."""
    name = str(kept.get("storage_name", ""))
    if not is_storage_name(name) or not (directory / name).is_file():
        raise NotFound(msg("Không tìm thấy tệp"), field="file")
    media_type = str(kept.get("media_type") or "application/octet-stream")
    return FileResponse(
        directory / name,
        media_type=media_type,
        filename=str(kept.get("filename") or "tep-dinh-kem"),
        content_disposition_type="inline" if media_type in IMAGE_TYPES else "attachment",
        headers={"X-Content-Type-Options": "nosniff"},
    )
