"""Home care benchmark: risk evaluation of check-ins on one core, and a doctor's worklist
with 100,000 followed patients in the database.

Risk: `hotline.care.risk.evaluate` (NEWS2, warning signs, severity, tier) over varied,
realistic check-ins (most patients well, some worsening, a few severe; measures missing as
they are at home; symptoms ticked), the process pinned to one core as bench/triage_speed.py
is. Target: at least 10,000 check-ins/s.

Worklist: a PostgreSQL database of its own (`bench_care_<patients>`, kept between runs unless
--fresh) gets the patients, their contacts and numbers, their doctors (the default capacity
each), last results and three days of check-in slots (yesterday done or missed, today, and
tomorrow due), written by INSERT ... SELECT generate_series. Timed: the real endpoint
`GET /api/v1/care/worklist` through the ASGI app (lifespan run, bearer token, the read log
written as in production), for a doctor with a full list of the default capacity (50), the
target's case: p95 <= 100 ms; and, for information, for one with 500 patients, ten times the
default capacity and the list's limit (its time is the application's Python: hydrating,
logging 500 reads and serialising 500 patients; the two queries take about 2 ms).

    python bench/care.py                               # 20,000 check-ins x 5 runs; 100,000 patients
    python bench/care.py --checkins 5000 --runs 2 --requests 30     # quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from common import RESULTS_DIR, machine_description, pg_dsn, summarise
from datagen import db_url, migrate_and_bootstrap, pg_create_database

TZ = "Asia/Ho_Chi_Minh"
PASSWORD = "bench-care-1022"
HEAVY = 500  # the heavy doctor's patients: the worklist's limit
CONTACT0, DOCTOR0 = 10_000_000, 1_000_000  # id ranges of the generated rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--checkins", type=int, default=20_000, help="check-ins evaluated per run")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--cpu", type=int, default=None, help="core to pin to (default: the last)")
    p.add_argument("--patients", type=int, default=100_000)
    p.add_argument("--requests", type=int, default=200, help="timed worklist requests each")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--target-rate", type=float, default=10_000.0)
    p.add_argument("--target-ms", type=float, default=100.0)
    p.add_argument("--fresh", action="store_true")
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "care.json")
    return p.parse_args(argv)


# -- risk evaluation ----------------------------------------------------------------------


def _checkins(n: int, seed: int = 1022) -> list[tuple[Any, int | None]]:
    """Varied check-ins as a city's home patients send them: (vitals, age)."""
    from hotline.care.risk import Vitals
    from hotline.care.rulesets import CONSCIOUSNESS, MILD_SYMPTOMS, SYMPTOMS

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        kind = rng.random()  # 70 % well, 22 % worsening, 8 % severe
        if kind < 0.70:
            spo2, rr, pulse, temp = (
                rng.randint(96, 99),
                rng.randint(12, 20),
                rng.randint(60, 95),
                36.5,
            )
        elif kind < 0.92:
            spo2, rr, pulse, temp = (
                rng.randint(93, 96),
                rng.randint(19, 25),
                rng.randint(85, 115),
                37.8,
            )
        else:
            spo2, rr, pulse, temp = (
                rng.randint(84, 93),
                rng.randint(24, 36),
                rng.randint(105, 135),
                39.0,
            )
        symptoms = frozenset(
            rng.sample(MILD_SYMPTOMS, rng.randint(0, 3))
            + (rng.sample(SYMPTOMS, 1) if kind >= 0.92 else [])
        )
        vitals = Vitals(
            spo2=spo2,
            respiratory_rate=rr if rng.random() < 0.9 else None,
            pulse=pulse if rng.random() < 0.8 else None,
            temperature=round(temp + rng.uniform(-0.5, 0.5), 1) if rng.random() < 0.7 else None,
            systolic_bp=rng.randint(85, 150) if rng.random() < 0.4 else None,
            diastolic_bp=rng.randint(55, 95) if rng.random() < 0.4 else None,
            consciousness=(rng.choice(CONSCIOUSNESS) if kind >= 0.92 else "alert")
            if rng.random() < 0.5
            else None,
            on_oxygen=kind >= 0.92 and rng.random() < 0.3,
            symptoms=symptoms,
        )
        age = rng.choice((None, rng.randint(1, 4), rng.randint(5, 11), rng.randint(18, 90)))
        out.append((vitals, age))
    return out


