"""Case search benchmark: `list_cases(q=...)` over 1,000,000 cases in PostgreSQL.

The product path is the real one: `hotline.cases.queries.list_cases` with an operator
actor, `CaseFilter(q=...)`, first page of 50, which PostgreSQL answers with full-text
prefix terms on the folded `search_text` (GIN index ix_case_search_fts).

Baseline, measured in the same run on the same database: the obvious naive search, each
word of the query as `description ILIKE '%word%'`, newest first, same page size.

Queries: 30 realistic operator searches (common and rare words, folded and with diacritics,
2-3 word phrases, a case code, some matching nothing), each run `--rounds` times in
shuffled order; target p95 <= 100 ms over all timed product queries.

    python bench/search.py                 # 1M cases (cached database hotline_bench_1m)
    python bench/search.py --cases 100000 --rounds 2 --baseline-rounds 1   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import RESULTS_DIR, fmt, machine_description, markdown_table, pg_dsn, summarise
from datagen import ensure_pg_dataset

# (query, kind). Kinds only annotate the results; every query counts toward the percentiles.
QUERIES: list[tuple[str, str]] = [
    ("ho tro", "common, folded"),
    ("hỗ trợ", "common, diacritics"),
    ("gạo", "common, diacritics"),
    ("cach ly", "common, folded"),
    ("cách ly tại nhà", "phrase, diacritics"),
    ("tiem vac xin", "phrase, folded"),
    ("tiêm vắc xin", "phrase, diacritics"),
    ("xet nghiem", "common, folded"),
    ("F0", "common"),
    ("SpO2", "medium"),
    ("phong toa", "common, folded"),
    ("công nhân", "common, diacritics"),
    ("tien tro", "phrase, folded"),
    ("mất việc", "medium, diacritics"),
    ("phuong Cua Nam", "place, folded"),
    ("phường Thuận An", "place, diacritics"),
    ("Kim Mã", "place, diacritics"),
    ("Nguyễn Văn", "name prefix"),
    ("Trần Bảo Oanh", "rare name"),
    ("shipper", "rare"),
    ("giả danh nhân viên y tế", "rare phrase"),
    ("bán vé số", "rare phrase"),
    ("máy đo SpO2", "phrase"),
    ("khai bao y te", "phrase, folded"),
    ("nguoi gia", "common, folded"),
    ("ng", "very short prefix"),
    ("00A1-2B3C", "case code"),
    ("lũ lụt sạt lở", "no match"),
    ("xyzzy", "no match"),
    ("chó cắn mèo", "no match"),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cases", type=int, default=1_000_000)
    p.add_argument("--calls", type=int, default=200_000)
    p.add_argument("--db", default=None, help="database name (default by size)")
    p.add_argument("--rounds", type=int, default=7, help="timed passes over the 30 queries")
    p.add_argument("--baseline-rounds", type=int, default=2)
    p.add_argument("--target-p95-ms", type=float, default=100.0)
    p.add_argument("--fresh", action="store_true", help="rebuild the cached dataset")
    p.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE per query")
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "search.json")
    return p.parse_args(argv)


def db_name(n_cases: int) -> str:
    return "hotline_bench_1m" if n_cases == 1_000_000 else f"hotline_bench_search_{n_cases}"


def naive_stmt(q: str) -> Any:
    from sqlalchemy import and_, select

    from hotline.cases.models import Case

    words = [w for w in q.split() if w][:8]
    return (
        select(Case)
        .where(and_(*(Case.description.ilike(f"%{w}%") for w in words)))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(51)
    )


async def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    from hotline.auth.models import Role
    from hotline.auth.service import Actor
    from hotline.cases.queries import CaseFilter, list_cases
    from hotline.db import create_engine, make_sessionmaker
    from hotline.settings import load_settings, normalise_database_url
    from hotline.site import Site

    engine = create_engine(normalise_database_url(url))
    maker = make_sessionmaker(engine, Site.from_settings(load_settings()))
    actor = Actor(user_id=None, username="bench_operator", role=Role.OPERATOR)

    async def product(q: str) -> tuple[float, int]:
        async with maker() as session, session.begin():
            t0 = time.perf_counter()
            page = await list_cases(
                session, actor=actor, filters=CaseFilter(q=q), cursor=None, limit=50
            )
            return (time.perf_counter() - t0) * 1000, len(page.items)

    async def baseline(q: str) -> tuple[float, int]:
        async with maker() as session, session.begin():
            t0 = time.perf_counter()
            rows = (await session.scalars(naive_stmt(q))).all()
            return (time.perf_counter() - t0) * 1000, min(len(rows), 50)

    rng = random.Random(1022)
    per_query: dict[str, dict[str, Any]] = {
        q: {"kind": kind, "product_ms": [], "baseline_ms": []} for q, kind in QUERIES
    }
    try:
        if args.explain:
            await explain_all(engine, maker, actor)
        for q, _kind in QUERIES:  # warm-up: one unmeasured pass primes caches and plans
            _ms, n = await product(q)
            per_query[q]["hits"] = n
        for _ in range(args.rounds):
            order = [q for q, _ in QUERIES]
            rng.shuffle(order)
            for q in order:
                per_query[q]["product_ms"].append((await product(q))[0])
        for _ in range(args.baseline_rounds):
            order = [q for q, _ in QUERIES]
            rng.shuffle(order)
            for q in order:
                ms, n = await baseline(q)
                per_query[q]["baseline_ms"].append(ms)
                per_query[q]["baseline_hits"] = n
    finally:
        await engine.dispose()
    prod_all = [ms for v in per_query.values() for ms in v["product_ms"]]
    base_all = [ms for v in per_query.values() for ms in v["baseline_ms"]]
    return {
        "product": summarise(prod_all),
        "baseline": summarise(base_all),
        "queries": [
            {
                "q": q,
                "kind": v["kind"],
                "hits": v.get("hits"),
                "baseline_hits": v.get("baseline_hits"),
                "product_median_ms": statistics.median(v["product_ms"]),
                "product_max_ms": max(v["product_ms"]),
                "baseline_median_ms": (
                    statistics.median(v["baseline_ms"]) if v["baseline_ms"] else None
                ),
            }
            for q, v in per_query.items()
        ],
    }


async def explain_all(engine: Any, maker: Any, actor: Any) -> None:
    """EXPLAIN ANALYZE of the exact SQL list_cases sends, per query (diagnosis, not timed)."""
    from sqlalchemy import event

    from hotline.cases.queries import CaseFilter, list_cases

    captured: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
        captured.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", grab)
    try:
        for q, _ in QUERIES:
            async with maker() as session, session.begin():
                await list_cases(session, actor=actor, filters=CaseFilter(q=q), cursor=None)
                statement, params = captured[-1]
                conn = await session.connection()
                plan = await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                print(f"--- {q}\n" + "\n".join(r[0] for r in plan))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", grab)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    db = args.db or db_name(args.cases)
    url = ensure_pg_dataset(pg_dsn(), db, args.cases, args.calls, fresh=args.fresh)
    print(f"search: {len(QUERIES)} queries x {args.rounds} rounds on {db}", flush=True)
    res = asyncio.run(measure(url, args))
    p, b = res["product"], res["baseline"]
    ratio = b["p50_ms"] / p["p50_ms"] if p["p50_ms"] else None
    passed = p["p95_ms"] <= args.target_p95_ms
    result = {
        "benchmark": "search",
        "started_at": started.isoformat(),
        "machine": asyncio.run(machine_description(pg_dsn())),
        "config": {
            "database": db,
            "cases": args.cases,
            "rounds": args.rounds,
            "baseline_rounds": args.baseline_rounds,
            "queries": len(QUERIES),
            "page_size": 50,
        },
        "target_p95_ms": args.target_p95_ms,
        **res,
        "speedup_p50_vs_baseline": ratio,
        "passed": passed,
    }
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(render(result))
    print(f"\nresults written to {args.output}")
    return 0


def render(result: dict[str, Any]) -> str:
    p, b = result["product"], result["baseline"]
    summary = markdown_table(
        ["implementation", "queries timed", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        [
            ["product (list_cases, full-text)", p["n"]]
            + [fmt(p[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")],
            ["baseline (ILIKE scan)", b["n"]]
            + [fmt(b[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")],
        ],
    )
    per_q = markdown_table(
        ["query", "kind", "hits (page)", "product median ms", "baseline median ms"],
        [
            [
                f"`{r['q']}`",
                r["kind"],
                r["hits"],
                fmt(r["product_median_ms"]),
                fmt(r["baseline_median_ms"]),
            ]
            for r in result["queries"]
        ],
    )
    verdict = "PASS" if result["passed"] else "FAIL"
    return (
        f"{summary}\n\n- product p95 {fmt(p['p95_ms'])} ms (target ≤ "
        f"{result['target_p95_ms']:g} ms) — {verdict}\n- baseline/product p50: "
        f"×{fmt(result['speedup_p50_vs_baseline'])}\n\n{per_q}"
    )


if __name__ == "__main__":
    sys.exit(main())
