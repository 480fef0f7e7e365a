"""Large synthetic datasets for the report and search benchmarks, generated inside the database.

Rows are made by INSERT ... SELECT over generate_series (PostgreSQL) or a recursive CTE
(SQLite), not by Python loops: 10 million rows through the ORM would take hours on a
2-core box. Realism comes from ~300 "templates" drawn from the demo generator
(`hotline.demo.profiles.build_profile`): each generated case copies one template's
description, category, channel, ward, address and contact name, so category/channel/ward
frequencies and the Vietnamese text follow the demo profiles. Calls copy call templates
the same way.

Datasets are cached: a `bench_meta` table records the generator version and the sizes, and
a run reuses a database whose meta matches. Bump DATA_VERSION (PostgreSQL) or
SQLITE_DATA_VERSION when the generator changes.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

DATA_VERSION = 1
SQLITE_DATA_VERSION = 2
N_TEMPLATES = 300
N_CALL_TEMPLATES = 200
# Fixed span so a cached dataset and a fresh one are identical: ~2 years of traffic.
SPAN_START = datetime(2024, 11, 1, tzinfo=UTC)
SPAN_DAYS = 730
# Vietnam has had no daylight saving time since 1975, so local = UTC+7 (SQLite has no tz).
VN_OFFSET_HOURS = 7
# Full-text GIN indexes on "case" across schema versions (expression, then stored column).
FTS_INDEXES = ("ix_case_search_fts", "ix_case_search_vector")
# One case in FORWARD_EVERY is forwarded to a unit (a case_assignment row).
FORWARD_EVERY = 10


@dataclass(frozen=True)
class CaseTemplate:
    description: str
    category: str
    channel: str
    ward_code: str
    address: str
    contact_name: str
    urgent: bool
    search_rest: str  # folded "description address contact_name"; the code is prepended in SQL


@dataclass(frozen=True)
class CallTemplate:
    line: str
    branch: str | None
    outcome: str
    wait_seconds: int
    talk_seconds: int


def log(msg: str) -> None:
    print(f"[datagen {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def case_templates(n: int = N_TEMPLATES) -> list[CaseTemplate]:
    """A deterministic sample of demo cases from both historical profiles."""
    from hotline.demo.profiles import build_profile
    from hotline.text import fold

    pool = build_profile("ha-noi-2021").cases + build_profile("binh-duong-2021").cases
    rng = random.Random(1022)
    picked = rng.sample(pool, min(n, len(pool)))
    return [
        CaseTemplate(
            description=c.description,
            category=c.category,
            channel=c.channel,
            ward_code=c.ward_code,
            address=c.address,
            contact_name=c.contact_name,
            urgent=c.urgent,
            search_rest=fold(f"{c.description} {c.address} {c.contact_name}"),
        )
        for c in picked
    ]


def call_templates(n: int = N_CALL_TEMPLATES) -> list[CallTemplate]:
    from hotline.demo.profiles import build_profile

    pool = build_profile("ha-noi-2021").calls + build_profile("binh-duong-2021").calls
    rng = random.Random(1022)
    return [
        CallTemplate(c.line, c.branch, c.outcome, c.wait_seconds, c.talk_seconds)
        for c in rng.sample(pool, min(n, len(pool)))
    ]


def _tpl_row(t: CaseTemplate) -> tuple[object, ...]:
    return (
        t.description,
        t.category,
        t.channel,
        t.ward_code,
        t.address,
        t.contact_name,
        t.urgent,
        t.search_rest,
    )


# --------------------------------------------------------------------------- PostgreSQL


def db_url(base_dsn: str, dbname: str) -> str:
    """The same server as `base_dsn`, another database."""
    parts = urlsplit(base_dsn)
    return urlunsplit(parts._replace(path="/" + dbname))


async def pg_create_database(base_dsn: str, dbname: str, *, drop: bool = True) -> None:
    conn = await asyncpg.connect(base_dsn)
    try:
        if drop:
            await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{dbname}"')
    finally:
        await conn.close()


async def pg_drop_database(base_dsn: str, dbname: str) -> None:
    conn = await asyncpg.connect(base_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    finally:
        await conn.close()


def migrate_and_bootstrap(url: str, province_code: str = "01") -> None:
    """Product schema (alembic head) and reference data, exactly as `hotline migrate` does."""
    from hotline.migrate import upgrade
    from hotline.settings import normalise_database_url

    upgrade(normalise_database_url(url))
    asyncio.run(_bootstrap(url, province_code))


async def _bootstrap(url: str, province_code: str) -> None:
    from hotline.db import create_engine, make_sessionmaker
    from hotline.settings import load_settings, normalise_database_url
    from hotline.setup import bootstrap
    from hotline.site import Site

    engine = create_engine(normalise_database_url(url))
    try:
        maker = make_sessionmaker(engine, Site.from_settings(load_settings()))
        async with maker() as session, session.begin():
            await bootstrap(session, province_code=province_code)
    finally:
        await engine.dispose()


async def pg_meta(dsn: str) -> dict | None:
    try:
        conn = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        if await conn.fetchval("SELECT to_regclass('bench_meta')") is None:
            return None
        row = await conn.fetchrow("SELECT * FROM bench_meta")
        if row is None:
            return None
        meta = {k: row[k] for k in ("version", "cases", "calls")}
        meta["fts"] = row.get("fts", True)
        return meta
    finally:
        await conn.close()


# Indexes on "case" are dropped during the bulk insert and rebuilt afterwards: maintaining
# ten of them row by row is several times slower than building each once, sorted.
PG_CASE_INSERT = """
INSERT INTO "case" (id, code, channel, category_code, urgent, priority, status, description,
    ward_code, address, public, ever_forwarded, search_text, created_at, updated_at,
    resolved_at, closed_at)
