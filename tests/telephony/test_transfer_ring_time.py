"""The line's own call to a destination rings for the destination's `ring_seconds` (its
phone configuration), not for the operators' ring time: an emergency centre that does not
answer is given up on at its own bound, and the attempt says so (real sipp peers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.settings import Settings
from tests.telephony.test_transfer_fallback import _call, line_conf

pytestmark = pytest.mark.anyio
__all__ = ["line_conf"]  # the fixture, used by name

AGENT_RING_SECONDS = 20.0  # the operators' ring time: longer than the caller stays
DESTINATION_RING_SECONDS = 2.0
HOLD_MS = 9000  # the caller hangs up this long after the key (prompt, 2 s of ringing, queue)


@pytest.mark.parametrize(
    ("refer", "scenario", "before"),
    [
        (True, "info_digit1_refer_declined.xml", [("refer", "refused", 603)]),
        (False, "info_digit1_then_hold.xml", []),
    ],
    ids=["refer-declined-then-bridged", "configured-for-bridging"],
)
async def test_the_bridged_call_to_a_destination_rings_for_its_own_ring_time(
    line_conf: Settings,
    tmp_path: Path,
    refer: bool,
    scenario: str,
    before: list[tuple[str, str, int | None]],
):
    """115 rings and never answers (its sipp waits for the line's CANCEL): the line gives up
    after 115's 2 s, records the bridge as `timeout`, and the caller goes on to wait for an
    operator. With the operators' 20 s the caller would have hung up while 115 still rang
    (`bridge abandoned`, and no queue attempt)."""
    conf = line_conf.model_copy(update={"sip_agent_ring_seconds": AGENT_RING_SECONDS})
    call, attempts, _caller_log, _far_log = await _call(
        conf,
        tmp_path,
        scenario,
        "operator_phone_no_answer.xml",
        HOLD_MS,
        refer=refer,
        ring_seconds=DESTINATION_RING_SECONDS,
    )
    assert [(a.method.value, a.result.value, a.sip_status) for a in attempts] == [
        *before,
        ("bridge", "timeout", None),
        ("queue", "abandoned", None),
    ]
    bridge = attempts[len(before)]
    assert bridge.destination == "115" and bridge.ended_at is not None
    # Far below the operators' ring time (generous: a loaded machine is slow).
    assert (bridge.ended_at - bridge.started_at).total_seconds() < AGENT_RING_SECONDS / 2
    assert (call.branch, call.outcome.value if call.outcome else None) == (
        "115",
        "transfer_failed",
    )
