"""Summary-report benchmark: `hotline.reports.service.summary` over a 30-day window.

Two datasets (generated once and cached, see datagen.py):

- PostgreSQL, 10,000,000 cases + 2,000,000 calls over two years; target <= 200 ms.
- SQLite, 1,000,000 cases + 200,000 calls; target <= 1 s.

The product reads the incremental counters (case_counter, call_counter, unit_counter).
The baseline, measured in the same run on the same database, is the naive report: the same
figures computed by GROUP BY over the raw case, call and case_assignment rows of the
window. Before timing, the baseline's figures are checked to equal the product's, so the
comparison is between two correct answers.

    python bench/report.py                       # both engines, default sizes
    python bench/report.py --engines sqlite --sqlite-cases 100000 --runs 5   # quick
    python bench/report.py --fresh               # regenerate cached datasets
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from common import REPO_ROOT, RESULTS_DIR, fmt, machine_description, markdown_table, pct, pg_dsn
from datagen import SPAN_DAYS, SPAN_START, ensure_pg_dataset, ensure_sqlite_dataset

TZ = "Asia/Ho_Chi_Minh"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--engines", default="postgresql,sqlite", help="comma-separated")
    p.add_argument("--pg-cases", type=int, default=10_000_000)
    p.add_argument("--pg-calls", type=int, default=2_000_000)
    p.add_argument("--pg-db", default=None, help="database name (default by size)")
    p.add_argument("--sqlite-cases", type=int, default=1_000_000)
    p.add_argument("--sqlite-calls", type=int, default=200_000)
    p.add_argument("--runs", type=int, default=20, help="timed runs of the product")
    p.add_argument("--baseline-runs", type=int, default=5, help="timed runs of the baseline")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--days", type=int, default=30, help="window length in days")
    p.add_argument("--pg-target-ms", type=float, default=200.0)
    p.add_argument("--sqlite-target-ms", type=float, default=1000.0)
    p.add_argument("--fresh", action="store_true", help="rebuild cached datasets")
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "report.json")
    return p.parse_args(argv)


def window(days: int) -> tuple[date, date]:
    """The last `days` full local days of the dataset: a typical "last month" report."""
    end = (SPAN_START + timedelta(days=SPAN_DAYS)).date() - timedelta(days=1)
    return end - timedelta(days=days - 1), end


def pg_db_name(n_cases: int) -> str:
    return "hotline_bench_10m" if n_cases == 10_000_000 else f"hotline_bench_report_{n_cases}"


def stats(samples_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(samples_ms),
        "median_ms": statistics.median(samples_ms),
        "p95_ms": pct(samples_ms, 95),
        "min_ms": min(samples_ms),
        "max_ms": max(samples_ms),
    }


# --------------------------------------------------------------------------- the baseline


async def naive_summary(session: Any, date_from: date, date_to: date) -> dict[str, Any]:
    """The summary's figures straight from the raw rows of the window (no counters)."""
    from sqlalchemy import text

    from hotline.site import site_of

    tz = site_of(session).timezone
    lo = datetime.combine(date_from, datetime.min.time(), tz).astimezone(UTC)
    hi = datetime.combine(date_to + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
    if session.bind.dialect.name == "sqlite":
        # Stored as naive UTC text; Vietnam has no DST, so local time is a fixed +7 h.
        bounds = {
            "lo": lo.strftime("%Y-%m-%d %H:%M:%S.%f"),
            "hi": hi.strftime("%Y-%m-%d %H:%M:%S.%f"),
        }

        def day(c: str) -> str:
            return f"date({c}, '+7 hours')"

        def hour(c: str) -> str:
            return f"CAST(strftime('%H', {c}, '+7 hours') AS INT)"

        def flag(c: str) -> str:
            return f"sum({c})"
    else:
        bounds = {"lo": lo, "hi": hi}

        def day(c: str) -> str:
            return f"({c} AT TIME ZONE '{TZ}')::date"

        def hour(c: str) -> str:
            return f"extract(hour FROM {c} AT TIME ZONE '{TZ}')::int"

        def flag(c: str) -> str:
            return f"count(*) FILTER (WHERE {c})"

    async def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in (await session.execute(text(sql), bounds)).all()]

    in_cases = 'FROM "case" WHERE created_at >= :lo AND created_at < :hi'
    in_calls = "FROM call WHERE started_at >= :lo AND started_at < :hi"
    by_cat = await rows(
        f"SELECT category_code, count(*), {flag('ever_forwarded')}, {flag('urgent')}"
        f" {in_cases} GROUP BY category_code"
    )
    by_channel = await rows(f"SELECT channel, count(*) {in_cases} GROUP BY channel")
    by_day = await rows(f"SELECT {day('created_at')}, count(*) {in_cases} GROUP BY 1")
    by_hour = await rows(f"SELECT {hour('created_at')}, count(*) {in_cases} GROUP BY 1")
    calls = await rows(f"SELECT line, outcome, count(*) {in_calls} GROUP BY line, outcome")
    calls_day = await rows(f"SELECT {day('started_at')}, count(*) {in_calls} GROUP BY 1")
    calls_hour = await rows(f"SELECT {hour('started_at')}, count(*) {in_calls} GROUP BY 1")
    units = await rows(
        "SELECT u.code, sum(r), sum(s), sum(o) FROM ("
        " SELECT unit_id, 1 AS r, 0 AS s, 0 AS o FROM case_assignment"
        "  WHERE created_at >= :lo AND created_at < :hi"
        " UNION ALL SELECT unit_id, 0, 1, 0 FROM case_assignment"
        "  WHERE status = 'resolved' AND finished_at >= :lo AND finished_at < :hi"
        " UNION ALL SELECT unit_id, 0, 0, 1 FROM case_assignment"
        "  WHERE overdue_at >= :lo AND overdue_at < :hi"
        ") x JOIN unit u ON u.id = x.unit_id GROUP BY u.code"
    )
    return {
        "total": sum(r[1] for r in by_cat),
        "forwarded": sum(int(r[2] or 0) for r in by_cat),
        "urgent": sum(int(r[3] or 0) for r in by_cat),
        "by_category": {r[0] or "uncategorised": r[1] for r in by_cat},
        "by_channel": {r[0]: r[1] for r in by_channel},
        "by_day": {str(r[0]): r[1] for r in by_day},
        "by_hour": {int(r[0]): r[1] for r in by_hour},
        "calls_total": sum(r[2] for r in calls),
        "calls_by_day": {str(r[0]): r[1] for r in calls_day},
        "calls_by_hour": {int(r[0]): r[1] for r in calls_hour},
        "units": {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in units},
    }


