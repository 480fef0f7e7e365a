"""A call recorded through the API while still in progress (answered, not ended) is counted
as the line counts one and as a rebuild of the counters does: not until it ends. The
counters after a rebuild equal the counters the live writes kept."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from hotline.reports.models import CallCounter, CallQuarterCounter, OperatorCounter
from hotline.reports.rebuild import rebuild_counters
from tests.calls.test_calls import _post_call

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
