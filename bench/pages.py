"""Page benchmark: the console, its case list, the unit inbox and the dashboard on 1M cases.

The product runs as deployed (`uvicorn --factory hotline.app:app_from_env`, two workers,
production settings) on the site database of `sitedata.py`: the cached 1M-case history
plus the last four weeks of a working site laid as of now (open, forwarded and overdue
work, today's cases and calls, the operators' states). Three people are signed in with a
cookie session, as a browser is: an operator, a supervisor and the officer of the unit
holding the most forwardings. Each page is requested by one sequential client over
loopback, `--rounds` times in shuffled order after a warm-up round; its server time is the
`ms` of the product's own access line for that request (the outermost middleware: routing,
sign-in check, queries, template, until the last byte is handed to the server), matched by
the `X-Request-ID` the client sends. The client's time is recorded too.

Baseline, measured in the same run on the same database (server stopped): the obvious
naive query behind each page through asyncpg, e.g. `SELECT * FROM "case" WHERE status =
'new' ORDER BY created_at DESC LIMIT 50`, same filter, same page size.

Target: p95 <= 150 ms server time for every page.

    python bench/pages.py                       # 1M cases
    python bench/pages.py --cases 100000 --calls 20000 --rounds 5   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from common import REPO_ROOT, RESULTS_DIR, machine_description, pct, pg_dsn, summarise
from serve import Server
from sitedata import PASSWORD, ensure_site_dataset, officer_name, operator_name, supervisor_name

PORT = 8903
BASE = f"http://127.0.0.1:{PORT}"
LIST_SIZE = 50
OPEN = ("new", "in_progress", "forwarded", "accepted")


@dataclass(frozen=True)
class Page:
    key: str
    role: str
    path: str
    what: str
    # The naive query behind the page and its arguments ($1...), for the baseline.
    baseline: list[tuple[str, tuple[Any, ...]]]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cases", type=int, default=1_000_000)
    p.add_argument("--calls", type=int, default=200_000)
    p.add_argument("--rounds", type=int, default=30, help="timed passes over every page")
    p.add_argument("--baseline-rounds", type=int, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--target-p95-ms", type=float, default=150.0)
    p.add_argument("--fresh", action="store_true", help="rebuild the cached datasets")
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "pages.json")
    return p.parse_args(argv)


def _list(where: str = "TRUE", *args: Any) -> list[tuple[str, tuple[Any, ...]]]:
    sql = f'SELECT * FROM "case" c WHERE {where} ORDER BY created_at DESC LIMIT {LIST_SIZE}'
    return [(sql, args)]


OVERDUE = (
    "EXISTS (SELECT 1 FROM case_assignment a WHERE a.case_id = c.id"
    " AND a.status IN ('pending', 'accepted') AND a.due_at < now())"
)
TODAY_COUNTS = (
    "SELECT category_code, channel, extract(hour FROM created_at AT TIME ZONE $1), count(*),"
    ' count(*) FILTER (WHERE urgent), count(*) FILTER (WHERE ever_forwarded) FROM "case"'
    " WHERE created_at >= $2 GROUP BY 1, 2, 3"
)
OPEN_COUNT = (
    "SELECT count(*) FROM \"case\" WHERE status IN ('new', 'in_progress', 'forwarded', 'accepted')"
)
OVERDUE_COUNT = (
    "SELECT count(DISTINCT case_id) FROM case_assignment"
    " WHERE status IN ('pending', 'accepted') AND due_at < now()"
)


async def choose(dsn: str) -> dict[str, Any]:
    """Who signs in and which filters the lists get: the heaviest realistic ones."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        q = conn.fetchrow
        operator = await q('SELECT id, username FROM "user" WHERE username = $1', operator_name(1))
        unit = await q(
            "SELECT unit_id, count(*) AS held FROM case_assignment"
            " WHERE status IN ('pending', 'accepted') GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
        )
        by_category = await conn.fetch(
            'SELECT category_code, count(*) FROM "case" GROUP BY 1 ORDER BY 2 DESC'
        )
        ward = await q('SELECT ward_code, count(*) FROM "case" GROUP BY 1 ORDER BY 2 DESC LIMIT 1')
        site = await q(
            "SELECT (SELECT count(*) FROM unit) AS units,"
            " (SELECT count(*) FROM unit WHERE type = 'ward_committee') AS committees,"
            " (SELECT count(*) FROM \"user\" WHERE role = 'operator') AS operators"
        )
        today = await conn.fetchval(
            "SELECT date_trunc('day', now() AT TIME ZONE 'Asia/Ho_Chi_Minh')"
            " AT TIME ZONE 'Asia/Ho_Chi_Minh'"
        )
    finally:
        await conn.close()
    return {
        "operator": operator["username"],
        "operator_id": operator["id"],
        "supervisor": supervisor_name(1),
        "officer": officer_name(unit["unit_id"]),
        "unit_id": unit["unit_id"],
        "unit_held": unit["held"],
        "category_top": by_category[0][0],
        "category_top_share": by_category[0][1] / sum(r[1] for r in by_category),
        "category_rare": by_category[-1][0],
        "category_rare_share": by_category[-1][1] / sum(r[1] for r in by_category),
        "ward": ward["ward_code"],
        "ward_share": ward["count"] / sum(r[1] for r in by_category),
        "today_start": today,
        "units": site["units"],
        "committees": site["committees"],
        "operators": site["operators"],
    }


