"""Live-dashboard benchmark: 200 dashboards connected, how fast a new case reaches each.

The product runs as deployed (two uvicorn workers, production settings, PostgreSQL: the
workers learn of each other's events by NOTIFY) on the site database of `sitedata.py`
(1M cases of history and the recent weeks). `--dashboards` supervisors' browsers sign in
with a cookie session each and open the stream the dashboard page opens,
`GET /api/v1/events`. By default each also behaves as the page's script
(web/static/dashboard/live.js): on a case or floor event it fetches `/dashboard/live`
again, at most once per 2 s and at least 300 ms after the event, one fetch at a time.
Then an operator creates cases through `POST /api/v1/cases` (bearer token) at a steady
pace; for each case and each connection the delay from the POST's send (and from its
acknowledgement) to the receipt of its `case.created` event is recorded. Events that
never arrive are counted as lost. One asyncio client process does it all (httpx); its
event-loop lag is recorded, so a slow client is not mistaken for a slow server.

Baseline in the same run: `live_baseline_app.py`, a bare Starlette SSE app in one process
that puts each published event in every connected client's queue, measured the same way
(without the fragment fetches, which it has no equivalent of).

Target: p99 <= 250 ms from the POST to every dashboard, no event lost.

    python bench/live.py                              # 200 dashboards, 150 cases
    python bench/live.py --dashboards 50 --cases 40   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from common import BENCH_DIR, RESULTS_DIR, machine_description, pct, pg_dsn, summarise
from pages import COOKIE, CSRF, server_cmd
from serve import Server
from sitedata import PASSWORD, ensure_site_dataset, operator_name, supervisor_name

PORT = 8904
BASELINE_PORT = 8905
# As web/static/dashboard/live.js: one fetch of the fragment per 2 s at most, not sooner
# than 300 ms plus a random part of 1.2 s after the event.
REFRESH_MS = 2000
MIN_DELAY_MS = 300
SPREAD_MS = 1200
# The events live.js refreshes on (the case kinds it lists, the floor's).
REFRESH_ON = ("case.", "agent.status", "call.answered")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dashboards", type=int, default=200)
    p.add_argument("--cases", type=int, default=150, help="cases created in the timed phase")
    p.add_argument("--interval", type=float, default=0.2, help="seconds between two cases")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--no-refresh",
        dest="refresh",
        action="store_false",
        help="streams only: the dashboards do not fetch the fragment again",
    )
    p.add_argument("--db-cases", type=int, default=1_000_000, help="site database size")
    p.add_argument("--db-calls", type=int, default=200_000)
    p.add_argument("--target-p99-ms", type=float, default=250.0)
    p.add_argument("--fresh", action="store_true", help="rebuild the cached datasets")
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "live.json")
    return p.parse_args(argv)


@dataclass
class Dashboard:
    headers: dict[str, str]
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    received: dict[str, float] = field(default_factory=dict)
    wanted: asyncio.Event = field(default_factory=asyncio.Event)
    last_fetch: float = -1e9


@dataclass
class Run:
    sent: dict[str, tuple[float, float]] = field(default_factory=dict)  # code -> send, ack
    refresh_ms: list[float] = field(default_factory=list)
    refresh_errors: int = 0
    stream_errors: list[str] = field(default_factory=list)
    loop_lag_ms: list[float] = field(default_factory=list)
    # Cores used during the timed phase (CPU seconds per second): the server's processes
    # and this client's, both on the same machine.
    server_cores: float | None = None
    client_cores: float | None = None


async def _stream(
    client: httpx.AsyncClient, url: str, d: Dashboard, run: Run, opening: asyncio.Semaphore
) -> None:
    """One dashboard's EventSource: reconnects after a failure, resuming from the last id
    it received (Last-Event-ID). A few open at a time (`opening`) until ready: 200 streams
    opened in the same instant would each take a database connection to check the session
    at once, past what PostgreSQL allows on a shared machine."""
    last_id = ""
    while True:
        kind, held = "", True
        await opening.acquire()
        headers = {**d.headers, **({"Last-Event-ID": last_id} if last_id else {})}
        try:
            async with client.stream("GET", url, headers=headers) as resp:
                lines = resp.aiter_lines() if resp.status_code == 200 else _nothing()
                async for line in lines:
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("id:"):
                        last_id = line[3:].strip()
                    elif line.startswith("data:") and kind == "case.created":
                        now = time.perf_counter()
                        code = json.loads(line[5:])["case_code"]
                        d.received.setdefault(code, now)
                    elif not line:
                        if kind == "ready" and held:
                            d.ready.set()
                            held = False
                            opening.release()
                        elif kind.startswith(REFRESH_ON):
                            d.wanted.set()
                        kind = ""
                run.stream_errors.append(f"stream ended ({resp.status_code})")
        except httpx.HTTPError as exc:
            run.stream_errors.append(type(exc).__name__)
        finally:
            if held:
                opening.release()
        await asyncio.sleep(1)


async def _nothing() -> AsyncIterator[str]:
    return
    yield


async def _refresher(client: httpx.AsyncClient, url: str, d: Dashboard, run: Run) -> None:
    """live.js's schedule(): one fetch at a time, 0.3-1.5 s after the event, <= 1 per 2 s."""
    while True:
        await d.wanted.wait()
        now = time.perf_counter()
        soonest = (MIN_DELAY_MS + random.random() * SPREAD_MS) / 1000
        delay = max(soonest, d.last_fetch + REFRESH_MS / 1000 - now)
        await asyncio.sleep(delay)
        d.wanted.clear()
        d.last_fetch = t0 = time.perf_counter()
        try:
            resp = await client.get(url, headers=d.headers)
            if resp.status_code == 200:
                run.refresh_ms.append((time.perf_counter() - t0) * 1000)
            else:
                run.refresh_errors += 1
        except httpx.HTTPError:
            run.refresh_errors += 1


