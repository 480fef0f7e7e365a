"""A prompt's recording from its page: a WAV uploaded with the API's checks, listened to
through an authenticated route, removed again; refusals next to the file field."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.admin.helpers import csrf_of, page_client
from tests.phoneconfig.test_pages import error_of
from tests.phoneconfig.test_uploads import make_wav, sox, stored_files

pytestmark = pytest.mark.anyio
PAGE = "/admin/phone/prompts/greeting"
__all__ = ["sox"]  # the fixture, used by name


async def upload(client, data: bytes, *, version: str | None = None, name: str = "loi-chao.wav"):
    shown = await client.get(PAGE if version is None else "/admin")
    if version is None:
        version = re.search(r'name="version" value="(\d+)"', shown.text).group(1)
    return await client.post(
        f"{PAGE}/upload",
        data={"csrf": csrf_of(shown.text), "version": version},
        files={"file": (name, data, "audio/wav")},
    )


async def test_an_admin_uploads_listens_to_and_removes_a_recording(
    app, client, world, settings, sox, tmp_path
):
    admin = await page_client(app, "admin")
    page = await admin.get(PAGE)
    assert 'id="no-recording"' in page.text and "<audio" not in page.text

    # 1.7 MB: past the 1 MB cap of an ordinary form, within the prompts' (web/guard.py).
    data = make_wav(sox, tmp_path / "loi-chao.wav", seconds=10)
    assert len(data) > app.state.hotline.settings.request_max_bytes
    r = await upload(admin, data)
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?done=uploaded"
    [stored] = stored_files(settings)
    page = await admin.get(r.headers["location"])
    assert f'<audio controls preload="metadata" id="listen" src="{PAGE}/audio?v=1">' in page.text
    history = re.search(r'id="history">.*?</table>', page.text, re.S).group(0)
    assert re.search(r"\d\d:\d\d · admin</td><td>Đã tải lên bản ghi âm</td>", history)

    heard = await admin.get(f"{PAGE}/audio?v=1")
    assert heard.status_code == 200
    assert heard.headers["content-type"] == "audio/wav"
    assert heard.headers["content-disposition"].startswith("attachment")
    assert heard.headers["x-content-type-options"] == "nosniff"
    assert hashlib.sha256(heard.content).digest() == hashlib.sha256(stored.read_bytes()).digest()
    # Only administrators, and only signed in.
    operator = await page_client(app, "operator")
    assert (await operator.get(f"{PAGE}/audio")).status_code == 403
    r = await client.get(f"{PAGE}/audio", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"

    shown = await admin.get(PAGE)
    r = await admin.post(f"{PAGE}/unupload", data={"csrf": csrf_of(shown.text), "version": "1"})
    assert r.status_code == 303
    page = await admin.get(r.headers["location"])
    assert "Đã bỏ bản ghi âm; tổng đài trở lại giọng đọc máy." in page.text
    assert 'id="no-recording"' in page.text
    assert (await admin.get(f"{PAGE}/audio")).status_code == 404


async def test_uploads_are_refused_next_to_the_file_field(app, world, settings, sox, tmp_path):
    admin = await page_client(app, "admin")
    r = await upload(admin, b"RIFF\x00\x00\x00\x00MP3 pretending", name="loi-chao.wav")
    assert r.status_code == 415 and "Chỉ nhận tệp WAV" in error_of(r.text, "file")
    # 25 bytes with a RIFF/WAVE header and junk after it: Python's wave raises RuntimeError.
    r = await upload(admin, b"RIFF$\x00\x00\x00WAVE" + b"junkjunkjunkj")
    assert r.status_code == 415 and error_of(r.text, "file") == "Không đọc được tệp WAV"
    r = await upload(admin, b"", name="")  # the form sent without choosing a file
    assert r.status_code == 422 and error_of(r.text, "file") == "Chọn một tệp WAV"
    # A version someone else has moved on from: said at the top, nothing kept.
    r = await upload(admin, make_wav(sox, tmp_path / "a.wav"), version="3")
    assert r.status_code == 409
    alert = re.search(r'id="form-error">(.*?)</div>', r.text, re.S).group(1)
    assert "Cấu hình đã được người khác sửa" in alert and "Tải lại trang" in alert
    assert stored_files(settings) == []
    supervisor = await page_client(app, "supervisor")
    r = await upload(supervisor, make_wav(sox, tmp_path / "b.wav"), version="0")
    assert r.status_code == 403 and stored_files(settings) == []