def pages(c: dict[str, Any]) -> list[Page]:
    def rows(view: str, what: str, where: str = "TRUE", *args: Any, **params: str) -> Page:
        query = urlencode({"view": view, **params})
        return Page(
            # Request ids allow letters, digits and ._:- only (web/observe.py).
            re.sub(r"[^A-Za-z0-9._:-]", "_", ":".join(["list", view, *params.values()])),
            "operator",
            f"/console/cases?{query}",
            what,
            _list(where, *args),
        )

    dashboard = [
        (TODAY_COUNTS, ("Asia/Ho_Chi_Minh", c["today_start"])),
        (OPEN_COUNT, ()),
        (OVERDUE_COUNT, ()),
    ]
    return [
        Page("console", "operator", "/", "console page (new cases, 7-day figures)",
             _list("status = 'new'")),
        Page("console:supervisor", "supervisor", "/", "console page as a supervisor",
             _list("status = 'new'")),
        rows("new", "new, nobody holds them (default)", "status = 'new'"),
        rows("mine", "the operator's cases", "assignee_id = $1", c["operator_id"]),
        rows("overdue", "forwarding past its deadline", OVERDUE),
        rows("all", "everything"),
        rows("all", "status in progress", "status = 'in_progress'", status="in_progress"),
        rows("all", "status closed", "status = 'closed'", status="closed"),
        rows("all", f"commonest category ({c['category_top_share']:.0%})",
             "category_code = $1", c["category_top"], category=c["category_top"]),
        rows("all", f"rarest category ({c['category_rare_share']:.1%})",
             "category_code = $1", c["category_rare"], category=c["category_rare"]),
        rows("all", f"busiest ward ({c['ward_share']:.1%})", "ward_code = $1", c["ward"],
             ward=c["ward"]),
        Page("inbox", "officer", "/inbox", f"unit inbox ({c['unit_held']} held)", [(
            'SELECT * FROM case_assignment a JOIN "case" c ON c.id = a.case_id'
            " WHERE a.unit_id = $1 AND a.status IN ('pending', 'accepted')"
            " ORDER BY a.due_at LIMIT 200", (c["unit_id"],))]),
        Page("dashboard", "supervisor", "/dashboard", "dashboard page", dashboard),
        Page("dashboard:live", "supervisor", "/dashboard/live", "dashboard live fragment",
             dashboard[1:] + dashboard[:1]),
    ]  # fmt: skip


def server_cmd(dsn: str, workers: int, port: int = PORT) -> str:
    """The product as deployed: uvicorn workers, production settings (JSON access lines)."""
    env = (
        f"HOTLINE_DATABASE_URL={dsn} HOTLINE_ENVIRONMENT=production"
        f" HOTLINE_VAR_DIR={REPO_ROOT / 'var' / 'bench'} PYTHONPATH={REPO_ROOT / 'src'}"
    )
    return (
        f"{env} uvicorn --factory hotline.app:app_from_env --host 127.0.0.1 --port {port}"
        f" --workers {workers} --no-access-log --loop uvloop --http httptools"
    )


CSRF = re.compile(r'name="csrf" value="([^"]+)"')
COOKIE = "hotline_session"


def _keep_cookie(client: httpx.Client, resp: httpx.Response) -> None:
    # Production cookies are Secure (TLS ends at the reverse proxy); over plain loopback
    # httpx would not send them back, so the session cookie is carried by hand.
    for value in resp.headers.get_list("set-cookie"):
        name, _, rest = value.partition("=")
        if name.strip() == COOKIE:
            client.headers["Cookie"] = f"{COOKIE}={rest.split(';', 1)[0]}"


def sign_in(username: str, base: str = BASE) -> httpx.Client:
    """A client signed in with a page session, as a browser is."""
    client = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
    form = client.get("/login")
    _keep_cookie(client, form)
    token = CSRF.search(form.text)
    if token is None:
        raise RuntimeError("no CSRF token on /login")
    resp = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf": token.group(1)}
    )
    if resp.status_code != 303:
        raise RuntimeError(f"sign-in of {username} failed: {resp.status_code}")
    _keep_cookie(client, resp)
    client.cookies.clear()
    return client


