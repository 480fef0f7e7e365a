"""HOTLINE_SIP_MAX_CALLS is exact under a burst: a call holds its place from the moment its
INVITE is accepted; the rest get 503 with Retry-After, counted and recorded as failed."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hotline.settings import Settings
from tests.telephony.conftest import SCENARIOS, free_udp_port, line_settings, start_line

pytestmark = pytest.mark.anyio
LIMIT, BURST = 20, 30


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def sipp_burst(port: int, scenario: str, calls: int) -> tuple[int, str]:
    """`calls` calls of `scenario` at once (all INVITEs within a few milliseconds)."""
    args = [
        *("sipp", f"127.0.0.1:{port}", "-sf", str(SCENARIOS / scenario)),
        *("-m", str(calls), "-l", str(calls), "-r", "1000", "-i", "127.0.0.1"),
        *("-p", str(free_udp_port()), "-mp", str(free_udp_port())),
        *("-timeout", "30s", "-timeout_error", "-nostdin"),
    ]
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 45)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode("utf-8", "replace")[-3000:]


async def test_a_burst_above_the_limit_gets_exactly_the_limit_answered(
    settings: Settings, sipp_installed: None
) -> None:
    metrics_port = _free_tcp_port()
    line = await start_line(
        line_settings(
            settings,
            sip_max_calls=LIMIT,
            sip_retry_after_seconds=7,
            sip_instance="line-b",
            sip_metrics_port=metrics_port,
        )
    )
    try:
        # sipp passes only if every call is answered or refused with a Retry-After.
        code, output = await sipp_burst(line.port, "burst_answer_or_503.xml", BURST)
        assert code == 0, output
        calls = await line.calls()
        async with httpx.AsyncClient() as client:
            r = await client.get(f"http://127.0.0.1:{metrics_port}/metrics")
    finally:
        await line.phone.stop()
    answered = [c for c in calls if c.sip_status == 200]
    refused = [c for c in calls if c.sip_status == 503]
    assert (len(answered), len(refused), len(calls)) == (LIMIT, BURST - LIMIT, BURST)
    assert {(c.outcome.value if c.outcome else None, c.release_cause) for c in refused} == {
        ("failed", "over_capacity")
    }
    assert all(c.sip_call_id and c.trunk == "127.0.0.1" for c in calls)
    counted = {
        (s.labels["status"], s.labels["cause"]): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
        if s.name == "hotline_sip_calls_refused_total" and s.labels["instance"] == "line-b"
    }
    assert counted == {("503", "over_capacity"): BURST - LIMIT}
