"""The line runs on the configuration in the database: loaded at start, reloaded on change
without touching calls in progress, uploaded prompts heard, recorded calls written to WAV."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import socket
import subprocess
import wave
from array import array
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hotline.auth.service import SYSTEM
from hotline.db import create_engine, make_sessionmaker
from hotline.phoneconfig import service, uploads
from hotline.phoneconfig.defaults import default_config
from hotline.recordings.models import CallRecording
from hotline.recordings.service import recordings_dir
from hotline.settings import Settings
from hotline.site import Site
from hotline.telephony.media.rtp import rtp_payload
from hotline.telephony.prompts import Prompt
from hotline.telephony.server import PhoneLine
from hotline.telephony.sip.sdp import PCMU
from tests.conftest import missing_tool
from tests.telephony.conftest import SCENARIOS, Line, free_udp_port, line_settings

pytestmark = pytest.mark.anyio
SWEEP = ("synth", "2", "sine", "300-1200", "gain", "-6")


async def configure(settings: Settings, kind: str, key: str, data: dict[str, Any]) -> None:
    """What an administrator's PUT does, through the same service."""
    engine = create_engine(settings.effective_database_url)
    try:
        sessionmaker = make_sessionmaker(engine, Site.from_settings(settings))
        async with sessionmaker() as session, session.begin():
            defaults = default_config(settings)
            _obj, version = await service.get_item(session, kind=kind, key=key, defaults=defaults)
            await service.put_item(
                session,
                actor=SYSTEM,
                kind=kind,
                key=key,
                data=data,
                version=version,
                defaults=defaults,
            )
    finally:
        await engine.dispose()


@pytest.fixture
def line_conf(settings: Settings, sipp_installed: None) -> Settings:
    return line_settings(settings, sip_config_poll_seconds=0.2)


@pytest.fixture
async def db_line(line_conf: Settings) -> AsyncIterator[Line]:
    """A line with no menu given in code: it reads the configuration from the database."""
    phone = PhoneLine(line_conf)
    ua = await phone.start()
    yield Line(phone, ua.port)
    await phone.stop()


async def test_fresh_install_line_behaves_as_the_built_in_menu(db_line: Line):
    result = await db_line.sipp("rfc4733_digit2_refer_cdc.xml")
    assert result.returncode == 0, result.output
    [call] = await db_line.calls()
    assert (call.branch, call.outcome.value if call.outcome else None) == (
        "cdc",
        "transferred_cdc",
    )


async def test_new_calls_get_a_changed_destination_calls_in_progress_keep_theirs(
    db_line: Line, line_conf: Settings
):
    switchboard = db_line.phone.switchboard
    assert switchboard is not None and switchboard.snapshot is not None
    before = switchboard.snapshot.version
    ua = db_line.phone.ua
    assert ua is not None
    # A call starts on the old menu and waits 2 s before pressing 2 ...
    in_progress = asyncio.ensure_future(db_line.sipp("pause_digit2_refer_cdc.xml"))
    for _ in range(100):
        if any(leg.answered for leg in ua.calls.values()):
            break
        await asyncio.sleep(0.05)
    # ... while an administrator moves "cdc" elsewhere; the line's poll picks it up.
    await configure(line_conf, "destination", "cdc", {"uri": "sip:cdc2@127.0.0.1:5999"})
    for _ in range(100):
        if switchboard.snapshot.version != before:
            break
        await asyncio.sleep(0.05)
    assert switchboard.snapshot.version != before
    old = await in_progress
    assert old.returncode == 0, old.output  # REFER to sip:cdc@: the menu it started with
    new = await db_line.sipp("rfc4733_digit2_refer_cdc2.xml")
    assert new.returncode == 0, new.output  # REFER to sip:cdc2@


@pytest.fixture
def sox() -> str:
    path = shutil.which("sox")
    if path is None:
        missing_tool("sox is not installed")
    return str(path)