def measure_product(c: dict[str, Any], plan: list[Page], args: argparse.Namespace) -> dict:
    clients = {role: sign_in(c[role]) for role in ("operator", "supervisor", "officer")}
    samples: dict[str, list[tuple[str, float, int]]] = {p.key: [] for p in plan}
    rng = random.Random(1022)
    try:
        for rnd in range(args.rounds + 1):  # round 0 warms up (plans, caches, templates)
            order = list(plan)
            rng.shuffle(order)
            for page in order:
                rid = f"bench-{rnd}-{page.key}"
                t0 = time.perf_counter()
                resp = clients[page.role].get(page.path, headers={"X-Request-ID": rid})
                ms = (time.perf_counter() - t0) * 1000
                if resp.status_code != 200:
                    raise RuntimeError(f"{page.path} as {page.role}: {resp.status_code}")
                if rnd:
                    samples[page.key].append((rid, ms, len(resp.content)))
    finally:
        for client in clients.values():
            client.close()
    return samples


def server_times(log_path: Path) -> dict[str, float]:
    """request id -> ms, from the product's JSON access lines."""
    out = {}
    for line in log_path.read_text(errors="replace").splitlines():
        if '"request"' not in line or "bench-" not in line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("event") == "request" and "request_id" in rec:
            out[rec["request_id"]] = float(rec["ms"])
    return out


async def measure_baseline(dsn: str, plan: list[Page], rounds: int) -> dict[str, list[float]]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    out: dict[str, list[float]] = {p.key: [] for p in plan}
    rng = random.Random(7)
    try:
        for rnd in range(rounds + 1):
            order = list(plan)
            rng.shuffle(order)
            for page in order:
                t0 = time.perf_counter()
                for sql, sql_args in page.baseline:
                    await conn.fetch(sql, *sql_args)
                if rnd:
                    out[page.key].append((time.perf_counter() - t0) * 1000)
    finally:
        await conn.close()
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    t_data = time.monotonic()
    dsn, layer = ensure_site_dataset(pg_dsn(), args.cases, args.calls, fresh=args.fresh)
    data_seconds = time.monotonic() - t_data
    chosen = asyncio.run(choose(dsn))
    plan = pages(chosen)
    machine = asyncio.run(machine_description(pg_dsn()))
    log_path = args.output.with_suffix(".server.raw")
    print(f"pages: {len(plan)} pages x {args.rounds} rounds, {args.workers} workers", flush=True)
    t0 = time.monotonic()
    with Server(server_cmd(dsn, args.workers), BASE, log_path=log_path):
        samples = measure_product(chosen, plan, args)
    product_seconds = time.monotonic() - t0
    by_id = server_times(log_path)
    base = asyncio.run(measure_baseline(dsn, plan, args.baseline_rounds))
    rows = []
    all_server: list[float] = []
    for page in plan:
        server = [by_id[rid] for rid, _ms, _n in samples[page.key] if rid in by_id]
        if len(server) != len(samples[page.key]):
            raise RuntimeError(f"{page.key}: access lines missing ({len(server)} found)")
        all_server += server
        s = summarise(server)
        b = statistics.median(base[page.key])
        rows.append(
            {
                "key": page.key,
                "role": page.role,
                "path": page.path,
                "what": page.what,
                "server": s,
                "client": summarise([ms for _r, ms, _n in samples[page.key]]),
                "bytes": statistics.median(n for _r, _ms, n in samples[page.key]),
                "baseline": summarise(base[page.key]),
                "product_over_baseline_p50": s["p50_ms"] / b if b else None,
                "passed": s["p95_ms"] <= args.target_p95_ms,
            }
        )
    result = {
        "benchmark": "pages",
        "started_at": started.isoformat(),
        "machine": machine,
        "loadavg_1m_end": os.getloadavg()[0],
        "config": {
            "cases": args.cases,
            "rounds": args.rounds,
            "baseline_rounds": args.baseline_rounds,
            "workers": args.workers,
            "list_size": LIST_SIZE,
            "chosen": {k: str(v) for k, v in chosen.items()},
        },
        "site": {
            "anchored_at": layer.anchored_at.isoformat(),
            "recent_cases": layer.cases,
            "cases_today": layer.cases_today,
            "open_cases": layer.open_cases,
            "active_forwardings": layer.active_forwardings,
            "overdue_forwardings": layer.overdue_forwardings,
            "recent_calls": layer.calls,
        },
        "seconds": {
            "dataset": data_seconds,
            "layer": layer.seconds,
            "product": product_seconds,
        },
        "target_p95_ms": args.target_p95_ms,
        "pages": rows,
        "overall": summarise(all_server),
        "overall_p95_ms": pct(all_server, 95),
        "passed": all(r["passed"] for r in rows),
    }
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    from webreport import pages_table

    print(pages_table(result))
    print(f"\nresults written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
