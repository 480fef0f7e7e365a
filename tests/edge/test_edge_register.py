"""The line's REGISTER to its carrier leaves through the edge: the carrier (sipp, outside the
edge) receives it from the edge with a Path naming the edge (so its calls come back through
the edge), challenges it, and the line is registered. topoh does not touch REGISTER (the
module skips REGISTER and PUBLISH): the carrier sees the line's own Via, Contact and Call-ID,
which docs/edge.md states as a limit."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hotline.settings import Settings
from tests.edge.test_edge_neutral import self_naming
from tests.edge.topology import EDGE_HOST, free_port_pair, require_tools, running_edge
from tests.telephony.conftest import free_udp_port

pytestmark = pytest.mark.anyio
SCENARIOS = Path(__file__).parent / "scenarios"


async def test_the_lines_register_to_its_carrier_leaves_the_edge_masked(
    settings: Settings, tmp_path: Path
) -> None:
    require_tools()
    carrier_port, sip_port = free_udp_port(), free_port_pair(EDGE_HOST)
    lines_port = free_udp_port(EDGE_HOST)
    trace = tmp_path / "carrier.msg"
    line = settings.model_copy(
        update={
            # The line sends its REGISTERs to the edge's lines' side, for the carrier's registrar.
            "sip_trunk_registrar": f"{EDGE_HOST}:{lines_port}",
            "sip_trunk_domain": f"127.0.0.1:{carrier_port}",
            "sip_trunk_username": "hotline-1022",
            "sip_trunk_password": "carrier-pass",
            "sip_trunk_register_retry": 1.0,
        }
    )
    async with running_edge(
        line, tmp_path / "edge", sip_port=sip_port, lines_port=lines_port
    ) as edge:
        proc = await asyncio.create_subprocess_exec(
            *("sipp", "-sf", str(SCENARIOS / "carrier_registrar_edge.xml"), "-m", "1"),
            *("-i", "127.0.0.1", "-p", str(carrier_port), "-mp", str(free_udp_port())),
            *("-trace_msg", "-message_file", str(trace)),
            *("-timeout", "30s", "-timeout_error", "-nostdin"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 40)
        assert proc.returncode == 0, out.decode(errors="replace") + edge.logs()
        ua = edge.line.phone.ua
        assert ua is not None and ua.registrant is not None
        for _ in range(50):
            if ua.registrant.registered:
                break
            await asyncio.sleep(0.1)
        assert ua.registrant.registered, edge.logs()
        seen = trace.read_text(errors="replace")
        logged = edge.kamailio_log
    first = seen[seen.index("REGISTER sip:") :]
    # Received from the edge, not from the line: the edge's Via is on top.
    assert first.split("\nVia: ", 1)[1].startswith(f"SIP/2.0/UDP {EDGE_HOST}:{sip_port}")
    assert f"Path: <sip:{EDGE_HOST}:{sip_port};lr>" in first
    # Nothing names the product (the Call-ID is the line's own: topoh skips REGISTER).
    assert self_naming(first.replace("hotline-1022", "")) == [], first
    assert f"edge: line 127.0.0.1 registers sip:hotline-1022@127.0.0.1:{carrier_port}" in logged
