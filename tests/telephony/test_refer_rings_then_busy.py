"""The caller's side reports 115 ringing, then busy: the line calls 115 itself at once, not
after the ring time, and the record keeps both tries."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.settings import Settings
from tests.telephony.test_transfer_fallback import _call, first_time, line_conf

pytestmark = pytest.mark.anyio
__all__ = ["line_conf"]  # the fixture, from the fallback's tests


async def test_a_refer_ringing_then_busy_falls_back_at_the_busy_report(
    line_conf: Settings, tmp_path: Path
):
    call, attempts, caller_log, far_log = await _call(
        line_conf,
        tmp_path,
        "info_digit1_refer_rings_then_busy.xml",
        "operator_phone_answers.xml",
        3000,
    )
    ringing = first_time(caller_log, "sent", "NOTIFY ")
    invite = first_time(far_log, "received", "INVITE ")
    # The busy NOTIFY leaves 0.8 s after the ringing one; the line's INVITE follows it at once
    # (the ring time, 30 s, is not waited out).
    assert 0.7 <= (invite - ringing).total_seconds() <= 0.8 + 0.5, (ringing, invite)
    assert (call.branch, call.outcome.value if call.outcome else None) == (
        "115",
        "transferred_115",
    )
    assert [(a.method.value, a.result.value, a.sip_status) for a in attempts] == [
        ("refer", "refused", 486),
        ("bridge", "answered", 200),
    ]
