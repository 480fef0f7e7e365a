"""Messages of a transfer that cross on the wire (real sipp peers): a BYE crossing the REFER,
the final NOTIFY after the BYE (also while the database is away) or ahead of the 202, a
REFER carried out after the line gave up on it.
Each ends with one call at most to the destination and a record that says what happened."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hotline.settings import Settings
from hotline.telephony.spool import Spool
from tests.telephony.conftest import Line, line_settings, start_line
from tests.telephony.test_record_outage import Outage, _rows, _true, _until
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


@pytest.mark.parametrize(
    ("frag", "attempt"),
    [("200 OK", ("refer", "answered", 200)), ("486 Busy Here", ("refer", "refused", 486))],
    ids=["answered", "busy"],
)
async def test_the_final_notify_after_the_bye_completes_the_refer_attempt(
    line: Line, frag: str, attempt: tuple[str, str, int]
):
    """REFER, 202, NOTIFY 100, the caller's side's BYE, then its final NOTIFY: the REFER's
    subscription outlives the call, so the NOTIFY is answered 200 (sipp checks it, and 481
    for a NOTIFY with another To tag, and for one after the subscription ended) and the
    stored attempt says what became of the transfer, not `accepted 202`. The outcome is
    what the call ended with: the caller's side took the caller over."""
    result = await line.sipp("info_digit1_bye_then_final_notify.xml", extra=("-key", "frag", frag))
    assert result.returncode == 0, result.output
    [call] = await line.calls()
    assert call.outcome is not None and call.outcome.value == "transferred_115"
    assert (call.ended_by, call.release_cause) == ("caller", "caller_hangup")
    assert await attempts_of_call(line, call) == [attempt]


def _spooled(spool: Spool) -> set[str]:
    """What the spool's files hold: `call` (a record), `amend` (a change to one)."""
    return {key for path in spool.pending() for raw in spool.read(path) for key in raw}


async def test_the_final_notify_after_the_bye_reaches_a_record_spooled_during_an_outage(
    settings: Settings, sipp_installed: None, tmp_path: Path
):
    """The database is away when the call ends and when the final NOTIFY comes: the record
    and then the change to its REFER attempt wait on the line's disk, and land once it is
    back; the same spool files read again (a crash before their removal) change nothing."""
    outage = Outage(settings)
    line_url = await outage.line_url()
    spool = tmp_path / "spool"
    line = await start_line(
        line_settings(
            settings, database_url=line_url, sip_spool_dir=spool, sip_spool_retry_seconds=0.5
        )
    )
    recorder = line.phone.recorder
    assert recorder is not None
    try:
        await outage.begin()
        result = await line.sipp(
            "info_digit1_bye_then_final_notify.xml", extra=("-key", "frag", "200 OK")
        )
        assert result.returncode == 0, result.output
        await _until(lambda: _true(_spooled(recorder.spool) >= {"call", "amend"}))
        kept = tmp_path / "kept"
        shutil.copytree(spool, kept, ignore=shutil.ignore_patterns("*.tmp"))
        await outage.end()
        await _until(lambda: _true(not recorder.spool.pending()))
        [call] = await line.calls()
        assert await attempts_of_call(line, call) == [("refer", "answered", 200)]
        counted = (await _rows(settings.effective_database_url))[1]
        assert counted == 1

        for path in kept.glob("*.json"):
            shutil.copy(path, spool / path.name)
        assert await recorder.write_spooled()
        [again] = await line.calls()
        assert again.id == call.id
        assert await attempts_of_call(line, again) == [("refer", "answered", 200)]
        assert (await _rows(settings.effective_database_url))[1] == counted
    finally:
        await line.phone.stop()
        if outage.proxy is not None and outage.proxy.server is not None:
            outage.proxy.server.close()


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
