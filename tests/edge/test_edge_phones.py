"""Operators' phones from anywhere: a softphone (baresip) registers with the line through the
edge over TLS; the line keeps the edge's Path, and when a caller reaches the operator queue it
rings the phone through the edge, on the phone's own TLS connection, with the media anchored
by rtpengine. What each side hears is checked by its spectrum, as in the phone line's own
baresip test."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from hotline.settings import Settings
from hotline.telephony.media.g711 import decode
from tests.edge.topology import EDGE_HOST, Edge, require_tools, running_edge
from tests.telephony.conftest import web_feed
from tests.telephony.test_acd import PASSWORD, add_operator
from tests.telephony.test_baresip import (
    CALLER_HZ,
    PHONE_HZ,
    RATE,
    Caller,
    _free_udp_and_tcp_port,
    _set_available,
    poll,
    read_wav,
    sine_pcm,
    spectrum_peak,
    start_baresip,
    stop_baresip,
    write_wav,
)
from tests.telephony.test_door_guard import Peer

pytestmark = pytest.mark.anyio
MODULES = "/usr/lib/baresip/modules"


def phone_config(directory: Path, *, edge: Edge, user: str) -> None:
    """A headless operator's phone whose only way in is the edge's TLS port (`outbound`):
    aufile plays a tone as its microphone, sndfile writes what it hears, auto-answer. A
    plain phone: baresip lists no `path` in Supported, as many desk phones do not, and
    the line must still ring it through the edge's Path."""
    (directory / "dump").mkdir(parents=True)
    write_wav(directory / "mic.wav", sine_pcm(PHONE_HZ, 30))
    sip_port = _free_udp_and_tcp_port()
    (directory / "config").write_text(
        f"sip_listen 127.0.0.1:{sip_port}\n"
        f"audio_source aufile,{directory / 'mic.wav'}\naudio_player aubridge,nowhere\n"
        "audio_alert aubridge,nowhere\n"
        f"module_path {MODULES}\n"
        "module g711.so\nmodule aufile.so\nmodule aubridge.so\nmodule sndfile.so\n"
        "module_tmp account.so\nmodule_app menu.so\n"
        f"snd_path {directory / 'dump'}\n"
    )
    outbound = f"sip:{EDGE_HOST}:{edge.tls_port};transport=tls"
    (directory / "accounts").write_text(
        f'<sip:{user}@{EDGE_HOST}>;auth_pass={PASSWORD};outbound="{outbound}";regint=60;'
        "answermode=auto;audio_codecs=PCMA,PCMU\n"
    )
    (directory / "contacts").write_text("")


async def test_a_phone_registered_through_the_edge_over_tls_is_rung_through_it(
    settings: Settings, tmp_path: Path
) -> None:
    require_tools(("baresip", "baresip-core"))
    conf = settings.model_copy(update={"sip_agent_poll_seconds": 0.2})
    async with running_edge(conf, tmp_path / "edge") as edge:
        user_id = await add_operator(settings, available=False)
        ua = edge.line.phone.ua
        assert ua is not None
        await poll(lambda: "op1" in ua.credentials, 5, "the line's poll loads op1's SIP login")
        directory = tmp_path / "phone"
        phone_config(directory, edge=edge, user="op1")
        phone = await start_baresip(directory)
        caller = Caller(edge.line.port)
        talking: asyncio.Future[None] | None = None
        try:
            await poll(
                lambda: ua.registrar.lookup("op1") or phone.process.returncode is not None,
                15,
                "baresip registers through the edge",
            )
            assert phone.process.returncode is None, phone.log.read_text()
            binding = ua.registrar.lookup("op1")
            assert binding is not None
            # Received from the edge, with the edge's Path naming the phone's TLS connection.
            assert binding.source[0] == EDGE_HOST, binding
            [path] = binding.path
            assert path.startswith(f"<sip:{EDGE_HOST}:{edge.lines_port};lr;received=") and (
                "tls" in path.lower()
            ), path
            await _set_available(settings, user_id)

            caller.invite()
            ok = await asyncio.to_thread(caller.wait_for, lambda m: m.status == 200, 5)
            caller.to_tag = f";tag={ok.to_addr.tag}"
            caller.request("ACK", 1)
            answer = ok.body.decode()
            caller.media = ("127.0.0.1", int(answer.split("m=audio ")[1].split()[0]))
            talking = asyncio.ensure_future(
                asyncio.to_thread(caller.talk, sine_pcm(CALLER_HZ, 1.0))
            )
            async with web_feed(settings) as bus, bus.subscribe() as events:
                # Key 4: the operator queue; the line rings the phone through the edge.
                caller.request("INFO", 2, "Signal=4\r\nDuration=160\r\n", "application/dtmf-relay")
                async with asyncio.timeout(10):
                    while (event := await events.get()).kind != "call.answered":
                        pass
            answered = time.monotonic()
            assert event.data["operator_id"] == user_id
            await asyncio.sleep(2.5)  # the conversation
            caller.request("BYE", 3)
            await asyncio.to_thread(caller.wait_for, lambda m: m.cseq == (3, "BYE"), 5)
            [call] = await edge.line.calls()
            logged = edge.kamailio_log
        finally:
            caller.stop_talking()
            if talking is not None:
                with contextlib.suppress(Exception):
                    await talking
            caller.close()
            await stop_baresip(phone)

    assert call.outcome is not None and call.outcome.value == "answered", call
    assert call.operator_id == user_id
    assert f"edge: phone sip:op1@{EDGE_HOST} registers from 127.0.0.1 over tls" in logged, logged
    assert "edge: line 127.0.0.1 calls sip:op1" in logged, logged

    # The phone's tone reached the caller (through rtpengine and the line's bridge)...
    bridged = b"".join(
        p[12:] for t, p in caller.heard if t > answered + 0.3 and len(p) > 12 and p[1] & 0x7F == 8
    )
    assert len(bridged) >= RATE, "less than a second of the phone's audio reached the caller"
    hz, share = spectrum_peak(decode(bridged[-RATE:], 8))
    assert abs(hz - PHONE_HZ) <= 10 and share > 0.8, (hz, share)
    # ... and the caller's tone reached the phone.
    [recording] = sorted((directory / "dump").glob("*-dec.wav"))
    pcm = read_wav(recording)
    hz, share = spectrum_peak(pcm[RATE : 3 * RATE])
    assert abs(hz - CALLER_HZ) <= 10 and share > 0.8, (hz, share)