async def upload_greeting(settings: Settings, wav: bytes) -> Path:
    engine = create_engine(settings.effective_database_url)
    try:
        sessionmaker = make_sessionmaker(engine, Site.from_settings(settings))
        async with sessionmaker() as session, session.begin():
            prompt, _version = await uploads.upload_prompt(
                session,
                actor=SYSTEM,
                name="greeting",
                data=wav,
                version=0,
                directory=uploads.uploads_dir(settings.var_dir),
                max_bytes=settings.prompt_upload_max_bytes,
                defaults=default_config(settings),
            )
    finally:
        await engine.dispose()
    assert prompt.upload is not None
    return uploads.uploads_dir(settings.var_dir) / prompt.upload.storage_name


class RtpSink(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.packets: list[bytes] = []

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.packets.append(data)


async def test_caller_hears_the_uploaded_wav_instead_of_the_synthesised_greeting(
    line_conf: Settings, sox: str, tmp_path: Path
):
    source = tmp_path / "studio.wav"
    subprocess.run(
        [sox, "-n", "-r", "44100", "-c", "2", "-b", "16", str(source), *SWEEP],
        check=True,
    )
    stored = await upload_greeting(line_conf, source.read_bytes())
    with wave.open(str(stored)) as w:
        expected = Prompt.from_pcm("greeting", w.readframes(w.getnframes())).frames[PCMU]

    phone = PhoneLine(line_conf)
    ua = await phone.start()
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        rtp_port = probe.getsockname()[1]
    transport, sink = await loop.create_datagram_endpoint(
        RtpSink, local_addr=("127.0.0.1", rtp_port)
    )
    try:
        result = await Line(phone, ua.port).sipp(
            "listen_to_prompt.xml", extra=("-key", "rtp_port", str(rtp_port))
        )
    finally:
        transport.close()
        await phone.stop()
    assert result.returncode == 0, result.output
    payloads = [p[2] for p in map(rtp_payload, sink.packets) if p is not None and p[0] == PCMU]
    assert len(payloads) > 100  # about 3 s of 20 ms frames
    # The first 50 frames of the uploaded audio, byte for byte and in order, in what arrived.
    head = list(expected[:50])
    starts = [i for i, p in enumerate(payloads) if p == head[0]]
    assert any(payloads[i : i + 50] == head for i in starts), "uploaded prompt not heard"


async def test_recorded_line_announces_and_writes_the_callers_audio_to_a_wav(
    line_conf: Settings, sipp_installed: None
):
    await configure(line_conf, "line", "1022", {"menu": "main", "record": True})
    phone = PhoneLine(line_conf)
    ua = await phone.start()
    line = Line(phone, ua.port)
    try:
        result = await line.sipp("talk_while_recorded.xml")
        assert result.returncode == 0, result.output
        [call] = await line.calls()
        assert phone.engine is not None
        async with make_sessionmaker(phone.engine, Site.from_settings(line_conf))() as session:
            recording = await session.scalar(
                select(CallRecording).where(CallRecording.call_id == call.id)
            )
    finally:
        await phone.stop()
    assert recording is not None
    path = recordings_dir(line_conf.var_dir) / recording.storage_name
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == recording.sha256
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 8000)
        seconds = w.getnframes() / 8000
        frames = array("h", w.readframes(w.getnframes()))
    assert 7.0 < seconds < 9.5, seconds  # the call lasted about 8 s after the answer
    assert recording.seconds == pytest.approx(seconds, abs=0.05)
    caller, heard = frames[0::2], frames[1::2]
    # The caller's channel holds the pcap's speech; the other the announcement and menu.
    assert sum(1 for s in caller if abs(s) > 500) > 8000
    assert sum(1 for s in heard if abs(s) > 500) > 8000


