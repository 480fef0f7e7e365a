"""The migration that adds the staffing forecast's quarter-hour counters fills them from the
call records already there, as the live writes and a rebuild count them."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from hotline.calls.models import Call
from hotline.db import create_engine, make_sessionmaker
from hotline.migrate import upgrade
from hotline.reports.models import CallQuarterCounter
from hotline.reports.rebuild import rebuild_counters
from hotline.settings import Settings
from hotline.site import Site
from tests.db.test_migrations import fresh_url  # noqa: F401  (the fixture)

BEFORE = "20261210_0046"
EPOCH = datetime(2026, 10, 1, tzinfo=UTC)


def _rows() -> list[dict[str, Any]]:
    rng = random.Random(47)
    rows = []
    for _ in range(400):
        # On quarter-hour edges (the first and the last microsecond of one) and between.
        at = EPOCH + timedelta(minutes=15 * rng.randrange(3000))
        at += rng.choice([timedelta(0), -timedelta(microseconds=1), timedelta(seconds=451.5)])
        outcome = rng.choice(["answered", "abandoned_queue", "outside_hours", "voicemail", None])
        answered = outcome == "answered"
        in_progress = answered and rng.random() < 0.1
        rows.append(
            {
                "line": "1022",
                "caller": "",
                "started_at": at,
                "answered_at": at + timedelta(seconds=9) if answered else None,
                "ended_at": None if in_progress else at + timedelta(seconds=300),
                "menu_path": "4",
                "branch": rng.choice(["operator", "operator", "115", None]),
                "queue_wait_seconds": rng.randrange(120),
                "talk_seconds": rng.randrange(600) if answered else 0,
                "outcome": outcome,
                "direction": "outbound" if rng.random() < 0.1 else "inbound",
            }
        )
    return rows


async def _counters(url: str, *, load: bool = False, rebuild: bool = False) -> dict[Any, Any]:
    settings = Settings(database_url=url)
    engine = create_engine(settings.effective_database_url)
    q = CallQuarterCounter
    try:
        async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
            if load:
                await s.execute(insert(Call), _rows())
                return {}
            if rebuild:
                await rebuild_counters(s)
            stmt = select(
                q.branch,
                q.quarter,
                func.sum(q.calls),
                func.sum(q.answered),
                func.sum(q.talk_seconds),
                func.sum(q.wait_seconds),
                func.sum(q.abandoned),
            ).group_by(q.branch, q.quarter)
            return {(r[0], r[1]): tuple(int(x) for x in r[2:]) for r in await s.execute(stmt)}
    finally:
        await engine.dispose()


def test_the_migration_counts_the_calls_already_recorded(fresh_url: str) -> None:  # noqa: F811
    upgrade(fresh_url, BEFORE)
    asyncio.run(_counters(fresh_url, load=True))
    upgrade(fresh_url)
    migrated = asyncio.run(_counters(fresh_url))
    assert migrated and sum(v[0] for v in migrated.values()) > 100
    assert migrated == asyncio.run(_counters(fresh_url, rebuild=True))
