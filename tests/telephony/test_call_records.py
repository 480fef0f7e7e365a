"""What a call record says about the SIP side of a call: its Call-ID, trunk and codec, who
ended it and why (a line that drops a silent caller is not a caller abandoning), talk time
rounded rather than cut, and refusals at the door recorded as failed attempts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hotline.settings import Settings
from hotline.site import Site
from hotline.telephony.backend import CallProgress
from hotline.telephony.server import new_call
from tests.admin.helpers import page_client
from tests.conftest import World, new_case_body
from tests.telephony.conftest import line_settings, start_line

pytestmark = pytest.mark.anyio


async def test_a_caller_whose_audio_stops_is_dropped_by_the_line_not_abandoning(
    settings: Settings, sipp_installed: None
) -> None:
    line = await start_line(line_settings(settings, sip_rtp_timeout=1.0))
    try:
        result = await line.sipp("silent_caller_line_hangs_up.xml")
        assert result.returncode == 0, result.output
        [call] = await line.calls()
    finally:
        await line.phone.stop()
    assert call.outcome is not None and call.outcome.value == "dropped"
    assert (call.ended_by, call.release_cause) == ("line", "rtp_timeout")
    assert (call.sip_status, call.codec, call.trunk) == (200, "PCMU", "127.0.0.1")
    assert call.sip_call_id


async def test_the_case_page_and_api_say_who_ended_the_cases_call_and_why(
    settings: Settings, sipp_installed: None, app: Any, client: httpx.AsyncClient, world: World
) -> None:
    line = await start_line(line_settings(settings, sip_rtp_timeout=1.0))
    try:
        result = await line.sipp("silent_caller_line_hangs_up.xml")
        assert result.returncode == 0, result.output
        [call] = await line.calls()
    finally:
        await line.phone.stop()
    auth = world.auth("operator")
    case = await client.post("/api/v1/cases", json=new_case_body(call_id=call.id), headers=auth)
    assert case.status_code == 201, case.text
    code = case.json()["code"]
    detail = (await client.get(f"/api/v1/cases/{code}", headers=auth)).json()
    [shown] = detail["calls"]
    assert (shown["ended_by"], shown["release_cause"], shown["codec"]) == (
        "line",
        "rtp_timeout",
        "PCMU",
    )
    assert shown["sip_call_id"] == call.sip_call_id and shown["outcome"] == "dropped"
    pages = await page_client(app, "operator")
    try:
        page = await pages.get(f"/cases/{code}")
        pages.cookies.set("lang", "en")
        english = await pages.get(f"/cases/{code}")
    finally:
        await pages.aclose()
    assert "Tổng đài kết thúc: mất tín hiệu thoại" in page.text
    assert "Mã hóa PCMU" in page.text and "Trung kế 127.0.0.1" in page.text
    assert "Ended by the line: no audio from the caller" in english.text, english.text[-3000:]


async def test_a_caller_hanging_up_is_recorded_with_its_call_id_and_cause(
    settings: Settings, sipp_installed: None
) -> None:
    line = await start_line(line_settings(settings))
    try:
        result = await line.sipp("hangup_in_menu.xml")
        assert result.returncode == 0, result.output
        [call] = await line.calls()
    finally:
        await line.phone.stop()
    assert call.outcome is not None and call.outcome.value == "abandoned_menu"
    assert (call.ended_by, call.release_cause, call.sip_status) == ("caller", "caller_hangup", 200)
    assert call.sip_call_id  # sipp's own Call-ID for the call
    assert call.codec == "PCMU" and call.trunk == "127.0.0.1"


async def test_an_invite_with_no_common_codec_is_a_failed_attempt_the_reports_count(
    settings: Settings, sipp_installed: None, client: httpx.AsyncClient, world: World
) -> None:
    line = await start_line(line_settings(settings))
    try:
        result = await line.sipp("invite_g729_only_488.xml")
        assert result.returncode == 0, result.output
        [call] = await line.calls()
    finally:
        await line.phone.stop()
    assert call.outcome is not None and call.outcome.value == "failed"
    assert (call.sip_status, call.release_cause, call.ended_by) == (
        488,
        "codec_not_acceptable",
        "line",
    )
    assert call.talk_seconds == 0 and call.answered_at is None
    day = Site.from_settings(settings).local_day_hour(call.started_at)[0].isoformat()
    r = await client.get(
        "/api/v1/reports/summary", params={"from": day, "to": day}, headers=world.auth("supervisor")
    )
    assert r.status_code == 200, r.text
    assert r.json()["calls"]["by_outcome"] == {"failed": 1}
    r = await client.get("/api/v1/calls", headers=world.auth("supervisor"))
    [listed] = r.json()
    assert {k: listed[k] for k in ("sip_call_id", "sip_status", "release_cause", "trunk")} == {
        "sip_call_id": call.sip_call_id,
        "sip_status": 488,
        "release_cause": "codec_not_acceptable",
        "trunk": "127.0.0.1",
    }


def test_talk_and_wait_are_rounded_to_the_nearest_second_not_cut() -> None:
    start = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    progress = CallProgress(line="1022", caller="", started_at=start)
    progress.queued_at = start + timedelta(seconds=2)
    progress.agent_answered_at = start + timedelta(seconds=12.7)  # waited 10.7 s
    progress.ended_at = progress.agent_answered_at + timedelta(seconds=18.996)
    progress.outcome = "answered"
    record = new_call(progress)
    assert (record.talk_seconds, record.queue_wait_seconds) == (19, 11)
