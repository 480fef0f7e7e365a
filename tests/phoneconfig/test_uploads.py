"""Uploaded WAV prompts: checked by content, size-capped, sox-converted, nothing kept on error."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import wave
from pathlib import Path

import pytest

from hotline.phoneconfig.uploads import uploads_dir
from tests.conftest import missing_tool

pytestmark = pytest.mark.anyio
API = "/api/v1/phone"


@pytest.fixture
def sox() -> str:
    path = shutil.which("sox")
    if path is None:
        missing_tool("sox is not installed")
    return str(path)


def make_wav(sox: str, path: Path, *, seconds: float = 1.0, rate: int = 44100) -> bytes:
    """A real recording stand-in: a 44.1 kHz stereo tone sweep, as a studio would deliver."""
    subprocess.run(
        [
            sox,
            "-n",
            "-r",
            str(rate),
            "-c",
            "2",
            "-b",
            "16",
            str(path),
            "synth",
            str(seconds),
            "sine",
            "300-900",
        ],
        check=True,
    )
    return path.read_bytes()


def stored_files(settings) -> list[Path]:
    d = uploads_dir(settings.var_dir)
    return sorted(d.iterdir()) if d.exists() else []


async def test_admin_uploads_a_wav_that_replaces_the_synthesised_prompt(
    client, world, settings, sox, tmp_path
):
    admin = world.auth("admin")
    data = make_wav(sox, tmp_path / "greeting.wav", seconds=1.5)
    r = await client.put(
        f"{API}/prompts/greeting",
        files={"file": ("loi-chao.wav", data, "audio/wav")},
        data={"version": "0"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    upload = r.json()["data"]["upload"]
    assert r.json()["version"] == 1
    assert upload["seconds"] == pytest.approx(1.5, abs=0.05)
    [stored] = stored_files(settings)
    assert stored.name == upload["storage_name"]
    assert "loi-chao" not in stored.name  # a random name, never the uploader's
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == upload["sha256"]
    with wave.open(str(stored)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
    # The text stays, for when the upload is removed again.
    config = (await client.get(API, headers=admin)).json()
    greeting = next(p for p in config["prompts"] if p["key"] == "greeting")
    assert greeting["data"]["text"].startswith("Tổng đài 1022")

    r = await client.delete(f"{API}/prompts/greeting", params={"version": 1}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["upload"] is None
    changes = (await client.get(f"{API}/changes", headers=admin)).json()
    assert [c["action"] for c in changes[:2]] == ["unupload", "upload"]


async def test_not_a_wav_is_415_and_nothing_is_stored(client, world, settings):
    r = await client.put(
        f"{API}/prompts/greeting",
        files={"file": ("greeting.wav", b"ID3\x03\x00 not really a wav" * 50, "audio/wav")},
        data={"version": "0"},
        headers=world.auth("admin"),
    )
    assert r.status_code == 415
    assert r.json()["field"] == "file"
    assert stored_files(settings) == []


async def test_compressed_wav_is_415(client, world, settings, sox, tmp_path):
    path = tmp_path / "alaw.wav"
    subprocess.run(
        [
            sox,
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-e",
            "a-law",
            str(path),
            "synth",
            "0.5",
            "sine",
            "440",
        ],
        check=True,
    )
    r = await client.put(
        f"{API}/prompts/greeting",
        files={"file": ("alaw.wav", path.read_bytes(), "audio/wav")},
        data={"version": "0"},
        headers=world.auth("admin"),
    )
    assert r.status_code == 415, r.text
    assert stored_files(settings) == []


async def test_too_big_is_413_and_nothing_is_stored(client, world, app, settings, sox, tmp_path):
    app.state.hotline.settings = settings.model_copy(update={"prompt_upload_max_bytes": 10_000})
    data = make_wav(sox, tmp_path / "long.wav", seconds=1.0)
    r = await client.put(
        f"{API}/prompts/greeting",
        files={"file": ("long.wav", data, "audio/wav")},
        data={"version": "0"},
        headers=world.auth("admin"),
    )
    assert r.status_code == 413
    assert stored_files(settings) == []


async def test_stale_version_on_upload_is_409_and_the_file_is_removed(
    client, world, settings, sox, tmp_path
):
    admin = world.auth("admin")
    r = await client.put(
        f"{API}/prompts/greeting/text", json={"version": 0, "text": "Xin chào."}, headers=admin
    )
    assert r.status_code == 200
    r = await client.put(
        f"{API}/prompts/greeting",
        files={"file": ("a.wav", make_wav(sox, tmp_path / "a.wav"), "audio/wav")},
        data={"version": "0"},
        headers=admin,
    )
    assert r.status_code == 409
    assert stored_files(settings) == []


async def test_non_admin_cannot_upload(client, world, settings, sox, tmp_path):
    r = await client.put(
        f"{API}/prompts/greeting",
        files={"file": ("a.wav", make_wav(sox, tmp_path / "a.wav"), "audio/wav")},
        data={"version": "0"},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 403
    assert stored_files(settings) == []


# Headers Python's wave module chokes on with other errors than wave.Error: a chunk that
# ends early (RuntimeError, EOFError), a format chunk too short (struct.error), junk.
BROKEN_WAVS = [
    b"RIFF$\x00\x00\x00WAVE" + b"junkjunkjunkj",
    b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00",
    b"RIFF$\x00\x00\x00WAVEfmt \x02\x00\x00\x00ab",
    b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00"
    + b"\x00" * 14
    + b"data\x04\x00\x00\x00abcd",
    b"RIFF$\x00\x00\x00WAVEdata\xff\xff\xff\xff",
]


@pytest.mark.parametrize("data", BROKEN_WAVS)
async def test_an_unreadable_wav_is_415_naming_the_file(client, world, settings, data):
    r = await client.put(
        f"{API}/prompts/greeting",
        files={"file": ("greeting.wav", data, "audio/wav")},
        data={"version": "0"},
        headers=world.auth("admin"),
    )
    assert r.status_code == 415, r.text
    assert r.json()["field"] == "file"
    assert r.json()["detail"] == "Không đọc được tệp WAV"
    assert stored_files(settings) == []
