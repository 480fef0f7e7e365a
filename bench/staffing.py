"""Staffing forecast benchmark: a week's forecast (336 half-hours) from a year of call
records on PostgreSQL, and Erlang C and Erlang A for one half-hour.

A database of its own (`bench_staffing_<calls>`, kept between runs unless --fresh) gets a
year of operator-queue calls with a daily and weekly shape (one in eight abandoned in the
queue, so the forecast staffs with Erlang A), written by one
INSERT ... SELECT generate_series, and the operator queue's quarter-hour counters
(`call_quarter_counter`) filled from them as the live writes and the migration leave
them: one row per branch and quarter-hour. Timed:
`hotline.staffing.planning.staffing_forecast` for the last 7 days of the year, as a
supervisor, through the product's own session (the history from the counters, the roster,
Erlang A for every half-hour). Separately: Erlang C
(`agents_needed`) and Erlang A (`agents_needed_a`, 90 s patience) for one half-hour at
loads from a quiet night to a Hồ Chí Minh City surge.

    python bench/staffing.py                      # 2,000,000 calls over a year
    python bench/staffing.py --calls 100000 --runs 3    # quick
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
import timeit
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from common import RESULTS_DIR, machine_description, pct, pg_dsn
from datagen import db_url, migrate_and_bootstrap, pg_create_database

TZ = "Asia/Ho_Chi_Minh"
DAYS = 365
END = date(2026, 11, 30)  # the day after the history; the forecast week starts here
PATIENCE = 90.0  # seconds: the callers' mean patience Erlang A is timed with


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--calls", type=int, default=2_000_000, help="calls over the year")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--target-ms", type=float, default=500.0)
    p.add_argument("--erlang-target-ms", type=float, default=1.0)
    p.add_argument("--fresh", action="store_true")
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "staffing.json")
    return p.parse_args(argv)


FILL = """
INSERT INTO call (id, line, caller, started_at, answered_at, ended_at, menu_path, branch,
                  queue_wait_seconds, talk_seconds, outcome)
SELECT i, '1022', '', t,
       -- every eighth caller hangs up after a minute in the queue: the forecast knows
       -- callers' patience and staffs with Erlang A
       CASE WHEN i % 8 = 1 THEN NULL ELSE t + interval '12 seconds' END,
       t + interval '252 seconds', '4',
       CASE WHEN i % 10 = 0 THEN '115' ELSE 'operator' END,
       CASE WHEN i % 8 = 1 THEN 60 ELSE 12 END,
       CASE WHEN i % 8 = 1 THEN 0 ELSE 240 END,
       CASE WHEN i % 8 = 1 THEN 'abandoned_queue' ELSE 'answered' END
FROM (
  SELECT i,
         $1::timestamptz
         + make_interval(days => (i % $2)::int)
         -- a day shape: most calls 08-20 local (01-13 UTC), some at night
         + make_interval(secs => CASE WHEN i % 5 = 0 THEN (i * 7919) % 86400
                                      ELSE 3600 + (i * 104729) % 43200 END) AS t
  FROM generate_series(1, $3::bigint) AS i
) AS g
"""


# The counters calls/service.py keeps as each call is recorded (reports/counters.py).
FILL_COUNTERS = """
INSERT INTO call_quarter_counter
    (branch, quarter, calls, answered, talk_seconds, wait_seconds, abandoned)
SELECT branch, floor(extract(epoch FROM started_at) / 900)::int AS q, count(*),
       count(answered_at), sum(CASE WHEN answered_at IS NOT NULL THEN talk_seconds ELSE 0 END),
       sum(queue_wait_seconds), count(*) FILTER (WHERE outcome = 'abandoned_queue')
