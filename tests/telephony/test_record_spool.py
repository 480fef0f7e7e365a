"""The line's spool as an administrator finds it: records left by a run that stopped before
the database took them are written at the next start; a record the database refuses for
itself is set aside in `rejected/` without holding up the others. And the error log's
limit: one line per distinct error per interval, with the repeats counted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from hotline.settings import Settings
from hotline.telephony.backend import CallProgress
from hotline.telephony.call_record import Entry, new_call
from hotline.telephony.errlog import ErrorLog
from hotline.telephony.spool import Spool
from tests.telephony.conftest import line_settings, start_line

pytestmark = pytest.mark.anyio


def _record(sip_call_id: str, **overrides: object) -> dict[str, object]:
    start = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    progress = CallProgress(line="1022", caller="+84912345678", started_at=start)
    progress.ended_at = start + timedelta(seconds=30)
    progress.sip_call_id, progress.trunk, progress.codec = sip_call_id, "127.0.0.1", "PCMA"
    progress.release("caller", "caller_hangup")
    data = new_call(progress)
    for name, value in overrides.items():
        setattr(data, name, value)
    return Entry(data).dump()


async def test_records_left_in_the_spool_are_written_at_start_and_refused_ones_set_aside(
    settings: Settings, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    # What a line stopped during an outage left behind: two batches, one record in them
    # naming an operator the database does not have.
    Spool(spool).write([_record("left-1@trunk"), _record("bad@trunk", operator_id=987654)])
    Spool(spool).write([_record("left-2@trunk")])
    (spool / "00000000000000000000-half.json.tmp").write_text("[{")  # a write cut short
    line = await start_line(line_settings(settings, sip_spool_dir=spool))
    try:
        calls = await line.calls()
    finally:
        await line.phone.stop()
    assert sorted(c.sip_call_id or "" for c in calls) == ["left-1@trunk", "left-2@trunk"]
    assert {(c.codec, c.release_cause, c.trunk) for c in calls} == {
        ("PCMA", "caller_hangup", "127.0.0.1")
    }
    assert not list(spool.glob("*.json")) and not list(spool.glob("*.tmp"))
    [rejected] = (spool / "rejected").glob("*.json")
    kept = json.loads(rejected.read_text())
    assert kept["record"]["call"]["sip_call_id"] == "bad@trunk"
    assert "IntegrityError" in kept["error"]


def test_a_repeated_error_is_logged_once_per_interval_with_the_repeats_counted() -> None:
    now = [0.0]
    errors = ErrorLog(60.0, clock=lambda: now[0])
    refused = ConnectionRefusedError(111, "Connect call failed")
    with structlog.testing.capture_logs() as logs:
        for _ in range(500):
            errors.error("call_record_deferred", refused)
        errors.error("call_record_deferred", TimeoutError("timed out"))
        now[0] = 61.0
        errors.error("call_record_deferred", refused)
        now[0] = 200.0
        errors.flush()
    lines = [(e["event"], e["error"], e.get("suppressed")) for e in logs]
    assert lines == [
        ("call_record_deferred", "ConnectionRefusedError: [Errno 111] Connect call failed", None),
        ("call_record_deferred", "TimeoutError: timed out", None),
        ("call_record_deferred", "ConnectionRefusedError: [Errno 111] Connect call failed", 499),
    ]
    assert not any("exc_info" in e for e in logs)
