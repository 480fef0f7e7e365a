"""Recorded WAV prompts: checked by content, converted by sox, stored outside the web root."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import secrets
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Actor
from hotline.db import utcnow
from hotline.errors import DomainError, InvalidInput, NotFound, TooLarge, UnsupportedMedia
from hotline.messages import msg
from hotline.phoneconfig import service
from hotline.phoneconfig.schemas import PhoneConfig, PromptText, Upload

MAX_SECONDS = 180.0
# The same pipeline as the synthesised prompts (prompts.py): 8 kHz mono 16-bit, telephone band.
SOX_OUT = ["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "wav"]


class ConversionFailed(DomainError):
    status = 503
    title = msg("Không chuyển đổi được âm thanh")


def uploads_dir(var_dir: Path) -> Path:
    return var_dir / "prompts" / "uploads"


def check_wav(data: bytes, *, max_bytes: int) -> float:
    """The seconds of a PCM WAV; 413 if too big, 415 if not a RIFF/WAVE PCM file."""
    if len(data) > max_bytes:
        raise TooLarge(
            msg("Tệp vượt quá {limit_mb:g} MB", limit_mb=max_bytes / 1024 / 1024), field="file"
        )
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise UnsupportedMedia("Chỉ nhận tệp WAV (RIFF/WAVE, PCM)", field="file")
    try:
        with wave.open(io.BytesIO(data)) as w:  # refuses anything but PCM (format 1)
            frames, rate = w.getnframes(), w.getframerate()
    except wave.Error as exc:
        if str(exc).startswith("unknown format"):
            raise UnsupportedMedia("Tệp WAV phải là PCM không nén", field="file") from None
        raise UnsupportedMedia("Không đọc được tệp WAV", field="file") from None
    except Exception:  # a malformed header: RuntimeError, EOFError, struct.error, ...
        raise UnsupportedMedia("Không đọc được tệp WAV", field="file") from None
    if rate <= 0 or frames <= 0:
        raise InvalidInput("Tệp WAV không có âm thanh", field="file")
    seconds = frames / rate
    if seconds > MAX_SECONDS:
        raise InvalidInput(
            msg("Lời nhắc dài quá {max_seconds:g} giây", max_seconds=MAX_SECONDS), field="file"
        )
    return seconds


def convert(data: bytes) -> bytes:
    """8 kHz mono 16-bit WAV, band-limited 100–3400 Hz, as the line plays it."""
    sox = shutil.which("sox")
    if sox is None:
        raise ConversionFailed("Máy chủ thiếu sox để chuyển đổi âm thanh", field="file")
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.wav", Path(tmp) / "out.wav"
        src.write_bytes(data)
        try:
            subprocess.run(
                [sox, "-t", "wav", str(src), *SOX_OUT, str(out), "sinc", "100-3400"],
                check=True,
                timeout=60,
                capture_output=True,
            )
        except (subprocess.SubprocessError, OSError):
            raise UnsupportedMedia("Không đọc được tệp WAV", field="file") from None
        return out.read_bytes()


async def upload_prompt(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str,
    data: bytes,
    version: int,
    directory: Path,
    max_bytes: int,
    defaults: PhoneConfig,
) -> tuple[PromptText, int]:
    """Store a recorded prompt heard instead of the synthesised one; nothing is kept on error."""
    service.require_configurer(actor)
    current, _ = await service.get_item(session, kind="prompt", key=name, defaults=defaults)
    check_wav(data, max_bytes=max_bytes)
    converted = await asyncio.to_thread(convert, data)
    seconds = check_wav(converted, max_bytes=max(max_bytes, len(converted)))
    storage_name = secrets.token_hex(20) + ".wav"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / storage_name
    tmp = path.with_suffix(".part")
    tmp.write_bytes(converted)
    os.replace(tmp, path)
    session.info.setdefault("on_rollback_unlink", []).append(path)
    assert isinstance(current, PromptText)
    upload = Upload(
        storage_name=storage_name,
        sha256=hashlib.sha256(converted).hexdigest(),
        size=len(converted),
        seconds=round(seconds, 3),
        uploaded_at=utcnow(),
    )
    obj, new_version = await service.put_item(
        session,
        actor=actor,
        kind="prompt",
        key=name,
        data={"text": current.text, "upload": upload.model_dump(mode="json")},
        version=version,
        defaults=defaults,
        action="upload",
    )
    assert isinstance(obj, PromptText)
    return obj, new_version


async def remove_upload(
    session: AsyncSession, *, actor: Actor, name: str, version: int, defaults: PhoneConfig
) -> tuple[PromptText, int]:
    """Back to the synthesised text. The file stays: the audit trail names it by SHA-256."""
    service.require_configurer(actor)
    current, _ = await service.get_item(session, kind="prompt", key=name, defaults=defaults)
    assert isinstance(current, PromptText)
    obj, new_version = await service.put_item(
        session,
        actor=actor,
        kind="prompt",
        key=name,
        data={"text": current.text, "upload": None},
        version=version,
        defaults=defaults,
        action="unupload",
    )
    assert isinstance(obj, PromptText)
    return obj, new_version


async def set_prompt_text(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str,
    text: str,
    version: int,
    defaults: PhoneConfig,
    new: bool = False,
) -> tuple[PromptText, int]:
    """Change a prompt's words (a new prompt if the name is new; `new`: only a new one); an
    upload stays in force."""
    service.require_configurer(actor)
    loaded = await service.load_config(session, defaults=defaults)
    upload = next((p.upload for p in loaded.config.prompts if p.name == name), None)
    obj, new_version = await service.put_item(
        session,
        actor=actor,
        kind="prompt",
        key=name,
        data={"text": text, "upload": upload.model_dump(mode="json") if upload else None},
        version=version,
        defaults=defaults,
        new=new,
    )
    assert isinstance(obj, PromptText)
    return obj, new_version


async def prompt_recording(
    session: AsyncSession, *, actor: Actor, name: str, directory: Path, defaults: PhoneConfig
) -> tuple[Upload, Path]:
    """The recorded WAV a prompt plays, for an administrator to listen to (NotFound naming
    `name` when the prompt plays its synthesised text)."""
    service.require_configurer(actor)
    prompt, _ = await service.get_item(session, kind="prompt", key=name, defaults=defaults)
    assert isinstance(prompt, PromptText)
    if prompt.upload is None:
        raise NotFound("Lời nhắc này chưa có bản ghi âm tải lên", field="name")
    path = directory / prompt.upload.storage_name
    if not path.is_file():
        raise NotFound("Không tìm thấy tệp ghi âm của lời nhắc", field="name")
    return prompt.upload, path
