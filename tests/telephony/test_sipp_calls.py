"""Real calls from sipp against the phone line, and the call records they leave."""

from __future__ import annotations

import pytest

from hotline.settings import Settings
from tests.telephony.conftest import Line, line_settings, start_line

pytestmark = pytest.mark.anyio


async def test_digit_1_by_rfc4733_transfers_to_115_and_records_it(line: Line):
    result = await line.sipp("rfc4733_digit1_refer_115.xml")
    assert result.returncode == 0, result.output
    [call] = await line.calls()
    assert (call.line, call.caller, call.menu_path) == ("1022", "+84912345678", "1")
    assert (call.branch, call.outcome.value if call.outcome else None) == ("115", "transferred_115")
    assert call.ended_at is not None and call.ended_at >= call.started_at


async def test_transfer_notify_200_makes_the_line_hang_up(line: Line):
    result = await line.sipp("refer_115_notify_then_line_hangs_up.xml")
    assert result.returncode == 0, result.output
    [call] = await line.calls()
    assert call.outcome is not None and call.outcome.value == "transferred_115"


async def test_digit_2_by_rfc4733_transfers_to_cdc(line: Line):
    result = await line.sipp("rfc4733_digit2_refer_cdc.xml")
    assert result.returncode == 0, result.output
    [call] = await line.calls()
    assert (call.menu_path, call.branch) == ("2", "cdc")
    assert call.outcome is not None and call.outcome.value == "transferred_cdc"


async def test_digit_by_sip_info_transfers_to_cdc(line: Line):
    result = await line.sipp("info_digit2_refer_cdc.xml")
    assert result.returncode == 0, result.output
    [call] = await line.calls()
    assert call.outcome is not None and call.outcome.value == "transferred_cdc"


async def test_no_input_lands_in_operator_queue_then_abandoned(line: Line):
    # Three plays of a one-word greeting with 0.3 s to answer take about 2.5 s.
    result = await line.sipp("no_input_then_hangup.xml", extra=("-d", "4500"))
    assert result.returncode == 0, result.output
    [call] = await line.calls()
    assert (call.menu_path, call.branch) == ("", "operator")
    assert call.outcome is not None and call.outcome.value == "abandoned_queue"
    assert call.queue_wait_seconds >= 1


async def test_hangup_during_menu_is_abandoned_menu(line: Line):
    result = await line.sipp("hangup_in_menu.xml")
    assert result.returncode == 0, result.output
    [call] = await line.calls()
    assert call.outcome is not None and call.outcome.value == "abandoned_menu"
    assert call.branch is None


async def test_malformed_request_gets_400_and_options_still_answered(line: Line):
    result = await line.sipp("malformed_then_options.xml")
    assert result.returncode == 0, result.output
    assert await line.calls() == []


async def test_invite_from_outside_the_trunks_is_refused(settings: Settings, sipp_installed):
    running = await start_line(line_settings(settings, sip_trunk_networks=["127.0.0.1/32"]))
    try:
        result = await running.sipp("invite_from_non_trunk.xml", local_ip="127.0.0.2")
        assert result.returncode == 0, result.output
        assert await running.calls() == []
    finally:
        await running.phone.stop()


async def test_cancel_while_ringing_gets_487_and_is_abandoned(settings: Settings, sipp_installed):
    running = await start_line(line_settings(settings), ring_seconds=3.0)
    try:
        result = await running.sipp("cancel_while_ringing.xml")
        assert result.returncode == 0, result.output
        [call] = await running.calls()
        assert call.outcome is not None and call.outcome.value == "abandoned_menu"
        assert call.answered_at is None and call.menu_path == ""
    finally:
        await running.phone.stop()