async def _lag(run: Run) -> None:
    while True:
        t0 = time.perf_counter()
        await asyncio.sleep(0.05)
        run.loop_lag_ms.append((time.perf_counter() - t0 - 0.05) * 1000)


Publish = Callable[[httpx.AsyncClient, int], Awaitable[str]]


async def fan_out(
    base: str,
    events_path: str,
    dashboards: list[Dashboard],
    publish: Publish,
    args: argparse.Namespace,
    refresh_path: str | None,
    server: Server,
) -> Run:
    run = Run()
    # A client per dashboard, as a browser has: one pool of hundreds of connections costs
    # httpx time in proportion to its size on every request (the client became the
    # bottleneck).
    clients = [
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(60, read=None)) for _ in dashboards
    ]
    async with httpx.AsyncClient(base_url=base, timeout=30) as publisher:
        opening = asyncio.Semaphore(10)
        tasks = [
            asyncio.create_task(_stream(c, events_path, d, run, opening))
            for c, d in zip(clients, dashboards, strict=True)
        ]
        if refresh_path:
            tasks += [
                asyncio.create_task(_refresher(c, refresh_path, d, run))
                for c, d in zip(clients, dashboards, strict=True)
            ]
        tasks.append(asyncio.create_task(_lag(run)))
        try:
            await asyncio.wait_for(asyncio.gather(*(d.ready.wait() for d in dashboards)), 120)
            for i in range(3):  # warm-up: plans, templates, connections
                await publish(publisher, -1 - i)
            await asyncio.sleep(3)
            for d in dashboards:
                d.received.clear()
            run.loop_lag_ms.clear()
            cpu0, own0 = server.cpu_seconds(), time.process_time()
            start = time.perf_counter()
            for i in range(args.cases):
                # A steady pace: each case at its slot, whatever the previous POST took.
                await asyncio.sleep(max(0.0, start + i * args.interval - time.perf_counter()))
                t_send = time.perf_counter()
                code = await publish(publisher, i)
                run.sent[code] = (t_send, time.perf_counter())
            deadline = time.perf_counter() + 10
            while time.perf_counter() < deadline and not all(
                len(d.received) >= len(run.sent) for d in dashboards
            ):
                await asyncio.sleep(0.1)
            wall = time.perf_counter() - start
            run.server_cores = (server.cpu_seconds() - cpu0) / wall
            run.client_cores = (time.process_time() - own0) / wall
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)
    return run