def time_risk(n: int, runs: int, cpu: int) -> dict[str, Any]:
    from hotline.care.risk import evaluate

    os.sched_setaffinity(0, {cpu})
    data = _checkins(n)
    tiers: dict[str, int] = {}
    for vitals, age in data[:2000]:  # warm-up, and the mix shown in the report
        tier = evaluate(vitals, age=age, warning_rule_set="byt-4377-2021").tier
        tiers[tier] = tiers.get(tier, 0) + 1
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for vitals, age in data:
            evaluate(vitals, age=age, warning_rule_set="byt-4377-2021")
        rates.append(n / (time.perf_counter() - t0))
    return {
        "checkins": n,
        "runs": runs,
        "cpu": cpu,
        "rate_median": statistics.median(rates),
        "rate_min": min(rates),
        "tier_mix_of_2000": tiers,
    }


# -- the worklist -------------------------------------------------------------------------

FILL = [
    """INSERT INTO contact (id, name, address, note, created_at)
       SELECT $1::bigint + i, 'Người bệnh ' || i, 'Số ' || (i % 300) || ' ngõ ' || (i % 97),
              '', now() - interval '10 days'
       FROM generate_series(1, $2::bigint) AS i""",
    """INSERT INTO contact_phone (e164, contact_id)
       SELECT '+8490' || lpad(i::text, 7, '0'), $1::bigint + i
       FROM generate_series(1, $2::bigint) AS i""",
]
DOCTORS = [
    """INSERT INTO "user" (id, username, full_name, role, password_hash, active, created_at)
       SELECT $1::bigint + d, 'bench-doctor-' || d, 'Bác sĩ ' || d, 'doctor', 'x', true, now()
       FROM generate_series(1, $2::bigint) AS d""",
    """INSERT INTO care_doctor (user_id, specialty, years_experience, licence_number, consult,
                                proactive, capacity, patient_count, active, created_at, updated_at)
       SELECT $1::bigint + d, 'Nội khoa', 6, '', false, true, $3, 0, true, now(), now()
       FROM generate_series(1, $2::bigint) AS d""",
]
# Patient i: 1..HEAVY the heavy doctor's, the next `capacity` the typical doctor's, the rest
# spread over the generated doctors, `capacity` each. One in ten has ended or been admitted.
PATIENTS = """
INSERT INTO care_patient (id, contact_id, status, age, test_date, test_type, vaccine_doses,
  comorbidities, comorbidities_stable, pregnant, can_self_care, has_carer, address, eligible,
  eligibility, doctor_id, state, risk_rank, last_checkin_at, last_result, slots_until,
  link_nonce, created_at)
SELECT i, $1::bigint + i, CASE WHEN i % 5 = 0 THEN 'F1' ELSE 'F0' END, 18 + i % 70,
  current_date - (i % 10)::int, 'rt_pcr', i % 3, '[]'::jsonb, false, false, true, i % 4 = 0,
  'Số ' || (i % 300), true,
  '{"eligible": true, "reasons": [], "rule_set_version": "byt-4038-2021"}'::jsonb,
  CASE WHEN i <= $3 THEN $4::bigint
       WHEN i <= $3 + $5 THEN $6::bigint
       ELSE $7::bigint + 1 + (i - $3 - $5 - 1) / $5 END,
  CASE WHEN i % 10 = 0 THEN (CASE WHEN i % 20 = 0 THEN 'ended' ELSE 'admitted' END)
       ELSE 'active' END,
  r.tier * 100 + r.news2, now() - make_interval(mins => (i % 600)::int),
  jsonb_build_object('news2', r.news2, 'tier', (ARRAY['green','yellow','orange','red'])[r.tier + 1],
    'risk', (ARRAY['low','low','medium','high'])[r.tier + 1], 'severity',
    (ARRAY['mild','mild','moderate','severe'])[r.tier + 1],
    'warning_signs', CASE WHEN r.tier >= 2 THEN '["spo2"]'::jsonb ELSE '[]'::jsonb END,
    'rule_set_version', 'news2-rcp-2017;byt-4377-2021;byt-4689-2021;tiers-3646-hcmc-2021'),
  now() + interval '2 days', md5(i::text)::varchar(16), now() - interval '10 days'
FROM generate_series(1, $2::bigint) AS i,
     LATERAL (SELECT CASE WHEN i % 50 = 0 THEN 3 WHEN i % 12 = 0 THEN 2
                          WHEN i % 4 = 0 THEN 1 ELSE 0 END AS tier,
                     (i * 7) % 12 AS news2) AS r
"""
SLOTS = """
INSERT INTO care_checkin_slot (id, patient_id, due_at, state)
SELECT (p.id - 1) * 8 + s.n, p.id, s.due_at,
  CASE WHEN s.due_at > now() THEN 'due'
       WHEN p.id % 9 = 0 THEN 'missed'
       WHEN p.id % 7 = 0 THEN 'reminded'
       ELSE 'done' END
FROM care_patient AS p
CROSS JOIN unnest($1::timestamptz[]) WITH ORDINALITY AS s(due_at, n)
WHERE p.state = 'active'
"""


