"""Messages of a transfer that cross on the wire (real sipp peers): a BYE crossing the REFER,
a NOTIFY after the BYE or ahead of the 202, a REFER carried out after the line gave up on it.
Each ends with one call at most to the destination and a record that says what happened."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.settings import Settings
from tests.telephony.conftest import Line
from tests.telephony.test_transfer_fallback import _call, attempts_of_call, line_conf

pytestmark = pytest.mark.anyio
__all__ = ["line_conf"]  # the fixture, used by name


async def test_a_bye_crossing_the_refer_ends_the_call_and_nobody_is_called(line: Line):
    result = await line.sipp(
        "info_digit1_bye_crosses_refer.xml",
        extra=("-trace_err", "-error_file", "/tmp/line18-err.log"),
    )
    assert result.returncode == 0, result.output
    [call] = await line.calls()
    assert (call.branch, call.ended_by, call.release_cause) == ("115", "caller", "caller_hangup")
    assert await attempts_of_call(line, call) == [("refer", "abandoned", None)]


async def test_a_notify_after_the_bye_is_answered_481_and_the_transfer_stands(line: Line):
    result = await line.sipp("info_digit1_notify_after_bye.xml")
    assert result.returncode == 0, result.output
    [call] = await line.calls()
    assert call.outcome is not None and call.outcome.value == "transferred_115"
    assert await attempts_of_call(line, call) == [("refer", "accepted", 202)]


async def test_a_notify_ahead_of_the_202_completes_the_transfer(line: Line):
    result = await line.sipp("info_digit1_notify_overtakes_202.xml")
    assert result.returncode == 0, result.output
    [call] = await line.calls()
    assert call.outcome is not None and call.outcome.value == "transferred_115"
    assert (call.ended_by, call.release_cause) == ("line", "transferred")
    assert await attempts_of_call(line, call) == [("refer", "answered", 200)]


async def test_a_refer_accepted_after_the_line_gave_up_stops_its_own_call_to_115(
    line_conf: Settings, tmp_path: Path
):
    """The 202 comes after `fallback_after`, the line already ringing 115 itself, and with it
    115's answer: the line CANCELs its own call (115's sipp expects the CANCEL)."""
    call, attempts, _caller_log, _far_log = await _call(
        line_conf,
        tmp_path,
        "info_digit1_refer_accepted_late.xml",
        "operator_phone_no_answer.xml",
        3000,
    )
    assert call.outcome is not None and call.outcome.value == "transferred_115"
    assert (call.ended_by, call.release_cause) == ("line", "transferred")
    assert [(a.method.value, a.result.value, a.sip_status) for a in attempts] == [
        ("refer", "answered", 200),
        ("bridge", "abandoned", None),
    ]
