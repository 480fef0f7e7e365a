"""Downloading a call's recording: supervisors and administrators only, logged as a read."""

from __future__ import annotations

import hashlib
import wave
from array import array

import pytest
from sqlalchemy import select

from hotline.calls.service import NewCall, record_call
from hotline.contacts.models import PersonalDataRead
from hotline.contacts.service import find_or_create_by_phone
from hotline.db import utcnow
from hotline.recordings.service import RecordedFile, add_recording, recordings_dir
from hotline.telephony.recording import CallAudio
from hotline.telephony.sip.sdp import PCMA, PCMU

pytestmark = pytest.mark.anyio


async def recorded_call(app, settings) -> int:
    """A call with a recording written the way the line writes it."""
    now = [0.0]
    audio = CallAudio(max_seconds=60, clock=lambda: now[0])
    for i in range(100):  # 2 s: the caller speaks, the line plays
        now[0] = i * 0.02
        audio.said(PCMU, bytes([0x10]) * 160)
        audio.heard(bytes([0x80, PCMA, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9]) + bytes([0x2A]) * 160)
    recorded = audio.write(recordings_dir(settings.var_dir))
    assert isinstance(recorded, RecordedFile)
    async with app.state.hotline.unit_of_work() as session:
        await find_or_create_by_phone(session, phone="0912345678", name="Nguyễn Văn An")
        call = await record_call(
            session,
            data=NewCall(line="1022", caller="0912345678", started_at=utcnow(), ended_at=utcnow()),
        )
        await add_recording(session, call_id=call.id, recorded=recorded)
        return call.id


@pytest.mark.parametrize("who", ["supervisor", "admin"])
async def test_supervisor_downloads_the_recording_as_an_attachment(
    client, world, app, settings, who
):
    call_id = await recorded_call(app, settings)
    r = await client.get(f"/api/v1/calls/{call_id}/recording", headers=world.auth(who))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.headers["x-content-sha256"] == hashlib.sha256(r.content).hexdigest()
    path = settings.var_dir / "recording.wav"
    path.write_bytes(r.content)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getframerate()) == (2, 8000)
        assert w.getnframes() == pytest.approx(16000, abs=320)
        samples = array("h", w.readframes(w.getnframes()))
    assert max(abs(s) for s in samples[0::2]) > 0 and max(abs(s) for s in samples[1::2]) > 0
    async with app.state.hotline.unit_of_work() as session:
        reads = (await session.scalars(select(PersonalDataRead))).all()
    assert [r.purpose for r in reads] == ["call_recording"]


@pytest.mark.parametrize("who", ["operator", "officer", "doctor"])
async def test_others_get_404_and_nothing_is_logged(client, world, app, settings, who):
    call_id = await recorded_call(app, settings)
    r = await client.get(f"/api/v1/calls/{call_id}/recording", headers=world.auth(who))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    async with app.state.hotline.unit_of_work() as session:
        assert (await session.scalars(select(PersonalDataRead))).all() == []


async def test_call_without_recording_is_404(client, world, app):
    async with app.state.hotline.unit_of_work() as session:
        call = await record_call(
            session, data=NewCall(line="1022", caller="0912345678", started_at=utcnow())
        )
    r = await client.get(f"/api/v1/calls/{call.id}/recording", headers=world.auth("supervisor"))
    assert r.status_code == 404