def delays(run: Run, dashboards: list[Dashboard]) -> dict[str, Any]:
    from_send, from_ack, lost = [], [], 0
    slowest: list[float] = []  # per case, in sending order: its slowest delivery
    for code, (t_send, t_ack) in run.sent.items():
        worst = 0.0
        for d in dashboards:
            at = d.received.get(code)
            if at is None:
                lost += 1
            else:
                from_send.append((at - t_send) * 1000)
                from_ack.append((at - t_ack) * 1000)
                worst = max(worst, (at - t_send) * 1000)
        slowest.append(round(worst, 1))
    acks = [(ack - send) * 1000 for send, ack in run.sent.values()]
    return {
        "cases": len(run.sent),
        "deliveries_expected": len(run.sent) * len(dashboards),
        "lost": lost,
        "from_send": summarise(from_send) if from_send else None,
        "from_ack": summarise(from_ack) if from_ack else None,
        "post_ms": summarise(acks) if acks else None,
        "refresh": summarise(run.refresh_ms) if run.refresh_ms else None,
        "refresh_errors": run.refresh_errors,
        "stream_errors": len(run.stream_errors),
        "client_loop_lag_p99_ms": pct(run.loop_lag_ms, 99) if run.loop_lag_ms else None,
        "client_loop_lag_max_ms": max(run.loop_lag_ms) if run.loop_lag_ms else None,
        "slowest_delivery_per_case_ms": slowest,
        "server_cores": run.server_cores,
        "client_cores": run.client_cores,
    }


# --------------------------------------------------------------------------- product


async def _sign_in(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    form = await client.get("/login")
    token = CSRF.search(form.text)
    cookie = _cookie_of(form)
    if token is None or cookie is None:
        raise RuntimeError("no CSRF token or session cookie on /login")
    resp = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": token.group(1)},
        headers={"Cookie": cookie},
    )
    signed = _cookie_of(resp)
    if resp.status_code != 303 or signed is None:
        raise RuntimeError(f"sign-in of {username} failed: {resp.status_code}")
    return {"Cookie": signed}


def _cookie_of(resp: httpx.Response) -> str | None:
    # Production cookies are Secure: carried by hand over plain loopback (as in pages.py).
    for value in resp.headers.get_list("set-cookie"):
        name, _, rest = value.partition("=")
        if name.strip() == COOKIE:
            return f"{COOKIE}={rest.split(';', 1)[0]}"
    return None


def case_body(i: int) -> dict[str, Any]:
    return {
        "channel": "phone",
        "description": f"Khu trọ số {i} ngõ 45 Kim Mã mất nước hai ngày, xin hỗ trợ nước sạch",
        "category": "ho_tro_kho_khan",
        "contact": {"name": "Nguyễn Thị Lan", "phone": f"09{(i * 7907) % 100_000_000:08d}"},
        "ward_code": "00004",
        "address": f"Số {abs(i)} ngõ 45 Kim Mã",
    }


async def measure_product(
    args: argparse.Namespace, server: Server, *, refresh: bool
) -> tuple[Run, list[Dashboard]]:
    base = f"http://127.0.0.1:{PORT}"
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        resp = await client.post(
            "/api/v1/auth/token", data={"username": operator_name(1), "password": PASSWORD}
        )
        resp.raise_for_status()
        bearer = {"Authorization": f"Bearer {resp.json()['access_token']}"}
        # One session per dashboard (as many browsers), over the site's supervisors.
        sem = asyncio.Semaphore(4)

        async def one(k: int) -> Dashboard:
            async with sem:
                return Dashboard(await _sign_in(client, supervisor_name(k % 4 + 1)))

        dashboards = list(await asyncio.gather(*(one(k) for k in range(args.dashboards))))

    async def publish(pub: httpx.AsyncClient, i: int) -> str:
        r = await pub.post("/api/v1/cases", json=case_body(i), headers=bearer)
        if r.status_code != 201:
            raise RuntimeError(f"intake: {r.status_code} {r.text[:200]}")
        return str(r.json()["code"])

    fragment = "/dashboard/live" if refresh else None
    run = await fan_out(base, "/api/v1/events", dashboards, publish, args, fragment, server)
    return run, dashboards