def _slot_times(now: datetime) -> list[datetime]:
    """08:00 and 16:00 site time, yesterday, today and tomorrow."""
    tz = ZoneInfo(TZ)
    today = now.astimezone(tz).date()
    return [
        datetime.combine(today + timedelta(days=d), datetime.min.time(), tz).replace(hour=h)
        for d in (-1, 0, 1)
        for h in (8, 16)
    ]


async def _make_doctor(url: str, username: str) -> int:
    from hotline.auth.service import create_user
    from hotline.db import create_engine, make_sessionmaker
    from hotline.settings import Settings, normalise_database_url
    from hotline.site import Site

    settings = Settings(database_url=normalise_database_url(url), timezone=TZ)
    engine = create_engine(settings.effective_database_url)
    try:
        async with make_sessionmaker(engine, Site.from_settings(settings))() as s, s.begin():
            user = await create_user(s, username=username, password=PASSWORD, role="doctor")
            return int(user.id)
    finally:
        await engine.dispose()


async def ensure_dataset(dsn: str, patients: int, fresh: bool) -> tuple[str, int]:
    name = f"bench_care_{patients}"
    url = db_url(dsn, name)
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    finally:
        await conn.close()
    capacity = 50
    if exists and not fresh and await _complete(url, patients):
        return url, capacity
    print(f"generating {patients:,} patients in {name}", flush=True)
    await pg_create_database(dsn, name)
    await asyncio.to_thread(migrate_and_bootstrap, url)
    heavy = await _make_doctor(url, "bench-heavy")
    typical = await _make_doctor(url, "bench-typical")
    others = max(1, -(-(patients - HEAVY - capacity) // capacity))
    conn = await asyncpg.connect(url)
    try:
        for sql in FILL:
            await conn.execute(sql, CONTACT0, patients)
        await conn.execute(DOCTORS[0], DOCTOR0, others)
        await conn.execute(DOCTORS[1], DOCTOR0, others, capacity)
        for uid in (heavy, typical):
            await conn.execute(
                """INSERT INTO care_doctor (user_id, specialty, years_experience, licence_number,
                     consult, proactive, capacity, patient_count, active, created_at, updated_at)
                   VALUES ($1, 'Nội khoa', 8, '', false, true, $2, $2, true, now(), now())""",
                uid,
                HEAVY if uid == heavy else capacity,
            )
        await conn.execute(PATIENTS, CONTACT0, patients, HEAVY, heavy, capacity, typical, DOCTOR0)
        await conn.execute(
            """UPDATE care_doctor AS d SET patient_count = c.n
               FROM (SELECT doctor_id, count(*) AS n FROM care_patient GROUP BY doctor_id) AS c
               WHERE d.user_id = c.doctor_id"""
        )
        await conn.execute(SLOTS, _slot_times(datetime.now(UTC)))
        for table in (
            "contact",
            "contact_phone",
            "care_doctor",
            "care_patient",
            "care_checkin_slot",
        ):
            await conn.execute(f"ANALYZE {table}")
    finally:
        await conn.close()
    return url, capacity


async def _complete(url: str, patients: int) -> bool:
    """Whether an earlier run finished generating this dataset (the slots come last)."""
    conn = await asyncpg.connect(url)
    try:
        made = await conn.fetchval("SELECT count(*) FROM care_patient")
        slots = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM care_checkin_slot)")
        return bool(made == patients and slots)
    except asyncpg.PostgresError:
        return False
    finally:
        await conn.close()


async def _refresh_slots(url: str) -> None:
    """Today's slots exist whatever day the cached dataset was made on."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            SLOTS.replace("(p.id - 1) * 8 + s.n", "nextval('bench_slot_ids')")
            + " ON CONFLICT (patient_id, due_at) DO NOTHING",
            _slot_times(datetime.now(UTC)),
        )
    finally:
        await conn.close()


async def time_worklist(url: str, requests: int, warmup: int) -> dict[str, Any]:
    import httpx
    from asgi_lifespan import LifespanManager

    from hotline.app import create_app
    from hotline.settings import Settings, normalise_database_url

    settings = Settings(
        database_url=normalise_database_url(url), timezone=TZ, environment="production",
        secret_key="bench-care-secret-key-not-for-use-0123456789", log_level="WARNING",
    )  # fmt: skip
    app = create_app(settings)
    out: dict[str, Any] = {}
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://bench") as client:
            for who in ("bench-typical", "bench-heavy"):
                r = await client.post(
                    "/api/v1/auth/token", data={"username": who, "password": PASSWORD}
                )
                r.raise_for_status()
                headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
                samples, rows = [], 0
                for i in range(warmup + requests):
                    t0 = time.perf_counter()
                    r = await client.get("/api/v1/care/worklist", headers=headers)
                    took = (time.perf_counter() - t0) * 1000
                    r.raise_for_status()
                    rows = len(r.json())
                    if i >= warmup:
                        samples.append(took)
                out[who.removeprefix("bench-")] = {"patients": rows, **summarise(samples)}
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    dsn = pg_dsn()
    started = datetime.now(UTC).isoformat()
    cpu = args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))
    everywhere = os.sched_getaffinity(0)
    risk = time_risk(args.checkins, args.runs, cpu)
    os.sched_setaffinity(0, everywhere)
    url, capacity = asyncio.run(ensure_dataset(dsn, args.patients, args.fresh))
    asyncio.run(_ensure_slot_sequence(url))
    asyncio.run(_refresh_slots(url))
    worklist = asyncio.run(time_worklist(url, args.requests, args.warmup))
    passed = (
        risk["rate_median"] >= args.target_rate and worklist["typical"]["p95_ms"] <= args.target_ms
    )
    result = {
        "name": "care",
        "started_at": started,
        "machine": asyncio.run(machine_description(dsn)),
        "config": {
            "checkins": args.checkins,
            "runs": args.runs,
            "patients": args.patients,
            "capacity": capacity,
            "requests": args.requests,
        },
        "risk": risk,
        "worklist": worklist,
        "target_rate": args.target_rate,
        "target_ms": args.target_ms,
        "passed": passed,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps({k: result[k] for k in ("config", "risk", "worklist", "passed")}, indent=2))
    return 0 if passed else 1


async def _ensure_slot_sequence(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE SEQUENCE IF NOT EXISTS bench_slot_ids START 100000000000")
    finally:
        await conn.close()


if __name__ == "__main__":
    sys.exit(main())