async def far_end(line: Line, port: int, media_port: int) -> tuple[int, str]:
    """sipp as the destination's phone: answers with A-law on `media_port`, awaits the BYE."""
    args = [
        *("sipp", f"127.0.0.1:{line.port}", "-sf", str(SCENARIOS / "operator_phone_answers.xml")),
        *("-m", "1", "-i", "127.0.0.1", "-p", str(port), "-mp", str(free_udp_port())),
        *("-s", "cdc", "-timeout", "25s", "-timeout_error", "-nostdin"),
        *("-key", "opport", str(media_port)),
    ]
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 40)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode("utf-8", "replace")[-3000:]


@pytest.mark.parametrize(
    ("refer", "scenario"),
    [(False, "digit2_bridged.xml"), (True, "digit2_refer_declined_bridged.xml")],
    ids=["configured-for-bridging", "refer-declined"],
)
async def test_destination_is_called_and_bridged_when_not_referred(
    line_conf: Settings, refer: bool, scenario: str
):
    """Configured for bridging, or reached by REFER that the caller's side declines: either
    way the line calls the destination itself and the call record stays ours."""
    far_port = free_udp_port()
    await configure(
        line_conf,
        "destination",
        "cdc",
        {"uri": f"sip:cdc@127.0.0.1:{far_port}", "refer": refer, "outcome": "transferred_cdc"},
    )
    phone = PhoneLine(line_conf)
    ua = await phone.start()
    line = Line(phone, ua.port)
    media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    media.bind(("127.0.0.1", 0))
    media.settimeout(0.2)
    received: list[bytes] = []

    def listen() -> None:
        for _ in range(400):
            try:
                received.append(media.recv(2048))
            except TimeoutError:
                if len(received) > 50:
                    return

    try:
        # The CDC's phone: sipp as UAS, answering with A-law on our socket.
        far = asyncio.create_task(far_end(line, far_port, media.getsockname()[1]))
        await asyncio.sleep(0.5)
        listener = asyncio.create_task(asyncio.to_thread(listen))
        result = await line.sipp(scenario)
        assert result.returncode == 0, result.output
        code, out = await far
        assert code == 0, out
        await listener
        [call] = await line.calls()
    finally:
        media.close()
        await phone.stop()
    assert (call.branch, call.outcome.value if call.outcome else None) == (
        "cdc",
        "transferred_cdc",
    )
    assert call.operator_id is None and call.answered_at is None
    # Talk time runs from the destination's answer (bridged for about 3 s) to the caller's BYE.
    assert call.talk_seconds >= 2
    assert (call.ended_by, call.release_cause) == ("caller", "caller_hangup")
    # The caller's A-law audio (the pcap) reached the destination through the line.
    assert len([p for p in received if len(p) > 12 and p[1] & 0x7F == 8]) > 50


async def test_recorded_queue_records_from_when_the_caller_joins_it(line_conf: Settings):
    # A one-word greeting played once, then the operator queue (no key pressed), recorded.
    await configure(line_conf, "prompt", "greeting", {"text": "một"})
    menu = {
        "options": [{"digit": "4", "queue": "operator"}],
        "repeats": 0,
        "digit_timeout": 0.3,
        "fallback_queue": "operator",
    }
    await configure(line_conf, "menu", "main", menu)
    await configure(line_conf, "queue", "operator", {"label": "Tổng đài viên", "record": True})
    phone = PhoneLine(line_conf)
    ua = await phone.start()
    line = Line(phone, ua.port)
    try:
        result = await line.sipp("talk_while_recorded.xml")
        assert result.returncode == 0, result.output
        [call] = await line.calls()
        assert phone.engine is not None
        async with make_sessionmaker(phone.engine, Site.from_settings(line_conf))() as session:
            recording = await session.scalar(
                select(CallRecording).where(CallRecording.call_id == call.id)
            )
    finally:
        await phone.stop()
    assert call.branch == "operator" and call.outcome is not None
    assert call.outcome.value == "abandoned_queue"
    assert recording is not None
    # Not from the answer: the greeting and the wait for a key come first.
    assert 4.0 < recording.seconds < 8.0, recording.seconds
