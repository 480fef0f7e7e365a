"""A failed transfer is a call record of its own kind: its attempts in the calls API, its
outcome in the reports (not an abandoned operator call)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.calls.service import NewCall, record_call
from hotline.calls.transfers import NewAttempt, add_attempts

pytestmark = pytest.mark.anyio


async def test_failed_emergency_transfer_shows_its_attempts_and_outcome(app, client, world):
    t0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    s = timedelta(seconds=1)
    attempts = [
        NewAttempt("refer", "115", "sip:115@10.0.0.5", t0, t0 + 3 * s, "timeout"),
        NewAttempt("bridge", "115", "sip:115@10.0.0.5", t0 + 3 * s, t0 + 4 * s, "refused", 503),
        NewAttempt("queue", "operator", None, t0 + 4 * s, t0 + 40 * s, "abandoned"),
    ]
    async with app.state.hotline.unit_of_work() as session:
        call = await record_call(
            session,
            data=NewCall(
                line="1022",
                caller="+84912345678",
                started_at=t0,
                ended_at=t0 + 40 * s,
                menu_path="1",
                branch="115",
                outcome="transfer_failed",
            ),
        )
        await add_attempts(session, call_id=call.id, attempts=attempts)
    listed = await client.get("/api/v1/calls", headers=world.auth("operator"))
    assert listed.status_code == 200, listed.text
    [out] = listed.json()
    assert (out["branch"], out["outcome"]) == ("115", "transfer_failed")
    assert [(t["method"], t["result"], t["sip_status"]) for t in out["transfers"]] == [
        ("refer", "timeout", None),
        ("bridge", "refused", 503),
        ("queue", "abandoned", None),
    ]
    assert out["transfers"][1]["target"] == "sip:115@10.0.0.5"
    report = await client.get(
        "/api/v1/reports/summary",
        params={"from": "2026-11-20", "to": "2026-11-20"},
        headers=world.auth("supervisor"),
    )
    assert report.json()["calls"]["by_outcome"] == {"transfer_failed": 1}
