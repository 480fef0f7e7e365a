"""A carrier trunk sends every citizen's call from one address: a busy second of calls from
it is no flood. Its addresses (TRUNK_SUBNETS) are never counted by pike, so neither a surge
of real calls nor 31 packets forged with its source address can ban the carrier and silence
the hotline, while a flood from anywhere else is still stopped."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hotline.settings import Settings
from tests.edge.test_edge import flood, sipp
from tests.edge.topology import EDGE_HOST, require_tools, running_edge
from tests.telephony.conftest import SCENARIOS, free_udp_port

pytestmark = pytest.mark.anyio
CARRIER = "127.0.0.2"
BURST = 15  # calls in one second: 45 requests (INVITE, ACK, BYE), past pike's 30 per 2 s


async def test_a_carriers_busy_second_is_no_flood_and_a_flooder_is_still_banned(
    settings: Settings, tmp_path: Path
) -> None:
    require_tools()
    defines = (f'TRUNK_SUBNETS="192.0.2.0/24,{CARRIER}/32"',)  # a list, as in production
    async with running_edge(settings, tmp_path / "edge", defines=defines) as edge:
        code, out = await sipp(
            f"{EDGE_HOST}:{edge.sip_port}",
            *("-sf", str(SCENARIOS / "call_hold_hangup.xml"), "-d", "500"),
            *("-m", str(BURST), "-r", str(BURST), "-l", str(BURST)),
            *("-i", CARRIER, "-p", str(free_udp_port(CARRIER))),
            *("-mp", str(free_udp_port(CARRIER))),
            *("-timeout", "30s", "-timeout_error", "-nostdin"),
        )
        assert code == 0, out + edge.logs()
        assert f"pike blocking INVITE from {CARRIER}" not in edge.kamailio_log, edge.logs()
        # Anyone else flooding is still banned.
        await asyncio.to_thread(flood, 100, (EDGE_HOST, edge.sip_port))
        await asyncio.sleep(0.5)
        assert "edge: pike blocking INVITE from 127.0.0.3" in edge.kamailio_log, edge.logs()
