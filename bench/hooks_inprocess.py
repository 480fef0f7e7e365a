"""In-process profile of Zalo webhook intake: the ASGI app (production environment) driven by
concurrent tasks posting signed `user_send_text` events to `/hooks/{channel}` against a fresh
PostgreSQL database, no HTTP. Prints CPU per event (this process, and the database backends
it used), SQL statements per event and wall throughput; then checks every distinct event was
stored once. Under py-spy: `py-spy record -r 400 -f raw -o out.txt -- python
bench/hooks_inprocess.py`.

    python bench/hooks_inprocess.py --events 4000 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from channels import TEXTS
from common import REPO_ROOT, pg_dsn
from datagen import db_url, migrate_and_bootstrap, pg_create_database

DB_NAME = os.environ.get("BENCH_HOOKS_DB", "hotline_hooks_inprocess")
APP_ID = "360846524940903967"
OA_ID = "388613280878808645"
SECRET = "oa-secret-inprocess"


def sign(body: bytes) -> dict[str, str]:
    ts = json.loads(body)["timestamp"]
    mac = hashlib.sha256(APP_ID.encode() + body + ts.encode() + SECRET.encode()).hexdigest()
    return {"X-ZEvent-Signature": "mac=" + mac, "Content-Type": "application/json"}


def bodies(
    tag: str, n: int, per_user: float, repeats: float, seed: int, texts: tuple[str, ...] = ()
) -> list[bytes]:
    """`texts`: the messages to pick from (bench/channels.py's, one of six giving a phone
    number); without, one text naming no number."""
    rng = random.Random(seed)
    users = [f"{tag}u{i:06d}" for i in range(max(1, int(n / per_user)))]
    now = int(time.time() * 1000)
    out: list[bytes] = []
    for i in range(n):
        if out and rng.random() < repeats:
            out.append(out[max(0, len(out) - 1 - rng.randrange(200))])
            continue
        doc = {
            "app_id": APP_ID,
            "sender": {"id": rng.choice(users)},
            "user_id_by_app": "552177279717587730",
            "recipient": {"id": OA_ID},
            "event_name": "user_send_text",
            "message": {
                "text": f"{rng.choice(texts)} ({i})"
                if texts
                else f"Đèn đường trước số {i} Đội Cấn hỏng",
                "msg_id": f"{tag}m{i}",
            },
            "timestamp": str(now + i),
        }
        out.append(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode())
    return out


async def make_channel(dsn: str) -> int:
    from hotline.auth.models import Role
    from hotline.auth.service import Actor, create_user
    from hotline.channels.admin import create_channel
    from hotline.db import create_engine, make_sessionmaker
    from hotline.settings import load_settings, normalise_database_url
    from hotline.site import Site

    engine = create_engine(normalise_database_url(dsn))
    try:
        maker = make_sessionmaker(engine, Site.from_settings(load_settings()))
        async with maker() as session, session.begin():
            admin = await create_user(session, username="adm", password="x" * 16, role="admin")
            channel = await create_channel(
                session,
                actor=Actor(user_id=admin.id, username="adm", role=Role.ADMIN),
                kind="zalo",
                name="Zalo",
                settings={
                    "app_id": APP_ID,
                    "oa_id": OA_ID,
                    "secret_key": SECRET,
                    "access_token": "t",
                    "refresh_token": "r",
                    "api_base": "http://127.0.0.1:9",
                },
            )
            await session.flush()
            return int(channel.id)
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


async def run(args: argparse.Namespace, dsn: str, channel_id: int) -> None:
    import httpx
    from asgi_lifespan import LifespanManager
    from sqlalchemy import event

    from hotline.app import app_from_env

    os.environ["HOTLINE_DATABASE_URL"] = dsn
    os.environ["HOTLINE_ENVIRONMENT"] = "production"
    os.environ.setdefault("HOTLINE_VAR_DIR", str(REPO_ROOT / "var" / "bench"))
    app = app_from_env()
    state = app.state.hotline
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    event.listen(state.engine.sync_engine, "before_cursor_execute", count)
    import asyncpg

    # The statements run outside the ORM, on the plain asyncpg pool's connections (the fast
    # paths; the ORM's go through prepared statements, counted above).
    for name in ("fetchrow", "fetch", "fetchval", "execute", "executemany"):
        original = getattr(asyncpg.Connection, name)

        def counted(self: Any, *a: Any, _original: Any = original, **k: Any) -> Any:
            statements[0] += 1
            return _original(self, *a, **k)

        setattr(asyncpg.Connection, name, counted)
    url = f"/hooks/{channel_id}"

    async def drive(items: list[bytes]) -> list[float]:
        queue = list(reversed(items))
        latencies: list[float] = []

        async def worker(client: httpx.AsyncClient) -> None:
            while queue:
                body = queue.pop()
                t = time.perf_counter()
                r = await client.post(url, content=body, headers=sign(body))
                latencies.append(time.perf_counter() - t)
                if r.status_code != 200:
                    raise RuntimeError(f"{r.status_code} {r.text}")

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hooks") as client:
            await asyncio.gather(*(worker(client) for _ in range(args.concurrency)))
        return latencies

    # Start-up (the triage model) takes longer than the default 5 s on a busy box.
    async with LifespanManager(app, startup_timeout=120):
        texts = TEXTS if args.mix == "wrk" else ()
        await drive(bodies("w", args.warmup, args.per_user, args.repeats, 1, texts))
        items = bodies(args.tag, args.events, args.per_user, args.repeats, 2, texts)
        conn = await asyncpg.connect(db_url(pg_dsn(), DB_NAME))
        pids = [
            r["pid"]
            for r in await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                DB_NAME,
            )
        ]
        xact = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1"
        statements[0] = 0
        x0 = await conn.fetchval(xact, DB_NAME)
        pg0, cpu0, t0 = backend_cpu(pids), time.process_time(), time.perf_counter()
        latencies = await drive(items)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        pg = backend_cpu(pids) - pg0
        await asyncio.sleep(0.6)  # pg_stat_database is updated at most twice a second
        transactions = await conn.fetchval(xact, DB_NAME) - x0 - 1
        n = len(items)
        latencies.sort()
        stored = await conn.fetchval(
            "SELECT count(*) FROM message WHERE event_id LIKE $1", args.tag + "m%"
        )
        distinct = len({json.loads(b)["message"]["msg_id"] for b in items})
        await conn.close()
    print(
        f"events {n} ({distinct} distinct) in {wall:.2f} s = {n / wall:,.0f}/s;"
        f" app CPU {cpu * 1000 / n:.3f} ms/event, PostgreSQL CPU {pg * 1000 / n:.3f} ms/event"
        f" ({len(pids)} backends); statements {statements[0] / n:.2f}/event,"
        f" transactions {transactions / n:.2f}/event;"
        f" p50 {latencies[n // 2] * 1000:.1f} ms p99 {latencies[int(n * 0.99)] * 1000:.1f} ms;"
        f" stored {stored} {'ok' if stored == distinct else 'MISMATCH'}"
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, default=4000)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--per-user", type=float, default=4.0)
    p.add_argument("--repeats", type=float, default=0.10)
    p.add_argument("--uvloop", action="store_true")
    p.add_argument(
        "--mix",
        choices=["known", "wrk"],
        default="known",
        help="known: one number-free text, --per-user events per citizen; wrk: the mix"
        " bench/channels.py sends (its texts, one of six with a phone number, and about two"
        " citizens per event issued, as its file of 6,000 lines a second gives)",
    )
    args = p.parse_args()
    if args.mix == "wrk":
        args.per_user = 0.5
    args.tag = "r" + os.urandom(3).hex()
    dsn = db_url(pg_dsn(), DB_NAME)
    asyncio.run(pg_create_database(pg_dsn(), DB_NAME))
    migrate_and_bootstrap(dsn)
    channel_id = asyncio.run(make_channel(dsn))
    if args.uvloop:
        import uvloop

        uvloop.run(run(args, dsn, channel_id))
    else:
        asyncio.run(run(args, dsn, channel_id))


if __name__ == "__main__":
    main()