async def test_a_path_the_phone_wrote_itself_is_dropped_at_the_edge(
    settings: Settings, tmp_path: Path
) -> None:
    """Else the line's calls to that phone would be routed on from the edge to wherever the
    phone named (an open relay for INVITEs carrying callers' numbers)."""
    require_tools()
    conf = settings.model_copy(update={"sip_agent_poll_seconds": 0.2})
    async with running_edge(conf, tmp_path / "edge") as edge:
        await add_operator(settings, available=False)
        ua = edge.line.phone.ua
        assert ua is not None
        await poll(lambda: "op1" in ua.credentials, 5, "the line's poll loads op1's SIP login")
        phone = Peer(0)
        phone.server = (EDGE_HOST, edge.sip_port)
        try:
            extra = "Supported: path\r\nPath: <sip:198.51.100.9:5060;lr>\r\n"
            status = await asyncio.to_thread(phone.register, "op1", PASSWORD, extra)
        finally:
            phone.close()
        binding = ua.registrar.lookup("op1")
    assert status == 200
    assert binding is not None and len(binding.path) == 1, binding
    assert binding.path[0].startswith(
        f"<sip:{EDGE_HOST}:{edge.lines_port};lr;received=sip:127.0.0.1:"
    )


async def test_the_edge_relays_a_dialogs_requests_from_outside_only_to_a_line(
    settings: Settings, tmp_path: Path
) -> None:
    """A To-tag and a Route naming the edge are easy to write: from outside they must not
    make the edge relay a request anywhere but to a line, nor carry a REGISTER to a line
    with headers the edge did not write."""
    require_tools()
    async with running_edge(settings, tmp_path / "edge") as edge:
        outsider = Peer(0)
        outsider.server = (EDGE_HOST, edge.sip_port)
        route = f"Route: <sip:{EDGE_HOST}:{edge.sip_port};lr>\r\n"
        try:
            answers = []
            for method, target in (
                ("BYE", "sip:19001234@198.51.100.9:5060"),
                ("INVITE", "sip:19001234@198.51.100.9:5060"),
                ("REGISTER", f"sip:127.0.0.1:{edge.line.port}"),
            ):
                text = outsider.request(
                    method, call_id=f"relay-{method}", from_tag="a", to_tag="b", extra=route
                ).replace(f"{method} sip:1022@{EDGE_HOST}:{edge.sip_port} ", f"{method} {target} ")
                outsider.send(text)
                reply = await asyncio.to_thread(outsider.recv, 5, lambda m: m.status >= 200)
                answers.append((method, reply.status))
        finally:
            outsider.close()
        logged = edge.kamailio_log
    assert answers == [("BYE", 403), ("INVITE", 403), ("REGISTER", 403)], answers
    assert "toward sip:198.51.100.9:5060 refused: not a line" in logged, logged
