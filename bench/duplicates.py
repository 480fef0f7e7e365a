"""Duplicate suggestion benchmark: `suggest_duplicates` over 1,000,000 cases.

The product path is the real one: `hotline.duplicates.service.suggest_duplicates` (the
(ward_code, created_at) index, at most `duplicate_max_candidates` rows scored), timed inside
a transaction as a request would run it, on PostgreSQL and on SQLite.

Data: the cached 1M-case dataset of `datagen.py` (own copies, `hotline_bench_dup_1m` and
`var/bench/dup-1000000.sqlite3`, because this benchmark adds rows), plus an overlay
rebuilt on each run: the last 72 h of the span are opened (recent cases are still being
worked), labelled events reported 2-20 times each are added (`dupdata.py`), and one "hot"
ward gets a surge of 1,500 more open cases so the candidate cap is exercised.

Queries: `--dup-queries` new reports of existing events (fresh paraphrases: no diacritics,
shorthand, typos) and `--novel-queries` reports of events nobody reported yet, at the end
of the span. Latency p50/p95/p99 over all of them; target p95 <= 50 ms.

Baseline in the same run: the naive scan, every open case of the 72 h window in any ward,
all scored (no ward index, no cap), on `--baseline-queries` of the same queries.

Quality (limit 5): for event reports, hit@1 / hit@5 (a true duplicate first / among the
five) and recall (true duplicates shown / min(5, reports of the event)); precision over all
suggestions (true duplicates / suggested); for novel reports, the share with no suggestion.

    python bench/duplicates.py
    python bench/duplicates.py --cases 100000 --sqlite-cases 100000   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import REPO_ROOT, RESULTS_DIR, machine_description, pct, pg_dsn, summarise
from datagen import SPAN_DAYS, SPAN_START, ensure_pg_dataset, ensure_sqlite_dataset
from dupdata import Event, new_event, report
from dupreport import render

SIM_NOW = SPAN_START + timedelta(days=SPAN_DAYS)
OVERLAY_BASE = 1_000_000_000
WINDOW = timedelta(hours=72)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cases", type=int, default=1_000_000, help="PostgreSQL cases")
    p.add_argument("--sqlite-cases", type=int, default=1_000_000, help="0 skips SQLite")
    p.add_argument("--events", type=int, default=150)
    p.add_argument("--surge", type=int, default=1500)
    p.add_argument("--dup-queries", type=int, default=300)
    p.add_argument("--novel-queries", type=int, default=150)
    p.add_argument("--baseline-queries", type=int, default=60)
    p.add_argument("--target-p95-ms", type=float, default=50.0)
    p.add_argument("--fresh", action="store_true", help="rebuild the cached datasets")
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "duplicates.json")
    return p.parse_args(argv)


async def overlay(maker: Any, args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    """Open the last 72 h, add labelled events and a surge; return events and queries."""
    from sqlalchemy import String, cast, delete, insert, select, update

    from hotline.cases.models import Case, CaseStatus
    from hotline.text import fold

    async with maker() as s, s.begin():
        await s.execute(delete(Case).where(Case.id >= OVERLAY_BASE))
        await s.execute(
            update(Case)
            .where(Case.created_at >= SIM_NOW - WINDOW, Case.status != CaseStatus.NEW)
            .values(status=CaseStatus.NEW, closed_at=None)
        )
        # The dataset copies 300 template texts; real reports all differ. A distinct tail
        # per case keeps the product's per-text feature cache from flattering the timings.
        await s.execute(
            update(Case)
            .where(Case.created_at >= SIM_NOW - WINDOW, ~Case.description.like("% (hộ %"))
            .values(description=Case.description + " (hộ " + cast(Case.id, String) + ")")
        )
        wards = sorted((await s.scalars(select(Case.ward_code).distinct())).all())
        wards = [w for w in wards if w]
        hot = wards[0]
        texts = list(
            await s.scalars(select(Case.description).where(Case.ward_code == hot).limit(200))
        )
    taken: set[str] = set()
    events: list[Event] = []
    rows: list[dict[str, Any]] = []

    def add(text: str, ward: str, category: str, at: datetime) -> str:
        n = len(rows)
        code = f"Y{n:07d}"
        rows.append(
            {
                "id": OVERLAY_BASE + n,
                "code": code,
                "channel": rng.choice(["phone", "phone", "zalo", "web", "facebook"]),
                "category_code": category,
                "urgent": False,
                "priority": "normal",
                "status": CaseStatus.NEW,
                "description": text,
                "ward_code": ward,
                "address": "",
                "public": False,
                "ever_forwarded": False,
                "search_text": fold(f"{code} {text}"),
                "created_at": at,
                "updated_at": at,
            }
        )
        return code

    for i in range(args.events):
        ward = hot if i % 10 == 0 else rng.choice(wards)
        event = new_event(rng, ward, taken)
        start = SIM_NOW - timedelta(hours=rng.uniform(2, 68))
        for _ in range(rng.randint(2, 20)):
            at = min(SIM_NOW - timedelta(minutes=1), start + timedelta(hours=rng.uniform(0, 6)))
            event.codes.append(add(report(rng, event), ward, event.category, at))
        events.append(event)
    for i in range(args.surge):
        at = SIM_NOW - timedelta(hours=rng.uniform(0, 72))
        add(f"{rng.choice(texts)} (tổ {i % 40 + 1}, số {i})", hot, "ho_tro_kho_khan", at)
    async with maker() as s, s.begin():
        for lo in range(0, len(rows), 1000):
            await s.execute(insert(Case), rows[lo : lo + 1000])
    queries = []
    for _ in range(args.dup_queries):
        e = rng.choice(events)
        queries.append(
            {"text": report(rng, e), "ward": e.ward_code, "cat": e.category, "truth": set(e.codes)}
        )
    for _ in range(args.novel_queries):
        e = new_event(rng, rng.choice(wards), taken)
        queries.append(
            {"text": report(rng, e), "ward": e.ward_code, "cat": e.category, "truth": set()}
        )
    rng.shuffle(queries)
    return {"events": events, "queries": queries, "overlay_rows": len(rows), "hot_ward": hot}


async def measure(url: str, args: argparse.Namespace, engine_name: str) -> dict[str, Any]:
    from hotline.db import create_engine, make_sessionmaker
    from hotline.duplicates.service import candidates, rank, suggest_duplicates
    from hotline.duplicates.similarity import Place, features
    from hotline.settings import load_settings, normalise_database_url
    from hotline.site import Site

    settings = load_settings()
    site = Site.from_settings(settings)
    engine = create_engine(normalise_database_url(url))
    maker = make_sessionmaker(engine, site)
    rng = random.Random(1022)
    try:
        plan = await overlay(maker, args, rng)
        queries = plan["queries"]

        async def product(q: dict[str, Any]) -> tuple[float, list[str]]:
            async with maker() as s, s.begin():
                t0 = time.perf_counter()
                found = await suggest_duplicates(
                    s, text=q["text"], ward_code=q["ward"], category_code=q["cat"], at=SIM_NOW
                )
                return (time.perf_counter() - t0) * 1000, [f.code for f in found]

        async def naive(q: dict[str, Any]) -> float:
            async with maker() as s, s.begin():
                t0 = time.perf_counter()
                pool = await candidates(
                    s,
                    ward_code=None,
                    category_code=None,
                    since=SIM_NOW - WINDOW,
                    until=SIM_NOW + WINDOW,
                    exclude_case_id=None,
                    limit=10**9,
                )
                rank(
                    pool,
                    text=q["text"],
                    place=Place(ward_code=q["ward"]),
                    at=SIM_NOW,
                    window_hours=site.duplicate_window_hours,
                    threshold=site.duplicate_threshold,
                    limit=5,
                )
                return (time.perf_counter() - t0) * 1000

        for q in queries[:20]:  # warm-up
            await product(q)
        samples, results = [], []
        for q in queries:
            ms, codes = await product(q)
            samples.append(ms)
            results.append(codes)
        # Cold: every candidate's text normalised afresh, as for the first report after a
        # restart (the product caches features by text; the warm run above is the usual case).
        cold = []
        for q in queries:
            features.cache_clear()
            cold.append((await product(q))[0])
        base = [await naive(q) for q in queries[: args.baseline_queries]]
        explain = await explain_plan(maker, engine_name, queries[0], plan["hot_ward"])
        clusters = await cluster_check(maker, plan)
    finally:
        await engine.dispose()
    prod, baseline = summarise(samples), summarise(base)
    return {
        "engine": engine_name,
        "overlay_rows": plan["overlay_rows"],
        "events": len(plan["events"]),
        "queries": len(queries),
        "product": prod,
        "product_cold": summarise(cold),
        "baseline": baseline,
        "ratio_p95": baseline["p95_ms"] / prod["p95_ms"] if prod["p95_ms"] else None,
        "quality": quality(queries, results),
        "clusters": clusters,
        "misses": [
            {
                "text": q["text"],
                "ward": q["ward"],
                "hot": q["ward"] == plan["hot_ward"],
                "got": r[:2],
                "truth": sorted(q["truth"])[:3],
            }
            for q, r in zip(queries, results, strict=True)
            if (q["truth"] and not set(r) & q["truth"]) or (not q["truth"] and r)
        ][:40],
        "plan": explain,
        "passed": prod["p95_ms"] <= args.target_p95_ms,
    }


async def cluster_check(maker: Any, plan: dict[str, Any]) -> dict[str, Any]:
    """find_clusters ward by ward over the window: time, and pair precision/recall on the
    labelled events (a labelled case grouped with any other event's case, or with an
    unlabelled case, is a false pair)."""
    from itertools import combinations

    from hotline.duplicates.clusters import find_clusters

    label = {code: e.key for e in plan["events"] for code in e.codes}
    wards = sorted({e.ward_code for e in plan["events"]})
    same = wrong = 0
    times, hot_ms, hot_cases = [], 0.0, 0
    for ward in wards:
        async with maker() as s, s.begin():
            t0 = time.perf_counter()
            found = await find_clusters(s, since=SIM_NOW - WINDOW, until=SIM_NOW, ward_code=ward)
            ms = (time.perf_counter() - t0) * 1000
        times.append(ms)
        if ward == plan["hot_ward"]:
            hot_ms, hot_cases = ms, found.cases_read
        for cluster in found.items:
            for a, b in combinations([m.case.code for m in cluster.members], 2):
                if a in label or b in label:
                    if label.get(a) == label.get(b):
                        same += 1
                    else:
                        wrong += 1
    truth = sum(len(e.codes) * (len(e.codes) - 1) // 2 for e in plan["events"])
    return {
        "wards": len(wards),
        "p50_ms": pct(times, 50),
        "max_ms": max(times),
        "hot_ward_ms": hot_ms,
        "hot_ward_cases": hot_cases,
        "pair_precision": same / (same + wrong) if same + wrong else None,
        "pair_recall": same / truth if truth else None,
    }


def quality(queries: list[dict[str, Any]], results: list[list[str]]) -> dict[str, Any]:
    dup = [(q, r) for q, r in zip(queries, results, strict=True) if q["truth"]]
    novel = [(q, r) for q, r in zip(queries, results, strict=True) if not q["truth"]]
    suggested = sum(len(r) for _q, r in zip(queries, results, strict=True))
    correct = sum(len(set(r) & q["truth"]) for q, r in dup)
    return {
        "dup_queries": len(dup),
        "novel_queries": len(novel),
        "hit_at_1": sum(1 for q, r in dup if r and r[0] in q["truth"]) / len(dup),
        "hit_at_5": sum(1 for q, r in dup if set(r) & q["truth"]) / len(dup),
        "recall_at_5": sum(len(set(r) & q["truth"]) / min(5, len(q["truth"])) for q, r in dup)
        / len(dup),
        "precision": correct / suggested if suggested else None,
        "novel_without_suggestion": sum(1 for _q, r in novel if not r) / len(novel),
    }


async def explain_plan(maker: Any, engine_name: str, q: dict[str, Any], hot: str) -> list[str]:
    """The candidate query's plan for the surge ward (shows the index in use)."""
    from hotline.duplicates.service import candidate_stmt

    stmt = candidate_stmt(
        ward_code=hot,
        category_code=None,
        since=SIM_NOW - WINDOW,
        until=SIM_NOW + WINDOW,
        exclude_case_id=None,
        limit=300,
    )
    async with maker() as s, s.begin():
        conn = await s.connection()
        compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        prefix = (
            "EXPLAIN (ANALYZE, COSTS OFF) "
            if engine_name == "postgresql"
            else "EXPLAIN QUERY PLAN "
        )
        rows = await conn.exec_driver_sql(prefix + str(compiled))
        return [" | ".join(str(c) for c in r) for r in rows]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    from hotline.migrate import upgrade
    from hotline.settings import normalise_database_url

    engines = []
    db = "hotline_bench_dup_1m" if args.cases == 1_000_000 else f"hotline_bench_dup_{args.cases}"
    url = ensure_pg_dataset(pg_dsn(), db, args.cases, 1000, fresh=args.fresh, fts=False)
    upgrade(normalise_database_url(url))
    res = asyncio.run(measure(url, args, "postgresql"))
    engines.append({**res, "cases": args.cases, "database": db})
    if args.sqlite_cases:
        path = REPO_ROOT / "var" / "bench" / f"dup-{args.sqlite_cases}.sqlite3"
        ensure_sqlite_dataset(path, args.sqlite_cases, 1000, fresh=args.fresh)
        sqlite_url = f"sqlite:///{path.resolve()}"
        upgrade(normalise_database_url(sqlite_url))
        res = asyncio.run(measure(sqlite_url, args, "sqlite"))
        engines.append({**res, "cases": args.sqlite_cases, "database": str(path.name)})
    result = {
        "benchmark": "duplicates",
        "started_at": started.isoformat(),
        "machine": asyncio.run(machine_description(pg_dsn())),
        "config": {
            "events": args.events,
            "surge": args.surge,
            "dup_queries": args.dup_queries,
            "novel_queries": args.novel_queries,
            "baseline_queries": args.baseline_queries,
        },
        "target_p95_ms": args.target_p95_ms,
        "engines": engines,
        "passed": all(e["passed"] for e in engines),
    }
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    print(render(result))
    for e in engines:
        print(f"\n{e['engine']} plan:\n  " + "\n  ".join(e["plan"]))
    print(f"\nresults written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
