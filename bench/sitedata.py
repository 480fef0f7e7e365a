"""A working site on top of the cached case history, for the page and live benchmarks.

The base dataset (datagen.py) is two years of finished history with nobody's name on it.
Pages read what a site has on an ordinary day: accounts (the operators who took the cases,
supervisors, an officer for every unit), ward committees for the categories handled by
wards, the last weeks' traffic with its work still open (new, taken, forwarded, accepted,
overdue), today's cases and calls, callbacks waiting and the operators' states.

`ensure_site_dataset` copies the base database (CREATE DATABASE ... TEMPLATE: seconds) and
turns its history into this site's once per SITE_VERSION: every case taken by one of the
operators, forwardings routed as the product routes them (ward committee of the case's ward
or the province unit of the category's type), nearly everything closed, a handful of
forwardings forgotten for months. Then on every run it lays the last weeks of traffic ending
now (sitelayer.py): "today", "open" and "overdue" are relative to the clock, and laying them
again also removes whatever the previous run's product wrote. The base database itself is
not changed, so the search and duplicate benchmarks keep measuring what they always did.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg

from datagen import (
    PG_COUNTERS,
    SPAN_START,
    case_templates,
    db_url,
    drop_case_indexes,
    ensure_pg_dataset,
    log,
    rebuild_case_indexes,
)
from sitelayer import POOL, Layer, lay_recent

SITE_VERSION = 2
PASSWORD = "bench-site-password"
N_OPERATORS = 40
N_SUPERVISORS = 4
# One history case in STUCK_EVERY is a forwarding a unit accepted and never answered.
STUCK_EVERY = 20_000


def source_db(n_cases: int) -> str:
    """The base dataset the search benchmark uses at this size."""
    return "hotline_bench_1m" if n_cases == 1_000_000 else f"hotline_bench_search_{n_cases}"


def site_db(n_cases: int) -> str:
    return "hotline_bench_site_1m" if n_cases == 1_000_000 else f"hotline_bench_site_{n_cases}"


def operator_name(k: int) -> str:
    return f"bench_op_{k:02d}"


def supervisor_name(k: int) -> str:
    return f"bench_sup_{k}"


def officer_name(unit_id: int) -> str:
    return f"bench_officer_{unit_id}"


def ensure_site_dataset(
    base_dsn: str, n_cases: int, n_calls: int, *, fresh: bool = False
) -> tuple[str, Layer]:
    """DSN of the site database (built or reused), its recent layer laid as of now."""
    source = ensure_pg_dataset(base_dsn, source_db(n_cases), n_cases, n_calls, fresh=fresh)
    name = site_db(n_cases)
    dsn = db_url(base_dsn, name)
    built_at = asyncio.run(_fetchval(source, "SELECT built_at FROM bench_meta"))
    meta = asyncio.run(_site_meta(dsn))
    if fresh or meta != {"version": SITE_VERSION, "source_built_at": built_at}:
        started = time.monotonic()
        log(f"building {name} from {source_db(n_cases)} (cached: {meta})")
        asyncio.run(_copy(base_dsn, source_db(n_cases), name))
        asyncio.run(_committees(dsn))
        asyncio.run(_history(dsn, built_at))
        log(f"built {name} in {time.monotonic() - started:.0f} s")
    else:
        from hotline.migrate import upgrade
        from hotline.settings import normalise_database_url

        log(f"reusing {name}")
        upgrade(normalise_database_url(dsn))
    layer = asyncio.run(lay_recent(dsn, n_cases, n_calls, datetime.now(UTC)))
    return dsn, layer


async def _fetchval(dsn: str, sql: str) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def _site_meta(dsn: str) -> dict[str, Any] | None:
    try:
        conn = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        if await conn.fetchval("SELECT to_regclass('bench_site')") is None:
            return None
        row = await conn.fetchrow("SELECT version, source_built_at FROM bench_site")
        return dict(row) if row else None
    finally:
        await conn.close()


async def _copy(base_dsn: str, source: str, name: str) -> None:
    conn = await asyncpg.connect(base_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        # TEMPLATE needs the source to have no other connection: retry briefly (autovacuum).
        for attempt in range(10):
            try:
                await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
                return
            except asyncpg.ObjectInUseError:
                if attempt == 9:
                    raise
                await asyncio.sleep(2)
    finally:
        await conn.close()


async def _committees(dsn: str) -> None:
    """A ward committee for every ward the cases come from, made by the product's service."""
    from hotline.db import create_engine, make_sessionmaker
    from hotline.directory.service import ensure_default_units
    from hotline.settings import load_settings, normalise_database_url
    from hotline.site import Site

    wards = await _fetch_column(dsn, 'SELECT DISTINCT ward_code FROM "case"')
    wards = sorted(set(wards) | {t.ward_code for t in case_templates(POOL)})
    engine = create_engine(normalise_database_url(dsn))
    try:
        maker = make_sessionmaker(engine, Site.from_settings(load_settings()))
        async with maker() as session, session.begin():
            made = await ensure_default_units(session, province_code="01", ward_codes=wards)
    finally:
        await engine.dispose()
    log(f"{len(made)} ward committees")


async def _fetch_column(dsn: str, sql: str) -> list[Any]:
    conn = await asyncpg.connect(dsn)
    try:
        return [r[0] for r in await conn.fetch(sql)]
    finally:
        await conn.close()


