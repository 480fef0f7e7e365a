"""The line's own calls leave through the edge (HOTLINE_SIP_OUTBOUND_PROXY): when 115 refuses
the REFER, the line calls 115 itself, and 115 (sipp, outside) receives that INVITE from the
edge, the line's Call-ID masked by topoh and its address nowhere in the headers; 115 answers
and the caller is put through."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hotline.settings import Settings
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
    conf = settings.model_copy(update={"sip_outbound_proxy": f"sip:{EDGE_HOST}:{sip_port}"})
    far_log, caller_log = tmp_path / "115.log", tmp_path / "caller.log"
    # The menu's 115: REFER first (refused by the caller's side), then the line calls it.
    line_conf = {"sip_transfer_115": f"sip:115@127.0.0.1:{far_port}"}
    async with running_edge(conf, tmp_path / "edge", sip_port=sip_port, line=line_conf) as edge:
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