SELECT g,
       upper(substr(h, 1, 4) || '-' || substr(h, 5, 4)),
       t.channel, t.category, t.urgent,
       CASE WHEN t.urgent THEN 'critical' ELSE 'normal' END,
       CASE WHEN g % 50 = 0 THEN 'new' WHEN g % 10 = 0 THEN 'resolved' ELSE 'closed' END,
       t.description, t.ward_code, t.address, false, g % {fwd} = 0,
       lower(substr(h, 1, 4) || ' ' || substr(h, 5, 4)) || ' ' || t.search_rest,
       at, at,
       CASE WHEN g % 50 <> 0 THEN at + interval '2 hours' END,
       CASE WHEN g % 10 <> 0 THEN at + interval '3 hours' END
FROM generate_series($1::bigint, $2::bigint) AS g
CROSS JOIN LATERAL (
    SELECT lpad(to_hex(g), 8, '0') AS h,
           $3::timestamptz + make_interval(secs => (g - 1) * $4::float8) AS at
) AS x
JOIN bench_tpl t ON t.i = (g * 7919) % {ntpl}
"""

PG_CALL_INSERT = """
INSERT INTO call (id, line, caller, started_at, answered_at, ended_at, menu_path, branch,
    queue_wait_seconds, talk_seconds, outcome)
SELECT g, t.line, '09' || lpad((g * 7907 % 100000000)::text, 8, '0'), at,
       CASE WHEN t.outcome = 'answered' THEN at + make_interval(secs => t.wait_seconds) END,
       at + make_interval(secs => t.wait_seconds + t.talk_seconds), '', t.branch,
       t.wait_seconds, t.talk_seconds, t.outcome
FROM generate_series($1::bigint, $2::bigint) AS g
CROSS JOIN LATERAL (
    SELECT $3::timestamptz + make_interval(secs => (g - 1) * $4::float8) AS at
) AS x
JOIN bench_call_tpl t ON t.i = (g * 104729) % {ntpl}
"""

PG_ASSIGNMENT_INSERT = """
INSERT INTO case_assignment (id, case_id, unit_id, status, note, due_at, overdue_at,
    created_at, accepted_at, finished_at, answer)
