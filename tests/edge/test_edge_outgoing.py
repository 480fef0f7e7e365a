"""The line's own calls leave through the edge (HOTLINE_SIP_OUTBOUND_PROXY): when 115 refuses
the REFER, the line calls 115 itself, and 115 (sipp, outside) receives that INVITE from the
edge, the line's Call-ID masked by topoh and its address nowhere in the headers; 115 answers
and the caller is put through."""

from __future__ import annotations

import asyncio
import base64
import re
from pathlib import Path

import pytest

from hotline.settings import Settings
from hotline.telephony.sip.message import Message, parse, parse_address
from hotline.telephony.sip.route import outside
from tests.edge.peers import FarEnd, place_call
from tests.edge.test_edge_neutral import received, self_naming
from tests.edge.topology import EDGE_HOST, free_port_pair, require_tools, running_edge
from tests.telephony.conftest import free_udp_port
from tests.telephony.test_transfer_fallback import peer_115

pytestmark = pytest.mark.anyio


def first_message(log: Path, start: str) -> str:
    """The first message in sipp's trace whose first line starts with `start`."""
    text = log.read_text(errors="replace")
    at = text.index(f"\n{start}")
    end = text.find("\n\n", at + 1)
    return text[at + 1 : end if end > 0 else None]


async def test_the_lines_call_to_115_leaves_through_the_edge(
    settings: Settings, tmp_path: Path, sipp_installed: None
) -> None:
    require_tools()
    sip_port, far_port = free_port_pair(EDGE_HOST), free_udp_port()
    lines_port = free_udp_port(EDGE_HOST)
    conf = settings.model_copy(update={"sip_outbound_proxy": f"sip:{EDGE_HOST}:{lines_port}"})
    far_log, caller_log = tmp_path / "115.log", tmp_path / "caller.log"
    # The menu's 115: REFER first (refused by the caller's side), then the line calls it.
    line_conf = {"sip_transfer_115": f"sip:115@127.0.0.1:{far_port}"}
    async with running_edge(
        conf, tmp_path / "edge", sip_port=sip_port, lines_port=lines_port, line=line_conf
    ) as edge:
        line = edge.line
        far = asyncio.create_task(peer_115(line, far_port, "operator_phone_answers.xml", far_log))
        await asyncio.sleep(0.5)  # 115 listens before the caller dials
        extra = ("-d", "2500", "-trace_msg", "-message_file", str(caller_log))
        result = await line.sipp("info_digit1_refer_declined.xml", extra=extra)
        assert result.returncode == 0, result.output + edge.logs()
        code, out = await far
        assert code == 0, out + edge.logs()
        [call] = await line.calls()
        logged = edge.kamailio_log

    assert call.outcome is not None and call.outcome.value == "transferred_115", call
    invite = first_message(far_log, "INVITE sip:115@")
    # From the edge: its Via on top, the line's Via masked, no Route left for 115.
    vias = [h for h in invite.splitlines() if h.lower().startswith("via:")]
    assert vias[0].split()[1].startswith("SIP/2.0/UDP") and f"{EDGE_HOST}:{sip_port}" in vias[0]
    assert f":{line.port}" not in invite, invite  # the line's port nowhere
    assert "Route:" not in invite.split("\n\n")[0].replace("Record-Route:", "")
    from_ = next(h for h in invite.splitlines() if h.lower().startswith("from:"))
    assert "@hotline1022.invalid>" in from_, from_  # the caller ID kept, the host the edge's
    call_id = next(h for h in invite.splitlines() if h.lower().startswith("call-id:"))
    assert "@hotline" not in call_id, call_id  # masked by topoh
    assert f"edge: line 127.0.0.1 calls sip:115@127.0.0.1:{far_port}" in logged, logged
    # Nothing 115 received through the edge names the product or the line.
    for message in received(far_log):
        assert self_naming(message) == [], message
        assert f":{line.port}" not in message, message


def xor(data: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % len(key)] for i, b in enumerate(data)) if key else data


def readings(token: str, known: bytes, key: bytes) -> list[bytes]:
    """What `token` reads as to someone trying base64 (either alphabet, any padding) and XOR
    with the edge's key and with the From they were sent (uac's encoding of the original
    in a Record-Route parameter: old XOR new XOR key, in base64). The key is more than an
    outsider has: nothing must come out even with it."""
    found = []
    for text in {token, token.replace("-", "+").replace("_", "/"), token.replace("-", "=")}:
        text = text.rstrip("=")
        try:
            raw = base64.b64decode(text + "=" * (-len(text) % 4))
        except ValueError:
            continue
        for first in (b"", key, known):
            for second in (b"", key):
                found.append(xor(xor(raw, first), second))
    return found