ROUTE_SQL = """
CREATE TABLE bench_route AS
SELECT c.code AS category, w.code AS ward, coalesce(
    CASE WHEN c.default_unit_type = 'ward_committee' THEN (
        SELECT min(uw.unit_id) FROM unit_ward uw JOIN unit u ON u.id = uw.unit_id
        WHERE uw.ward_code = w.code AND u.type = 'ward_committee') END,
    (SELECT min(id) FROM unit WHERE type = c.default_unit_type AND type <> 'ward_committee'),
    (SELECT min(id) FROM unit WHERE type = 'hotline')) AS unit_id
FROM category c CROSS JOIN (SELECT ward_code AS code FROM unit_ward
    UNION SELECT DISTINCT ward_code FROM "case") w
"""

# Every history case taken by an operator (and typed in by one, unless the citizen wrote it
# on the web or the app); all closed but a few answered and not yet closed, and the stuck.
HISTORY_CASES = """
UPDATE "case" c SET
    assignee_id = o.id,
    created_by_id = CASE WHEN c.channel IN ('web', 'app') THEN NULL ELSE o.id END,
    status = CASE WHEN c.id % {stuck} = 0 THEN 'accepted'
                  WHEN c.id % 1000 = 500 THEN 'resolved' ELSE 'closed' END,
    resolved_at = CASE WHEN c.id % {stuck} = 0 THEN NULL
                       ELSE coalesce(c.resolved_at, c.created_at + interval '2 hours') END,
    closed_at = CASE WHEN c.id % {stuck} = 0 OR c.id % 1000 = 500 THEN NULL
                     ELSE coalesce(c.closed_at, c.created_at + interval '3 hours') END
FROM bench_ops o WHERE o.k = (c.id * 7919) % {n_ops}
"""

# Forwardings to the unit the product would suggest, with the category's deadline; most
# answered in time, about one in eight late (escalated by the sweep), the stuck still held.
HISTORY_ASSIGNMENTS = """
UPDATE case_assignment a SET
    unit_id = r.unit_id,
    created_at = c.created_at + interval '10 minutes',
    due_at = c.created_at + interval '10 minutes' + make_interval(hours => g.forward_hours),
    status = CASE WHEN c.id % {stuck} = 0 THEN 'accepted' ELSE 'resolved' END,
    accepted_at = c.created_at + interval '40 minutes',
    finished_at = CASE WHEN c.id % {stuck} = 0 THEN NULL
        ELSE c.created_at + interval '1 hour'
             + make_interval(secs => g.forward_hours * 36 * ((c.id * 31) % 115)) END,
    answer = CASE WHEN c.id % {stuck} = 0 THEN NULL ELSE 'Đã xử lý' END,
    overdue_at = CASE WHEN c.id % {stuck} = 0 OR (c.id * 31) % 115 >= 100
        THEN c.created_at + interval '11 minutes' + make_interval(hours => g.forward_hours) END
FROM "case" c, category g, bench_route r
WHERE c.id = a.case_id AND g.code = c.category_code
  AND r.category = c.category_code AND r.ward = c.ward_code
"""


async def _history(dsn: str, source_built_at: str) -> None:
    from hotline.auth.service import hash_password

    password_hash = hash_password(PASSWORD)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET synchronous_commit = off")
        await conn.execute("SET maintenance_work_mem = '1GB'")
        now = datetime.now(UTC)
        users = [
            (operator_name(k), f"Điện thoại viên {k}", "operator", None)
            for k in range(1, N_OPERATORS + 1)
        ]
        users += [
            (supervisor_name(k), f"Trưởng ca {k}", "supervisor", None)
            for k in range(1, N_SUPERVISORS + 1)
        ]
        for unit_id, unit_name in await conn.fetch("SELECT id, name FROM unit ORDER BY id"):
            users.append(
                (officer_name(unit_id), f"Cán bộ {unit_name}"[:200], "unit_officer", unit_id)
            )
        await conn.executemany(
            'INSERT INTO "user" (username, full_name, role, unit_id, password_hash, active,'
            " created_at) VALUES ($1, $2, $3, $4, $5, true, $6)",
            [(*u, password_hash, SPAN_START) for u in users],
        )
        ops = await conn.fetch("SELECT id FROM \"user\" WHERE role = 'operator' ORDER BY username")
        await conn.execute(
            "INSERT INTO agent (user_id, status, status_since, missed)"
            " SELECT id, 'away', $1, 0 FROM \"user\" WHERE role = 'operator'",
            now,
        )
        await conn.execute("CREATE TEMP TABLE bench_ops (k int PRIMARY KEY, id bigint)")
        await conn.executemany(
            "INSERT INTO bench_ops VALUES ($1, $2)", [(k, r["id"]) for k, r in enumerate(ops)]
        )
        await conn.execute(ROUTE_SQL)
        log("history: users, routes")
        saved = await drop_case_indexes(conn)
        await conn.execute(HISTORY_CASES.format(stuck=STUCK_EVERY, n_ops=len(ops)))
        await conn.execute(HISTORY_ASSIGNMENTS.format(stuck=STUCK_EVERY))
        log("history: cases taken, forwardings routed")
        # The updates left a dead copy of every row: rewrite the tables as a site's would be.
        await conn.execute('VACUUM FULL "case"')
        await conn.execute("VACUUM FULL case_assignment")
        await rebuild_case_indexes(conn, saved)
        for sql in PG_COUNTERS:
            await conn.execute(sql)
        for table in ("case_counter", "call_counter", "unit_counter"):
            await conn.execute(f"CLUSTER {table} USING pk_{table}")
        await conn.execute(
            "CREATE TABLE bench_site (version int, source_built_at text, built_at text,"
            " anchored_at timestamptz)"
        )
        await conn.execute(
            "INSERT INTO bench_site VALUES ($1, $2, $3, NULL)",
            SITE_VERSION,
            source_built_at,
            now.isoformat(),
        )
    finally:
        await conn.close()