SELECT c.id / {fwd}, c.id, u.id,
       CASE WHEN c.status = 'new' THEN 'pending' ELSE 'resolved' END, '',
       c.created_at + interval '3 days',
       CASE WHEN c.id % 70 = 0 THEN c.created_at + interval '3 days' END,
       c.created_at + interval '10 minutes', c.created_at + interval '1 hour',
       CASE WHEN c.status <> 'new' THEN c.created_at + interval '2 hours' END,
       CASE WHEN c.status <> 'new' THEN 'Đã xử lý' END
FROM "case" c
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n FROM unit) u
  ON u.k = (c.id / {fwd}) % u.n
WHERE c.ever_forwarded
"""

# Counters rebuilt by aggregation: the same buckets as hotline.reports.rebuild (local day and
# hour in Asia/Ho_Chi_Minh, shard 0), computed by the database instead of a Python loop.
PG_COUNTERS = [
    "DELETE FROM case_counter",
    "DELETE FROM call_counter",
    "DELETE FROM unit_counter",
    """INSERT INTO case_counter (day, hour, category_code, channel, shard, created, forwarded,
           urgent)
       SELECT (created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date,
              extract(hour FROM created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::int,
              coalesce(category_code, ''), channel, 0, count(*),
              count(*) FILTER (WHERE ever_forwarded), count(*) FILTER (WHERE urgent)
       FROM "case" GROUP BY 1, 2, 3, 4""",
    """INSERT INTO call_counter (day, hour, line, branch, outcome, shard, calls, wait_seconds,
           talk_seconds)
       SELECT (started_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date,
              extract(hour FROM started_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::int,
              line, coalesce(branch, ''), coalesce(outcome, ''), 0, count(*),
              sum(queue_wait_seconds), sum(talk_seconds)
       FROM call GROUP BY 1, 2, 3, 4, 5""",
    """INSERT INTO unit_counter (day, unit_id, shard, received, resolved, overdue)
       SELECT day, unit_id, 0, sum(r), sum(s), sum(o) FROM (
           SELECT (created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day, unit_id,
                  1 AS r, 0 AS s, 0 AS o FROM case_assignment
           UNION ALL
           SELECT (finished_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, unit_id, 0, 1, 0
           FROM case_assignment WHERE status = 'resolved' AND finished_at IS NOT NULL
           UNION ALL
           SELECT (overdue_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, unit_id, 0, 0, 1
           FROM case_assignment WHERE overdue_at IS NOT NULL
       ) x GROUP BY day, unit_id""",
]


async def drop_case_indexes(conn: asyncpg.Connection) -> list[tuple[str, str, bool]]:
    """Drop the secondary indexes of "case" before a bulk write; returns what
    `rebuild_case_indexes` needs: (name, definition, is a constraint)."""
    saved = []
    for row in await conn.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'case'"
        " AND indexname NOT IN ('pk_case')"
    ):
        name = row["indexname"]
        con = await conn.fetchval(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = $1", name
        )
        if con:
            await conn.execute(f'ALTER TABLE "case" DROP CONSTRAINT "{name}"')
        else:
            await conn.execute(f'DROP INDEX "{name}"')
        saved.append((name, row["indexdef"], bool(con)))
    return saved


async def rebuild_case_indexes(
    conn: asyncpg.Connection, saved: list[tuple[str, str, bool]], *, fts: bool = True
) -> None:
    log("rebuilding case indexes")
    for name, indexdef, constraint in saved:
        if name in FTS_INDEXES and not fts:
            continue
        if constraint:
            # Only the unique code is a constraint; rebuild it as one.
            await conn.execute(f'ALTER TABLE "case" ADD CONSTRAINT "{name}" UNIQUE (code)')
        else:
            await conn.execute(indexdef)
        log(f"  {name}")


async def _pg_fill(dsn: str, n_cases: int, n_calls: int, fts: bool) -> None:
    tpls = case_templates()
    ctpls = call_templates()
    conn = await asyncpg.connect(dsn)
    try:
        # Superuser-only: skips FK triggers during the load (the templates only reference
        # wards and categories that bootstrap created) and keeps the load unlogged-fast.
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("SET maintenance_work_mem = '1GB'")
        await conn.execute("SET synchronous_commit = off")
        await conn.execute(
            "CREATE TEMP TABLE bench_tpl (i int PRIMARY KEY, description text, category text,"
            " channel text, ward_code text, address text, contact_name text, urgent bool,"
            " search_rest text)"
        )
        await conn.executemany(
            "INSERT INTO bench_tpl VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            [(i, *_tpl_row(t)) for i, t in enumerate(tpls)],
        )
        await conn.execute(
            "CREATE TEMP TABLE bench_call_tpl (i int PRIMARY KEY, line text, branch text,"
            " outcome text, wait_seconds int, talk_seconds int)"
        )
        await conn.executemany(
            "INSERT INTO bench_call_tpl VALUES ($1, $2, $3, $4, $5, $6)",
            [
                (i, t.line, t.branch, t.outcome, t.wait_seconds, t.talk_seconds)
                for i, t in enumerate(ctpls)
            ],
        )
        # Missing wards would violate the (disabled) FK; fail loudly rather than load junk.
        missing = await conn.fetchval(
            "SELECT count(*) FROM bench_tpl t LEFT JOIN ward w ON w.code = t.ward_code"
            " WHERE w.code IS NULL"
        )
        if missing:
            raise RuntimeError(f"{missing} template wards are not in the ward table")

        index_defs = await drop_case_indexes(conn)

        step = SPAN_DAYS * 86400 / n_cases
        batch = 1_000_000
        for lo in range(1, n_cases + 1, batch):
            hi = min(n_cases, lo + batch - 1)
            await conn.execute(
                PG_CASE_INSERT.format(fwd=FORWARD_EVERY, ntpl=len(tpls)),
                lo,
                hi,
                SPAN_START,
                step,
            )
            log(f"cases {hi:,}/{n_cases:,}")
        await rebuild_case_indexes(conn, index_defs, fts=fts)

        step = SPAN_DAYS * 86400 / max(n_calls, 1)
        for lo in range(1, n_calls + 1, batch):
            hi = min(n_calls, lo + batch - 1)
            await conn.execute(PG_CALL_INSERT.format(ntpl=len(ctpls)), lo, hi, SPAN_START, step)
            log(f"calls {hi:,}/{n_calls:,}")
        await conn.execute(PG_ASSIGNMENT_INSERT.format(fwd=FORWARD_EVERY))
        log("assignments done")
        for sql in PG_COUNTERS:
            await conn.execute(sql)
        # Live counters are written as time passes, so a day's rows sit on neighbouring
        # pages; aggregated in hash order they would be scattered over the whole table and
        # a 30-day report would read ~10x more pages than in production.
        for table in ("case_counter", "call_counter", "unit_counter"):
            await conn.execute(f"CLUSTER {table} USING pk_{table}")
        log("counters done")
        for seq_table in ("case", "call", "case_assignment"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{seq_table}\"', 'id'),"
                f' (SELECT coalesce(max(id), 1) FROM "{seq_table}"))'
            )
        await conn.execute(
            "CREATE TABLE bench_meta (version int, cases bigint, calls bigint, built_at text,"
            " fts bool)"
        )
        await conn.execute(
            "INSERT INTO bench_meta VALUES ($1, $2, $3, $4, $5)",
            DATA_VERSION,
            n_cases,
            n_calls,
            datetime.now(UTC).isoformat(),
            fts,
        )
        await conn.execute("RESET session_replication_role")
    finally:
        await conn.close()
    # VACUUM outside a transaction: visibility map for index-only scans, fresh statistics.
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute('VACUUM ANALYZE "case"')
        await conn.execute("VACUUM ANALYZE call")
        await conn.execute("VACUUM ANALYZE case_assignment")
        await conn.execute("VACUUM ANALYZE case_counter")
        await conn.execute("VACUUM ANALYZE call_counter")
        await conn.execute("VACUUM ANALYZE unit_counter")
    finally:
        await conn.close()


def ensure_pg_dataset(
    base_dsn: str,
    dbname: str,
    n_cases: int,
    n_calls: int,
    *,
    fresh: bool = False,
    fts: bool = True,
) -> str:
    """Return the DSN of a PostgreSQL database holding the dataset, building it if needed.

    fts=False skips the GIN full-text index: the report benchmark never uses it, and on
    10M rows it is the slowest part of the build (tens of minutes on 2 cores).
    """
    dsn = db_url(base_dsn, dbname)
    meta = None if fresh else asyncio.run(pg_meta(dsn))
    want = {"version": DATA_VERSION, "cases": n_cases, "calls": n_calls, "fts": fts}
    if meta == want:
        log(f"reusing cached {dbname} ({n_cases:,} cases, {n_calls:,} calls)")
        # The product's queries run on it: bring the cached schema to head (a no-op when
        # current; otherwise only the migrations newer than the dataset run).
        from hotline.migrate import upgrade
        from hotline.settings import normalise_database_url

        upgrade(normalise_database_url(dsn))
        return dsn
    log(f"building {dbname}: {n_cases:,} cases, {n_calls:,} calls (cached: {meta})")
    started = time.monotonic()
    asyncio.run(pg_create_database(base_dsn, dbname))
    migrate_and_bootstrap(dsn)
    asyncio.run(_pg_fill(dsn, n_cases, n_calls, fts))
    log(f"built {dbname} in {time.monotonic() - started:.0f} s")
    return dsn


# --------------------------------------------------------------------------- SQLite

SQLITE_CASE_INSERT = """
WITH RECURSIVE s(g) AS (SELECT ? UNION ALL SELECT g + 1 FROM s WHERE g < ?)
INSERT INTO "case" (id, code, channel, category_code, urgent, priority, status, description,
    ward_code, address, public, ever_forwarded, search_text, created_at, updated_at,
    resolved_at, closed_at)
SELECT g, substr(h, 1, 4) || '-' || substr(h, 5, 4), t.channel, t.category, t.urgent,
       CASE WHEN t.urgent THEN 'critical' ELSE 'normal' END,
       CASE WHEN g % 50 = 0 THEN 'new' WHEN g % 10 = 0 THEN 'resolved' ELSE 'closed' END,
       t.description, t.ward_code, t.address, 0, g % {fwd} = 0,
       lower(substr(h, 1, 4) || ' ' || substr(h, 5, 4)) || ' ' || t.search_rest,
       at, at,
       CASE WHEN g % 50 <> 0 THEN strftime('%Y-%m-%d %H:%M:%f', at, '+2 hours') END,
       CASE WHEN g % 10 <> 0 THEN strftime('%Y-%m-%d %H:%M:%f', at, '+3 hours') END
FROM (
    SELECT g, printf('%08X', g) AS h,
           strftime('%Y-%m-%d %H:%M:%f', ?, '+' || ((g - 1) * ?) || ' seconds') AS at
    FROM s
) x JOIN bench_tpl t ON t.i = (g * 7919) % {ntpl}
"""

SQLITE_CALL_INSERT = """
WITH RECURSIVE s(g) AS (SELECT ? UNION ALL SELECT g + 1 FROM s WHERE g < ?)
INSERT INTO call (id, line, caller, started_at, answered_at, ended_at, menu_path, branch,
    queue_wait_seconds, talk_seconds, outcome)
SELECT g, t.line, '09' || printf('%08d', g * 7907 % 100000000), at,
       CASE WHEN t.outcome = 'answered'
            THEN strftime('%Y-%m-%d %H:%M:%f', at, '+' || t.wait_seconds || ' seconds') END,
       strftime('%Y-%m-%d %H:%M:%f', at, '+' || (t.wait_seconds + t.talk_seconds) || ' seconds'),
       '', t.branch, t.wait_seconds, t.talk_seconds, t.outcome
FROM (
    SELECT g, strftime('%Y-%m-%d %H:%M:%f', ?, '+' || ((g - 1) * ?) || ' seconds') AS at FROM s
) x JOIN bench_call_tpl t ON t.i = (g * 104729) % {ntpl}
"""

SQLITE_ASSIGNMENT_INSERT = """
INSERT INTO case_assignment (id, case_id, unit_id, status, note, due_at, overdue_at,
    created_at, accepted_at, finished_at, answer)
SELECT c.id / {fwd}, c.id, u.id,
       CASE WHEN c.status = 'new' THEN 'pending' ELSE 'resolved' END, '',
       strftime('%Y-%m-%d %H:%M:%f', c.created_at, '+3 days'),
       CASE WHEN c.id % 70 = 0 THEN strftime('%Y-%m-%d %H:%M:%f', c.created_at, '+3 days') END,
       strftime('%Y-%m-%d %H:%M:%f', c.created_at, '+10 minutes'),
       strftime('%Y-%m-%d %H:%M:%f', c.created_at, '+1 hours'),
       CASE WHEN c.status <> 'new' THEN strftime('%Y-%m-%d %H:%M:%f', c.created_at, '+2 hours')
       END,
       CASE WHEN c.status <> 'new' THEN 'Đã xử lý' END
FROM "case" c
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n FROM unit) u
  ON u.k = (c.id / {fwd}) % u.n
WHERE c.ever_forwarded
"""

_LOCAL = f"'+{VN_OFFSET_HOURS} hours'"
SQLITE_COUNTERS = [
    "DELETE FROM case_counter",
    "DELETE FROM call_counter",
    "DELETE FROM unit_counter",
    f"""INSERT INTO case_counter (day, hour, category_code, channel, shard, created, forwarded,
            urgent)
        SELECT date(created_at, {_LOCAL}), CAST(strftime('%H', created_at, {_LOCAL}) AS INT),
               coalesce(category_code, ''), channel, 0, count(*), sum(ever_forwarded),
               sum(urgent)
        FROM "case" GROUP BY 1, 2, 3, 4""",
    f"""INSERT INTO call_counter (day, hour, line, branch, outcome, shard, calls, wait_seconds,
            talk_seconds)
        SELECT date(started_at, {_LOCAL}), CAST(strftime('%H', started_at, {_LOCAL}) AS INT),
               line, coalesce(branch, ''), coalesce(outcome, ''), 0, count(*),
               sum(queue_wait_seconds), sum(talk_seconds)
        FROM call GROUP BY 1, 2, 3, 4, 5""",
    f"""INSERT INTO unit_counter (day, unit_id, shard, received, resolved, overdue)
        SELECT day, unit_id, 0, sum(r), sum(s), sum(o) FROM (
            SELECT date(created_at, {_LOCAL}) AS day, unit_id, 1 AS r, 0 AS s, 0 AS o
            FROM case_assignment
            UNION ALL
            SELECT date(finished_at, {_LOCAL}), unit_id, 0, 1, 0 FROM case_assignment
            WHERE status = 'resolved' AND finished_at IS NOT NULL
            UNION ALL
            SELECT date(overdue_at, {_LOCAL}), unit_id, 0, 0, 1 FROM case_assignment
            WHERE overdue_at IS NOT NULL
        ) GROUP BY day, unit_id""",
]


def _sqlite_micros(conn: sqlite3.Connection, table: str, columns: tuple[str, ...]) -> None:
    """strftime's %f gives milliseconds; SQLAlchemy writes and expects microseconds.

    Padding keeps the stored text identical in shape to what the product writes, so string
    comparisons against bound datetimes order correctly.
    """
    sets = ", ".join(f"{c} = {c} || '000'" for c in columns)
    conn.execute(f'UPDATE "{table}" SET {sets}')


def sqlite_meta(path: Path) -> dict | None:
    if not path.exists():
        return None
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT version, cases, calls FROM bench_meta").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return {"version": row[0], "cases": row[1], "calls": row[2]} if row else None


def _sqlite_fill(path: Path, n_cases: int, n_calls: int) -> None:
    tpls = case_templates()
    ctpls = call_templates()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("BEGIN")
        conn.execute(
            "CREATE TEMP TABLE bench_tpl (i INTEGER PRIMARY KEY, description, category, channel,"
            " ward_code, address, contact_name, urgent, search_rest)"
        )
        conn.executemany(
            "INSERT INTO bench_tpl VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(i, *_tpl_row(t)) for i, t in enumerate(tpls)],
        )
        conn.execute(
            "CREATE TEMP TABLE bench_call_tpl (i INTEGER PRIMARY KEY, line, branch, outcome,"
            " wait_seconds, talk_seconds)"
        )
        conn.executemany(
            "INSERT INTO bench_call_tpl VALUES (?, ?, ?, ?, ?, ?)",
            [
                (i, t.line, t.branch, t.outcome, t.wait_seconds, t.talk_seconds)
                for i, t in enumerate(ctpls)
            ],
        )
        # Same reason as on PostgreSQL: build the secondary indexes once, after the load.
        index_sql = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'case'"
            " AND sql IS NOT NULL"
        ).fetchall()
        for name, _sql in index_sql:
            conn.execute(f'DROP INDEX "{name}"')
        start = SPAN_START.strftime("%Y-%m-%d %H:%M:%S")
        step = SPAN_DAYS * 86400 / n_cases
        batch = 250_000
        for lo in range(1, n_cases + 1, batch):
            hi = min(n_cases, lo + batch - 1)
            conn.execute(
                SQLITE_CASE_INSERT.format(fwd=FORWARD_EVERY, ntpl=len(tpls)),
                (lo, hi, start, step),
            )
            log(f"sqlite cases {hi:,}/{n_cases:,}")
        _sqlite_micros(conn, "case", ("created_at", "updated_at", "resolved_at", "closed_at"))
        for _name, sql in index_sql:
            conn.execute(sql)
        log("sqlite case indexes rebuilt")
        step = SPAN_DAYS * 86400 / max(n_calls, 1)
        for lo in range(1, n_calls + 1, batch):
            hi = min(n_calls, lo + batch - 1)
            conn.execute(SQLITE_CALL_INSERT.format(ntpl=len(ctpls)), (lo, hi, start, step))
        _sqlite_micros(conn, "call", ("started_at", "answered_at", "ended_at"))
        log("sqlite calls done")
        conn.execute(SQLITE_ASSIGNMENT_INSERT.format(fwd=FORWARD_EVERY))
        _sqlite_micros(
            conn,
            "case_assignment",
            ("due_at", "overdue_at", "created_at", "accepted_at", "finished_at"),
        )
        for sql in SQLITE_COUNTERS:
            conn.execute(sql)
        conn.execute("CREATE TABLE bench_meta (version, cases, calls, built_at)")
        conn.execute(
            "INSERT INTO bench_meta VALUES (?, ?, ?, ?)",
            (SQLITE_DATA_VERSION, n_cases, n_calls, datetime.now(UTC).isoformat()),
        )
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()


def ensure_sqlite_dataset(path: Path, n_cases: int, n_calls: int, *, fresh: bool = False) -> Path:
    meta = None if fresh else sqlite_meta(path)
    if meta == {"version": SQLITE_DATA_VERSION, "cases": n_cases, "calls": n_calls}:
        log(f"reusing cached {path} ({n_cases:,} cases)")
        return path
    log(f"building {path}: {n_cases:,} cases, {n_calls:,} calls (cached: {meta})")
    started = time.monotonic()
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    migrate_and_bootstrap(f"sqlite:///{path.resolve()}")
    _sqlite_fill(path, n_cases, n_calls)
    log(f"built {path} in {time.monotonic() - started:.0f} s")
    return path


def local_window_utc(date_from, date_to) -> tuple[datetime, datetime]:
    """UTC bounds of inclusive local dates [date_from, date_to] in Asia/Ho_Chi_Minh."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    lo = datetime(date_from.year, date_from.month, date_from.day, tzinfo=tz)
    end = date_to + timedelta(days=1)
    hi = datetime(end.year, end.month, end.day, tzinfo=tz)
    return lo.astimezone(UTC), hi.astimezone(UTC)