async def test_the_from_of_a_lines_call_hides_its_address_and_is_restored_both_ways(
    settings: Settings, tmp_path: Path
) -> None:
    """uac rewrites the From of the lines' calls; what it needs to restore the original in
    the dialog's requests stays at the edge: neither the From nor any Record-Route parameter
    the far end gets carries the line's address, plainly or encoded."""
    require_tools()
    lines_port = free_udp_port(EDGE_HOST)
    conf = settings.model_copy(update={"sip_outbound_proxy": f"sip:{EDGE_HOST}:{lines_port}"})
    async with running_edge(conf, tmp_path / "edge", lines_port=lines_port) as edge:
        ua = edge.line.phone.ua
        assert ua is not None
        line_address = f"127.0.0.1:{edge.line.port}"
        # What reaches the line's socket (the line still handles every datagram).
        to_line: list[Message] = []
        handle = ua.datagram_received

        def tap(data: bytes, addr: tuple[str | object, int]) -> None:
            to_line.append(parse(data))
            handle(data, addr)

        ua.datagram_received = tap  # type: ignore[method-assign]
        far = FarEnd()
        results = {}
        try:
            for hangs_up in ("far end", "line"):
                target = f"sip:115@127.0.0.1:{far.port}"
                where = outside(target, ua.config.outbound_proxy)
                assert where is not None
                answering = asyncio.ensure_future(asyncio.to_thread(far.answer, 5))
                out = await place_call(ua, where)
                invite = await answering
                assert out.answered, edge.logs()
                if hangs_up == "far end":
                    ok = await asyncio.to_thread(far.bye, 5)
                    assert ok.status == 200, (ok, edge.logs())
                    [bye] = [m for m in to_line if m.method == "BYE" and m.call_id == out.call_id]
                else:
                    hanging_up = asyncio.ensure_future(asyncio.to_thread(far.answer_bye, 5))
                    await out.hangup()
                    bye = await hanging_up
                results[hangs_up] = (invite, bye, out.from_value)
        finally:
            ua.datagram_received = handle  # type: ignore[method-assign]
            far.close()

    for hangs_up, (invite, bye, line_from) in results.items():
        seen_from = invite.get("from")
        assert "@hotline1022.invalid>" in seen_from, seen_from
        assert line_address not in seen_from and str(edge.line.port) not in seen_from
        known = str(parse_address(seen_from).uri).encode()
        exposed = [seen_from, *invite.get_all("record-route")]
        for token in {t for h in exposed for t in re.split(r"[;=<>:@,\s]", h) if len(t) >= 8}:
            for reading in readings(token, known, edge.topoh_key.encode()):
                assert str(edge.line.port).encode() not in reading, (token, reading)
                assert b"127.0.0.1" not in reading, (token, reading)
        original = str(parse_address(line_from).uri)
        if hangs_up == "far end":
            # Restored on its way to the line: the line's own URI in the To.
            assert str(bye.to_addr.uri) == original, bye.get("to")
        else:
            # Rewritten on its way out, as in the INVITE.
            assert str(bye.from_addr.uri) == str(parse_address(seen_from).uri), bye.get("from")


async def test_a_lines_call_keeps_its_from_restored_after_the_edge_restarts(
    settings: Settings, tmp_path: Path
) -> None:
    """The line's call is answered, then Kamailio restarts: the dialog (and the From uac
    rewrote) comes back from the edge's dialog store, so the far end's BYE reaches the line
    with the line's own URI in the To, as before the restart."""
    require_tools()
    lines_port = free_udp_port(EDGE_HOST)
    conf = settings.model_copy(update={"sip_outbound_proxy": f"sip:{EDGE_HOST}:{lines_port}"})
    async with running_edge(conf, tmp_path / "edge", lines_port=lines_port) as edge:
        ua = edge.line.phone.ua
        assert ua is not None
        to_line: list[Message] = []
        handle = ua.datagram_received

        def tap(data: bytes, addr: tuple[str | object, int]) -> None:
            to_line.append(parse(data))
            handle(data, addr)

        ua.datagram_received = tap  # type: ignore[method-assign]
        far = FarEnd()
        try:
            where = outside(f"sip:115@127.0.0.1:{far.port}", ua.config.outbound_proxy)
            assert where is not None
            answering = asyncio.ensure_future(asyncio.to_thread(far.answer, 5))
            out = await place_call(ua, where)
            invite = await answering
            assert out.answered, edge.logs()
            await edge.restart_kamailio()
            ok = await asyncio.to_thread(far.bye, 5)
            byes = [m for m in to_line if m.method == "BYE" and m.call_id == out.call_id]
            logged = edge.kamailio_log
        finally:
            ua.datagram_received = handle  # type: ignore[method-assign]
            far.close()
    assert ok.status == 200, (ok, logged[-3000:])
    assert "@hotline1022.invalid>" in invite.get("from")
    [bye] = byes
    assert str(bye.to_addr.uri) == str(parse_address(out.from_value).uri), (
        bye.get("to"),
        logged[-3000:],
    )
