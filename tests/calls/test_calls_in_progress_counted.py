"""A call recorded through the API while still in progress (answered, not ended) is counted
as the line counts one and as a rebuild of the counters does: not until it ends, when it
is finished (`PATCH /calls/{id}`), once however often the end is sent. The counters after a
rebuild equal the counters the live writes kept. Only shift leads and administrators write
call records through the API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from hotline.calls.models import Call
from hotline.reports.models import CallCounter, CallQuarterCounter, OperatorCounter
from hotline.reports.rebuild import rebuild_counters
from tests.calls.test_calls import _post_call, call_body

pytestmark = pytest.mark.anyio


async def _counters(app: Any, *, rebuild: bool = False) -> dict[str, list[tuple]]:
    async with app.state.hotline.unit_of_work() as session:
        if rebuild:
            await rebuild_counters(session)
        out = {}
        for table in (CallCounter, CallQuarterCounter, OperatorCounter):
            # Summed over the shards (live writes spread over them, a rebuild uses one).
            columns = [c for c in table.__table__.columns if c.name not in ("id", "shard")]
            keys = [c for c in columns if c.primary_key]
            sums = [func.sum(c) for c in columns if not c.primary_key]
            stmt = select(*keys, *sums).group_by(*keys)
            out[table.__tablename__] = sorted(tuple(r) for r in (await session.execute(stmt)).all())
        return out


async def test_an_answered_call_in_progress_counts_alike_live_and_after_a_rebuild(
    app, client, world
) -> None:
    r = await _post_call(client, world, branch="operator")
    assert r.status_code == 201, r.text
    r = await _post_call(client, world, branch="operator", ended_at=None, talk_seconds=0)
    assert r.status_code == 201, r.text
    live = await _counters(app)
    # Only the finished call is counted so far.
    assert [row[2] for row in live["call_quarter_counter"]] == [1]
    rebuilt = await _counters(app, rebuild=True)
    assert live == rebuilt


async def _offered(app: Any) -> int:
    """Calls counted for the forecast (the operator queue's quarter-hour counters)."""
    async with app.state.hotline.unit_of_work(read_only=True) as session:
        return int(await session.scalar(select(func.sum(CallQuarterCounter.calls))) or 0)


async def test_a_call_in_progress_is_finished_and_counted_once_even_when_retried(
    app, client, world
) -> None:
    r = await _post_call(client, world, branch="operator", ended_at=None, talk_seconds=0)
    assert r.status_code == 201, r.text
    call = r.json()["id"]
    assert await _offered(app) == 0
    end = {"ended_at": "2026-11-20T02:05:30Z", "talk_seconds": 300, "outcome": "answered"}
    sup = world.auth("supervisor")
    # The end sent twice at once, and once more afterwards (a client retrying).
    first, second = await asyncio.gather(
        client.patch(f"/api/v1/calls/{call}", json=end, headers=sup),
        client.patch(f"/api/v1/calls/{call}", json=end, headers=sup),
    )
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    again = await client.patch(f"/api/v1/calls/{call}", json=end, headers=sup)
    assert again.status_code == 200, again.text
    assert again.json()["ended_at"] == "2026-11-20T02:05:30Z"
    assert again.json()["talk_seconds"] == 300
    assert "caller" not in again.json()
    assert await _offered(app) == 1
    # The counters say what a rebuild from the records says: counted exactly once.
    assert await _counters(app) == await _counters(app, rebuild=True)
    # Another end for a call already ended is refused, naming the field.
    r = await client.patch(
        f"/api/v1/calls/{call}", json={**end, "ended_at": "2026-11-20T02:09:00Z"}, headers=sup
    )
    assert r.status_code == 409 and r.json()["field"] == "ended_at", r.text
    assert await _offered(app) == 1


async def test_operators_may_neither_record_nor_finish_calls(client, world) -> None:
    """Call records feed the reports, the forecast and surge mode: an operator's made-up
    call is refused (403 problem+json), as is their end of one."""
    op = world.auth("operator")
    r = await client.post("/api/v1/calls", json=call_body(branch="operator"), headers=op)
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await _post_call(client, world, branch="operator", ended_at=None, talk_seconds=0)
    assert r.status_code == 201, r.text
    end = {"ended_at": "2026-11-20T02:05:30Z"}
    r = await client.patch(f"/api/v1/calls/{r.json()['id']}", json=end, headers=op)
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    # Supervisors and administrators record them (corrections).
    for who in ("supervisor", "admin"):
        r = await client.post(
            "/api/v1/calls", json=call_body(branch="operator"), headers=world.auth(who)
        )
        assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "ended_at",
    [
        "2099-01-01T00:00:00Z",  # in the future
        "2026-11-21T02:00:31Z",  # more than a day after the start
    ],
)
async def test_an_impossible_end_is_refused_naming_the_field(app, client, world, ended_at) -> None:
    r = await _post_call(client, world, branch="operator", ended_at=None, talk_seconds=0)
    assert r.status_code == 201, r.text
    r = await client.patch(
        f"/api/v1/calls/{r.json()['id']}",
        json={"ended_at": ended_at, "talk_seconds": 0},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 422 and r.json()["field"] == "ended_at", r.text
    assert await _offered(app) == 0


async def test_a_call_the_phone_line_recorded_is_not_ended_through_the_api(
    app, client, world
) -> None:
    r = await _post_call(client, world, branch="operator", ended_at=None, talk_seconds=0)
    assert r.status_code == 201, r.text
    call = r.json()["id"]
    async with app.state.hotline.unit_of_work() as session:
        row = await session.get(Call, call)
        assert row is not None
        row.record_key = "line-1022-test"  # as the phone line marks the calls it records
    r = await client.patch(
        f"/api/v1/calls/{call}",
        json={"ended_at": "2026-11-20T02:05:30Z", "talk_seconds": 300},
        headers=world.auth("supervisor"),
    )
    assert r.status_code == 409 and r.json()["field"] == "call_id", r.text
    assert "tổng đài tự ghi" in r.json()["detail"]
    assert await _offered(app) == 0
