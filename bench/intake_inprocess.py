"""In-process profile of case intake: the ASGI app (production environment, JSON access line
to /dev/null) driven by concurrent tasks posting the intake benchmark's reports to
`POST /api/v1/cases` against a fresh PostgreSQL database, no HTTP. Prints this process's CPU
per report (the figure the intake benchmark's throughput follows), PostgreSQL's, wall
throughput, and checks that every report was stored once, triage's suggestion included.

    python bench/intake_inprocess.py --requests 5000 --concurrency 32 [--urgent] [--profile]

`--urgent` gives every report its urgency (no triage); `--profile` prints cProfile's top
functions over the measured requests. Under py-spy: `py-spy record -r 400 -f raw -o out.txt
-- python bench/intake_inprocess.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO_ROOT, pg_dsn
from datagen import db_url, migrate_and_bootstrap, pg_create_database

DB_NAME = "hotline_intake_inprocess"
USERNAME, PASSWORD = "bench_operator", "bench-operator-password"


def bodies(tag: str, n: int, *, urgent: bool) -> list[bytes]:
    """The bodies bench/intake.lua sends with wrk's one thread (category given, urgency left
    to triage)."""
    out = []
    for i in range(n):
        doc: dict[str, Any] = {
            "channel": "phone",
            "description": "Nhà tôi có 4 người, mất việc do bão, cần hỗ trợ khó khăn"
            f" ({tag}-t1-#{i})",
            "category": "ho_tro_kho_khan",
            "contact": {"name": "Nguyễn Văn A", "phone": f"091{i % 10_000_000:07d}"},
            "ward_code": "00004",
            "address": f"Số {i % 500 + 1} Kim Mã",
        }
        if urgent:
            doc["urgent"] = False
        out.append(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode())
    return out


async def make_operator(dsn: str) -> None:
    from hotline.auth.service import create_user
    from hotline.db import create_engine, make_sessionmaker
    from hotline.settings import load_settings, normalise_database_url
    from hotline.site import Site

    engine = create_engine(normalise_database_url(dsn))
    try:
        maker = make_sessionmaker(engine, Site.from_settings(load_settings()))
        async with maker() as session, session.begin():
            await create_user(session, username=USERNAME, password=PASSWORD, role="operator")
    finally:
        await engine.dispose()


def backend_cpu(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


async def run(args: argparse.Namespace, dsn: str) -> None:
    import asyncpg
    import httpx
    from asgi_lifespan import LifespanManager

    from hotline.app import app_from_env

    os.environ["HOTLINE_DATABASE_URL"] = dsn
    os.environ["HOTLINE_ENVIRONMENT"] = "production"
    os.environ.setdefault("HOTLINE_VAR_DIR", str(REPO_ROOT / "var" / "bench"))
    app = app_from_env()
    url = "/api/v1/cases"
    from hotline.cases import service

    # Reports opened in a unit of work instead of the one-statement fast path.
    portable = [0]
    open_case = service.open_case

    async def counted_open_case(*a: Any, **k: Any) -> Any:
        portable[0] += 1
        return await open_case(*a, **k)

    service.open_case = counted_open_case  # type: ignore[assignment]

    async def post(body: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
        """One request as uvicorn hands it to the app (no HTTP client's own work counted)."""
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "server": ("127.0.0.1", 8902),
            "client": ("127.0.0.1", 40000),
            "scheme": "http",
            "method": "POST",
            "root_path": "",
            "path": url,
            "raw_path": url.encode(),
            "query_string": b"",
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
            "state": {},
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client stays connected
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, send)
        return status, b"".join(chunks)

    async def drive(items: list[bytes], headers: list[tuple[bytes, bytes]]) -> list[float]:
        queue = list(reversed(items))
        latencies: list[float] = []

        async def worker() -> None:
            while queue:
                body = queue.pop()
                t = time.perf_counter()
                status, answer = await post(body, headers)
                latencies.append(time.perf_counter() - t)
                if status != 201:
                    raise RuntimeError(f"{status} {answer.decode()}")

        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        return latencies

    transport = httpx.ASGITransport(app=app)
    async with (
        LifespanManager(app, startup_timeout=120),
        httpx.AsyncClient(transport=transport, base_url="http://intake") as client,
    ):
        r = await client.post(
            "/api/v1/auth/token", data={"username": USERNAME, "password": PASSWORD}
        )
        r.raise_for_status()
        headers = [
            (b"host", b"127.0.0.1:8902"),
            (b"authorization", b"Bearer " + r.json()["access_token"].encode()),
            (b"content-type", b"application/json"),
            (b"accept", b"*/*"),
            (b"user-agent", b"wrk"),
        ]
        await drive(bodies("w" + args.tag, args.warmup, urgent=args.urgent), headers)
        items = bodies(args.tag, args.requests, urgent=args.urgent)
        conn = await asyncpg.connect(dsn)
        pids = [
            r["pid"]
            for r in await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                DB_NAME,
            )
        ]
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        portable[0] = 0
        pg0, cpu0, t0 = backend_cpu(pids), time.process_time(), time.perf_counter()
        latencies = await drive(items, headers)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        pg = backend_cpu(pids) - pg0
        slow = portable[0]
        if profiler is not None:
            import pstats

            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stdout)
            stats.sort_stats(args.sort).print_stats(args.top)
            if os.environ.get("BENCH_CALLERS"):
                stats.print_callers(os.environ["BENCH_CALLERS"])
        n = len(items)
        stored = await conn.fetchval(
            "SELECT count(*) FROM \"case\" WHERE description LIKE '%(' || $1 || '-t1-#%'",
            args.tag,
        )
        suggested = await conn.fetchval(
            "SELECT count(*) FROM \"case\" WHERE description LIKE '%(' || $1 || '-t1-#%'"
            " AND urgent IS NOT NULL",
            args.tag,
        )
        await conn.close()
    latencies.sort()
    ok = "ok" if stored == n and suggested == n else "MISMATCH"
    print(
        f"reports {n} in {wall:.2f} s = {n / wall:,.0f}/s;"
        f" app CPU {cpu * 1000 / n:.3f} ms/report, PostgreSQL CPU {pg * 1000 / n:.3f} ms/report"
        f" ({len(pids)} backends); p50 {latencies[n // 2] * 1000:.1f} ms"
        f" p99 {latencies[int(n * 0.99)] * 1000:.1f} ms; {slow} by the portable path;"
        f" stored {stored} {ok}",
        file=sys.__stdout__,
        flush=True,
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--urgent", action="store_true", help="reports give their urgency")
    p.add_argument("--uvloop", action="store_true")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--sort", default="tottime")
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--show-log", action="store_true", help="log lines to stderr")
    p.add_argument("--keep-db", action="store_true", help="reuse the database if it exists")
    args = p.parse_args()
    args.tag = "r" + os.urandom(3).hex()
    dsn = db_url(pg_dsn(), DB_NAME)
    if not args.keep_db:
        asyncio.run(pg_create_database(pg_dsn(), DB_NAME))
        migrate_and_bootstrap(dsn)
        asyncio.run(make_operator(dsn))
    # The access line of every request goes where a deployed server's would, not a terminal.
    if not args.show_log:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (for the rest of the process)
    if args.uvloop:
        import uvloop

        uvloop.run(run(args, dsn))
    else:
        asyncio.run(run(args, dsn))


if __name__ == "__main__":
    main()