async def measure_baseline(args: argparse.Namespace, server: Server) -> tuple[Run, list[Dashboard]]:
    base = f"http://127.0.0.1:{BASELINE_PORT}"
    dashboards = [Dashboard({}) for _ in range(args.dashboards)]

    async def publish(pub: httpx.AsyncClient, _i: int) -> str:
        r = await pub.post("/publish")
        return str(r.json()["code"])

    return await fan_out(base, "/events", dashboards, publish, args, None, server), dashboards


def baseline_cmd() -> str:
    return (
        f"uvicorn live_baseline_app:app --app-dir {BENCH_DIR} --host 127.0.0.1"
        f" --port {BASELINE_PORT} --no-access-log --loop uvloop --http httptools"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    t0 = time.monotonic()
    dsn, layer = ensure_site_dataset(pg_dsn(), args.db_cases, args.db_calls, fresh=args.fresh)
    data_seconds = time.monotonic() - t0
    machine = asyncio.run(machine_description(pg_dsn()))
    cmd = server_cmd(dsn, args.workers, PORT)
    print(
        f"live: {args.dashboards} dashboards, {args.cases} cases every {args.interval:g} s,"
        f" fragment refresh {'on' if args.refresh else 'off'}",
        flush=True,
    )
    # As the page behaves (streams and fragment fetches), then streams alone.
    product: dict[str, dict[str, Any]] = {}
    product_seconds = 0.0
    for mode in ("page", "streams") if args.refresh else ("streams",):
        t0 = time.monotonic()
        log_path = args.output.with_suffix(f".{mode}.server.raw")
        with Server(cmd, f"http://127.0.0.1:{PORT}", log_path=log_path) as server:
            run, boards = asyncio.run(measure_product(args, server, refresh=mode == "page"))
        product[mode] = delays(run, boards)
        product_seconds += time.monotonic() - t0
        print(f"product ({mode}): {json.dumps(product[mode])}", flush=True)
    main_run = product["page" if args.refresh else "streams"]
    t0 = time.monotonic()
    with Server(baseline_cmd(), f"http://127.0.0.1:{BASELINE_PORT}") as server:
        brun, bboards = asyncio.run(measure_baseline(args, server))
    baseline = delays(brun, bboards)
    baseline_seconds = time.monotonic() - t0
    p99 = main_run["from_send"]["p99_ms"] if main_run["from_send"] else None
    b99 = baseline["from_send"]["p99_ms"] if baseline["from_send"] else None
    result = {
        "benchmark": "live",
        "started_at": started.isoformat(),
        "machine": machine,
        "loadavg_1m_end": os.getloadavg()[0],
        "config": {
            "dashboards": args.dashboards,
            "cases": args.cases,
            "interval_s": args.interval,
            "workers": args.workers,
            "refresh": args.refresh,
            "db_cases": args.db_cases,
            "site_anchored_at": layer.anchored_at.isoformat(),
        },
        "seconds": {
            "dataset": data_seconds,
            "product": product_seconds,
            "baseline": baseline_seconds,
        },
        "target_p99_ms": args.target_p99_ms,
        "product": main_run,
        "product_streams": product["streams"] if args.refresh else None,
        "baseline": baseline,
        "p99_over_baseline": p99 / b99 if p99 and b99 else None,
        "passed": p99 is not None and p99 <= args.target_p99_ms and main_run["lost"] == 0,
    }
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    from webreport import live_table

    print(live_table(result))
    print(f"\nresults written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