def comparable(product: dict[str, Any]) -> dict[str, Any]:
    """The product's summary reshaped like naive_summary's output, for the equality check."""
    req = product["requests"]
    return {
        "total": req["total"],
        "forwarded": product["handling"]["forwarded"],
        "urgent": req["urgent"],
        "by_category": dict(req["by_category"]),
        "by_channel": dict(req["by_channel"]),
        "by_day": {d["date"]: d["requests"] for d in product["by_day"] if d["requests"]},
        "by_hour": {h["hour"]: h["requests"] for h in product["by_hour"] if h["requests"]},
        "calls_total": product["calls"]["total"],
        "calls_by_day": {d["date"]: d["calls"] for d in product["by_day"] if d["calls"]},
        "calls_by_hour": {h["hour"]: h["calls"] for h in product["by_hour"] if h["calls"]},
        "units": {
            u["unit"]: (u["received"], u["resolved"], u["overdue"])
            for u in product["units"]
            if u["received"] or u["resolved"] or u["overdue"]
        },
    }


# --------------------------------------------------------------------------- timing


async def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    from hotline.db import create_engine, make_sessionmaker
    from hotline.reports.service import summary
    from hotline.settings import load_settings, normalise_database_url
    from hotline.site import Site

    date_from, date_to = window(args.days)
    engine = create_engine(normalise_database_url(url))
    maker = make_sessionmaker(engine, Site.from_settings(load_settings()))

    async def product_once() -> dict[str, Any]:
        # A fresh session per call, as the API's unit of work does.
        async with maker() as session, session.begin():
            return await summary(session, date_from=date_from, date_to=date_to)

    async def baseline_once() -> dict[str, Any]:
        async with maker() as session, session.begin():
            return await naive_summary(session, date_from, date_to)

    async def timed(fn: Any, n: int) -> list[float]:
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            await fn()
            out.append((time.perf_counter() - t0) * 1000)
        return out

    try:
        prod_result = await product_once()
        base_result = await baseline_once()
        same = comparable(prod_result) == base_result
        if not same:
            print("WARNING: baseline figures differ from the product's", file=sys.stderr)
        # Warm-up of both, then interleave blocks so neither gets a systematically warmer
        # cache or a quieter machine.
        await timed(product_once, args.warmup)
        await timed(baseline_once, 1)
        prod_ms: list[float] = []
        base_ms: list[float] = []
        blocks = max(1, args.baseline_runs)
        per_block = -(-args.runs // blocks)
        for _ in range(blocks):
            prod_ms += await timed(product_once, min(per_block, args.runs - len(prod_ms)))
            base_ms += await timed(baseline_once, 1)
    finally:
        await engine.dispose()
    return {
        "window": {"from": date_from.isoformat(), "to": date_to.isoformat(), "days": args.days},
        "window_requests": prod_result["requests"]["total"],
        "window_calls": prod_result["calls"]["total"],
        "baseline_matches_product": same,
        "product": {**stats(prod_ms), "samples_ms": prod_ms},
        "baseline": {**stats(base_ms), "samples_ms": base_ms},
    }


def run_engine(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    if engine == "postgresql":
        db = args.pg_db or pg_db_name(args.pg_cases)
        url = ensure_pg_dataset(
            pg_dsn(), db, args.pg_cases, args.pg_calls, fresh=args.fresh, fts=False
        )
        cases, calls, target = args.pg_cases, args.pg_calls, args.pg_target_ms
        where = f"PostgreSQL database {db}"
    else:
        path = REPO_ROOT / "var" / "bench" / f"report-{args.sqlite_cases}.sqlite3"
        ensure_sqlite_dataset(path, args.sqlite_cases, args.sqlite_calls, fresh=args.fresh)
        url = f"sqlite:///{path}"
        cases, calls, target = args.sqlite_cases, args.sqlite_calls, args.sqlite_target_ms
        where = str(path.relative_to(REPO_ROOT))
    print(f"report/{engine}: timing summary() over {where}", flush=True)
    res = asyncio.run(measure(url, args))
    ratio = res["baseline"]["median_ms"] / res["product"]["median_ms"]
    res.update(
        engine=engine,
        dataset={"cases": cases, "calls": calls, "where": where},
        target_ms=target,
        speedup_vs_baseline=ratio,
        passed=res["product"]["p95_ms"] <= target and res["baseline_matches_product"],
    )
    p, b = res["product"], res["baseline"]
    print(
        f"  product median {p['median_ms']:.1f} ms p95 {p['p95_ms']:.1f} ms;"
        f" baseline median {b['median_ms']:.1f} ms; x{ratio:.1f};"
        f" {'PASS' if res['passed'] else 'FAIL'}",
        flush=True,
    )
    return res


def render(result: dict[str, Any]) -> str:
    headers = [
        "engine",
        "cases / calls",
        "window",
        "product median ms",
        "product p95 ms",
        "target",
        "baseline median ms",
        "baseline / product",
        "result",
    ]
    rows = []
    for r in result["engines"]:
        rows.append(
            [
                r["engine"],
                f"{r['dataset']['cases']:,} / {r['dataset']['calls']:,}",
                f"{r['window']['days']} d ({r['window_requests']:,} requests)",
                fmt(r["product"]["median_ms"]),
                fmt(r["product"]["p95_ms"]),
                f"p95 ≤ {r['target_ms']:g} ms",
                fmt(r["baseline"]["median_ms"]),
                f"×{fmt(r['speedup_vs_baseline'])}",
                "PASS" if r["passed"] else "FAIL",
            ]
        )
    return markdown_table(headers, rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    result = {
        "benchmark": "report",
        "started_at": started.isoformat(),
        "machine": asyncio.run(machine_description(pg_dsn())),
        "config": {
            "runs": args.runs,
            "baseline_runs": args.baseline_runs,
            "warmup": args.warmup,
            "days": args.days,
        },
        "engines": [run_engine(e, args) for e in engines],
    }
    result["passed"] = all(r["passed"] for r in result["engines"])
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print()
    print(render(result))
    print(f"\nresults written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