FROM call
WHERE branch IS NOT NULL AND outcome <> 'outside_hours'
GROUP BY branch, q
"""


async def ensure_dataset(dsn: str, calls: int, fresh: bool) -> str:
    name = f"bench_staffing_v4_{calls}"  # v3: with the quarter-hour counters
    url = db_url(dsn, name)
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    finally:
        await conn.close()
    if exists and not fresh:
        return url
    await pg_create_database(dsn, name)
    await asyncio.to_thread(migrate_and_bootstrap, url)
    start = datetime(END.year, END.month, END.day, tzinfo=UTC) - timedelta(days=DAYS)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(FILL, start, DAYS, calls)
        await conn.execute(FILL_COUNTERS)
        await conn.execute("ANALYZE call")
        await conn.execute("ANALYZE call_quarter_counter")
    finally:
        await conn.close()
    return url


async def time_forecast(url: str, runs: int, warmup: int) -> tuple[list[float], int]:
    from hotline.auth.models import Role
    from hotline.auth.service import Actor
    from hotline.db import create_engine, make_sessionmaker
    from hotline.settings import Settings, normalise_database_url
    from hotline.site import Site
    from hotline.staffing.planning import StaffingRules, staffing_forecast

    settings = Settings(database_url=normalise_database_url(url), timezone=TZ)
    engine = create_engine(settings.effective_database_url)
    maker = make_sessionmaker(engine, Site.from_settings(settings))
    actor = Actor(user_id=None, username="bench", role=Role.SUPERVISOR)
    rules = StaffingRules.from_settings(settings)
    now = datetime(END.year, END.month, END.day, tzinfo=UTC)
    samples, slots = [], 0
    try:
        for i in range(warmup + runs):
            if i == warmup:
                # As the served app does once started (app.py): the long-lived objects out
                # of the collector's view, so a full collection does not rescan them mid-run.
                gc.collect()
                gc.freeze()
            t0 = time.perf_counter()
            async with maker() as session, session.begin():
                f = await staffing_forecast(
                    session, actor=actor, first_day=END, rules=rules, days=7, now=now
                )
            if i >= warmup:
                samples.append((time.perf_counter() - t0) * 1000)
            slots = len(f.slots)
    finally:
        await engine.dispose()
    assert f.model == "erlang_a", f.model
    return samples, slots


def time_erlang() -> list[dict[str, Any]]:
    from hotline.staffing.erlang import agents_needed
    from hotline.staffing.erlang_a import agents_needed_a

    out = []
    for calls, aht in ((5, 270), (100, 180), (360, 240), (3700, 300)):
        n = 2000
        seconds = timeit.timeit(lambda c=calls, a=aht: agents_needed(c, a), number=n) / n
        out.append(
            {
                "model": "erlang_c",
                "calls": calls,
                "aht": aht,
                "agents": agents_needed(calls, aht).agents,
                "ms": seconds * 1000,
            }
        )
        n = 500
        seconds = (
            timeit.timeit(lambda c=calls, a=aht: agents_needed_a(c, a, PATIENCE), number=n) / n
        )
        out.append(
            {
                "model": "erlang_a",
                "calls": calls,
                "aht": aht,
                "patience": PATIENCE,
                "agents": agents_needed_a(calls, aht, PATIENCE).agents,
                "ms": seconds * 1000,
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    dsn = pg_dsn()
    started = datetime.now(UTC).isoformat()
    url = asyncio.run(ensure_dataset(dsn, args.calls, args.fresh))
    samples, slots = asyncio.run(time_forecast(url, args.runs, args.warmup))
    erlang = time_erlang()
    p95 = pct(samples, 95)
    worst_erlang = max(e["ms"] for e in erlang)
    result = {
        "name": "staffing",
        "started_at": started,
        "machine": asyncio.run(machine_description(dsn)),
        "config": {"calls": args.calls, "days": DAYS, "runs": args.runs, "slots": slots},
        "forecast_ms": {
            "p50": statistics.median(samples),
            "p95": p95,
            "max": max(samples),
        },
        "erlang": erlang,
        "target_ms": args.target_ms,
        "erlang_target_ms": args.erlang_target_ms,
        "passed": p95 <= args.target_ms and worst_erlang <= args.erlang_target_ms,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))
    print(
        json.dumps({k: result[k] for k in ("config", "forecast_ms", "erlang", "passed")}, indent=2)
    )
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
