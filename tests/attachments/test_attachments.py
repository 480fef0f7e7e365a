"""Evidence files: typed by content, size-capped, stored under random names, served back."""

from __future__ import annotations

import hashlib
import io
import struct
import wave
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hotline.app import create_app
from hotline.attachments.models import Attachment
from tests.conftest import new_case_body

pytestmark = pytest.mark.anyio


def make_png(width: int = 4, height: int = 3) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def make_pdf() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def make_wav() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * 800)
    return buf.getvalue()


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200


async def _case(client: Any, world: Any) -> str:
    r = await client.post("/api/v1/cases", json=new_case_body(), headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    return str(r.json()["code"])


async def _attachment_rows(app: Any) -> int:
    async with app.state.hotline.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Attachment)) or 0)


def _stored_files(settings: Any) -> list[Path]:
    directory = settings.attachments_dir
    return sorted(directory.iterdir()) if directory.exists() else []


async def _upload(client: Any, world: Any, code: str, name: str, data: bytes, who="operator"):
    return await client.post(
        f"/api/v1/cases/{code}/attachments",
        files={"file": (name, data, "application/octet-stream")},
        headers=world.auth(who),
    )


@pytest.mark.parametrize(
    ("name", "data", "media_type", "disposition"),
    [
        ("ảnh hiện trường.png", make_png(), "image/png", "inline"),
        ("don-de-nghi.pdf", make_pdf(), "application/pdf", "attachment"),
        ("ghi-am.wav", make_wav(), None, "attachment"),
    ],
    ids=["png", "pdf", "wav"],
)
async def test_upload_stores_under_random_name_and_download_returns_same_bytes(
    client, world, app, settings, name, data, media_type, disposition
):
    code = await _case(client, world)
    r = await _upload(client, world, code, name, data)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["size"] == len(data)
    assert body["filename"] == name
    if media_type:
        assert body["media_type"] == media_type
    else:
        assert body["media_type"].startswith("audio/")

    files = _stored_files(settings)
    assert len(files) == 1
    assert files[0].read_bytes() == data
    assert files[0].parent.resolve() == (settings.var_dir / "attachments").resolve()
    assert Path(name).stem not in files[0].name
    assert Path(name).suffix not in files[0].name

    got = await client.get(
        f"/api/v1/cases/{code}/attachments/{body['id']}", headers=world.auth("operator")
    )
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-type"].startswith(body["media_type"])
    assert got.headers["content-disposition"].startswith(disposition)
    assert got.headers["x-content-type-options"] == "nosniff"

    detail = await client.get(f"/api/v1/cases/{code}", headers=world.auth("operator"))
    assert [a["sha256"] for a in detail.json()["attachments"]] == [body["sha256"]]


async def test_path_in_uploaded_filename_is_dropped(client, world, settings):
    code = await _case(client, world)
    r = await _upload(client, world, code, "../../etc/evil.png", make_png())
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == "evil.png"
    assert len(_stored_files(settings)) == 1


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("anh.jpg", "Đây không phải là ảnh, chỉ là chữ.\n".encode() * 20),
        ("anh.png", ELF),
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 200),
    ],
    ids=["text-as-jpg", "elf", "windows-exe"],
)
async def test_disallowed_content_is_415_and_nothing_stored(
    client, world, app, settings, name, data
):
    code = await _case(client, world)
    r = await _upload(client, world, code, name, data)
    assert r.status_code == 415, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "file"
    assert await _attachment_rows(app) == 0
    assert _stored_files(settings) == []


async def test_empty_file_is_422_and_nothing_stored(client, world, app, settings):
    code = await _case(client, world)
    r = await _upload(client, world, code, "empty.png", b"")
    assert r.status_code == 422
    assert await _attachment_rows(app) == 0
    assert _stored_files(settings) == []


@pytest.fixture
async def small_client(settings) -> Any:
    """A second app on the same database with a 1,000-byte attachment limit."""
    small = create_app(settings.model_copy(update={"attachment_max_bytes": 1000}))
    transport = httpx.ASGITransport(app=small)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
    await small.state.hotline.close()


async def test_oversize_file_is_413_and_nothing_stored(client, small_client, world, app, settings):
    code = await _case(client, world)
    png = make_png(64, 64)
    png += b"\x00" * max(0, 1001 - len(png))
    assert len(png) > 1000
    r = await _upload(small_client, world, code, "big.png", png)
    assert r.status_code == 413, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await _attachment_rows(app) == 0
    assert _stored_files(settings) == []

    ok = await _upload(small_client, world, code, "small.png", make_png())
    assert ok.status_code == 201, ok.text


async def test_officer_of_another_unit_cannot_upload_to_unseen_case(client, world, app, settings):
    code = await _case(client, world)
    r = await _upload(client, world, code, "anh.png", make_png(), who="outsider")
    assert r.status_code == 404
    assert await _attachment_rows(app) == 0
    assert _stored_files(settings) == []


async def test_attachment_of_another_case_is_404(client, world):
    first = await _case(client, world)
    second = await _case(client, world)
    r = await _upload(client, world, first, "anh.png", make_png())
    assert r.status_code == 201
    got = await client.get(
        f"/api/v1/cases/{second}/attachments/{r.json()['id']}", headers=world.auth("operator")
    )
    assert got.status_code == 404
