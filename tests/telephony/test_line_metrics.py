"""The phone line serves its own metrics (calls in progress, callers waiting per queue,
calls ended by outcome) on HOTLINE_SIP_METRICS_PORT, labelled with its instance."""

from __future__ import annotations

import socket

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hotline.settings import Settings
from tests.telephony.conftest import line_settings, start_line

pytestmark = pytest.mark.anyio


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_line_serves_its_metrics_on_its_own_port(settings: Settings) -> None:
    port = _free_tcp_port()
    line = await start_line(line_settings(settings, sip_instance="line-m", sip_metrics_port=port))
    try:
        async with httpx.AsyncClient() as client:
            r = await client.get(f"http://127.0.0.1:{port}/metrics")
        assert r.status_code == 200
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text)
            for s in family.samples
        }
        assert samples[("hotline_sip_calls_active", (("instance", "line-m"),))] == 0
        # No stream, so no tick is ever late for one.
        assert samples[("hotline_sip_media_stalls_total", (("instance", "line-m"),))] == 0
        assert "hotline_acd_waiting" in r.text
    finally:
        await line.phone.stop()
    with pytest.raises(httpx.TransportError):  # stopped with the line
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


async def test_the_line_counts_the_calls_it_ends_by_outcome(
    settings: Settings, sipp_installed: None
) -> None:
    port = _free_tcp_port()
    line = await start_line(line_settings(settings, sip_instance="line-n", sip_metrics_port=port))
    try:
        result = await line.sipp("hangup_in_menu.xml")
        assert result.returncode == 0, result.output
        [call] = await line.calls()
        async with httpx.AsyncClient() as client:
            r = await client.get(f"http://127.0.0.1:{port}/metrics")
    finally:
        await line.phone.stop()
    ended = {
        s.labels["outcome"]: s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
        if s.name == "hotline_sip_calls_ended_total" and s.labels["instance"] == "line-n"
    }
    assert call.outcome is not None
    assert ended == {call.outcome.value: 1}


async def test_without_a_port_the_line_serves_no_metrics(settings: Settings) -> None:
    line = await start_line(line_settings(settings))
    try:
        assert line.phone.metrics is None
    finally:
        await line.phone.stop()
