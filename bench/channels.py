"""Channels benchmark: Zalo webhook intake and the outbox, on the product as deployed.

Each run gets a fresh PostgreSQL database (`hotline_bench_channels`) with a Zalo channel
created through the channels service, starts the product as deployed (`hotline serve`, 2 workers,
HOTLINE_ENVIRONMENT=production) and a fake Zalo send API (`bench/fake_provider.py`, its
own process), then:

1. Intake: wrk (`bench/zalo_hooks.lua`) posts signed `user_send_text` webhooks to
   `/hooks/{channel}` from a file written beforehand (wrk's Lua has no sha256): unique
   `msg_id`s from many distinct users, with a fraction of exact repeats (a redelivery of
   an event sent shortly before, sometimes still in flight). Measured: acknowledged
   deliveries/s and their latency. Afterwards the requests that were still in flight when
   wrk stopped are delivered again (as Zalo redelivers an unacknowledged event), and the
   database must hold exactly one message per distinct `msg_id` sent: none doubled, none
   lost — the run fails otherwise.
2. Outbox: the worker started as deployed (`hotline worker --processes N`), conversations
   opened by signed webhooks (their texts' triage jobs run as they arrive), then the
   worker paused (SIGSTOP) while N replies are queued through `conversations.reply` (what
   an operator's reply runs), resumed, and timed until every reply is `sent`: a running
   worker draining a backlog, its CPU per reply measured too. The fake answers a
   fraction with 503 (retried with backoff) and a fraction late, past the send timeout
   (a send in doubt, confirmed by Zalo's echo webhook); as the real API does, it echoes
   every reply it delivers, so a send that timed out only because the box was slow is
   confirmed too. Every reply must reach the fake exactly once.

    python bench/channels.py                  # 3 runs, 20 s intake, 20,000 replies
    python bench/channels.py --quick          # 1 run, 5 s intake, 2,000 replies
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import REPO_ROOT, RESULTS_DIR, fmt, machine_description, median, pg_dsn
from datagen import db_url, migrate_and_bootstrap, pg_create_database, pg_drop_database
from serve import Server

# Overridable so that two checkouts can run it side by side without sharing a database.
DB_NAME = os.environ.get("BENCH_CHANNELS_DB", "hotline_bench_channels")
PORT = int(os.environ.get("BENCH_CHANNELS_PORT", "8903"))
FAKE_PORT = int(os.environ.get("BENCH_CHANNELS_FAKE_PORT", "8914"))
APP_ID = "360846524940903967"
OA_ID = "388613280878808645"
SECRET = "oa-secret-bench-7c1e"
ADMIN, OPERATOR = "bench_admin", "bench_operator"
PASSWORD = "bench-channels-password"
BENCH = Path(__file__).resolve().parent
LUA = BENCH / "zalo_hooks.lua"
MARKER = "BENCH_JSON "
TEXTS = (
    "Nhà tôi ở ngõ 45 Kim Mã bị ngập nước, xin hỗ trợ",
    "Đèn đường trước số 12 Đội Cấn hỏng ba hôm nay",
    "Xe rác không đến thu gom ở tổ 7 phường Ngọc Hà",
    "Công trình xây dựng làm ồn sau 22 giờ, số điện thoại 0912 345 678",
    "Cây đổ chắn ngang đường Liễu Giai sau mưa bão",
    "Cho hỏi thủ tục xin trợ cấp khó khăn do mất việc",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="1 run, 5 s intake, 2,000 replies")
    p.add_argument("--only", choices=["intake", "outbox"], help="one half only")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--duration", type=float, default=20.0, help="measured intake seconds")
    p.add_argument("--warmup", type=float, default=3.0, help="intake warm-up seconds")
    p.add_argument("--concurrency", type=int, default=32, help="wrk connections")
    p.add_argument("--events", type=int, default=0, help="lines in the body file (0: auto)")
    p.add_argument("--repeat-fraction", type=float, default=0.10)
    p.add_argument("--events-per-user", type=float, default=4.0)
    p.add_argument("--replies", type=int, default=20_000)
    p.add_argument("--conversations", type=int, default=1_000)
    p.add_argument("--fail-5xx", type=float, default=0.05, help="fake's share of 503s")
    p.add_argument("--timeouts", type=float, default=0.01, help="fake's share of late answers")
    p.add_argument("--send-timeout", type=float, default=1.0, help="the channel's send_timeout")
    p.add_argument("--worker-procs", type=int, default=1, help="`hotline worker` processes")
    p.add_argument("--outbox-deadline", type=float, default=600.0, help="give up after (s)")
    p.add_argument("--min-events-per-s", type=float, default=1000.0)
    p.add_argument("--max-p99-ms", type=float, default=100.0)
    p.add_argument("--min-replies-per-s", type=float, default=500.0)
    p.add_argument("--keep-db", action="store_true")
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "channels.json")
    args = p.parse_args(argv)
    if args.quick:
        args.runs, args.duration, args.warmup = 1, 5.0, 1.0
        args.replies, args.conversations = 2_000, 200
    return args


# --- the product ------------------------------------------------------------------------


def product_dsn() -> str:
    return db_url(pg_dsn(), DB_NAME)


def product_env() -> dict[str, str]:
    return {
        "HOTLINE_DATABASE_URL": product_dsn(),
        "HOTLINE_ENVIRONMENT": "production",
        "HOTLINE_VAR_DIR": str(REPO_ROOT / "var" / "bench"),
        # src first: the worktree's code, not whatever the venv has installed.
        "PYTHONPATH": str(REPO_ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }


def product_cmd(workers: int = 2) -> str:
    """The product exactly as deployed: `hotline serve` (uvicorn on uvloop and httptools,
    the app writing its own access line, metrics shared between the workers), on this port."""
    return f"hotline serve --host 127.0.0.1 --port {PORT} --workers {workers}"


def channel_settings() -> dict[str, Any]:
    base = f"http://127.0.0.1:{FAKE_PORT}"
    return {
        "app_id": APP_ID,
        "oa_id": OA_ID,
        "secret_key": SECRET,
        "access_token": "tok-bench",
        "refresh_token": "ref-bench",
        "api_base": base,
        "oauth_base": base,
    }


async def _maker(dsn: str) -> tuple[Any, Any]:
    from hotline.db import create_engine, make_sessionmaker
    from hotline.settings import load_settings, normalise_database_url
    from hotline.site import Site

    engine = create_engine(normalise_database_url(dsn))
    return engine, make_sessionmaker(engine, Site.from_settings(load_settings()))


async def _users_and_channel(dsn: str, send_timeout: float) -> tuple[int, int]:
    """An administrator creates the Zalo channel through the service; an operator to reply."""
    from hotline.auth.models import Role
    from hotline.auth.service import Actor, create_user
    from hotline.channels.admin import create_channel

    engine, maker = await _maker(dsn)
    try:
        async with maker() as session, session.begin():
            admin = await create_user(session, username=ADMIN, password=PASSWORD, role="admin")
            operator = await create_user(
                session, username=OPERATOR, password=PASSWORD, role="operator"
            )
            channel = await create_channel(
                session,
                actor=Actor(user_id=admin.id, username=ADMIN, role=Role.ADMIN),
                kind="zalo",
                name="Zalo OA Tổng đài 1022",
                settings={**channel_settings(), "send_timeout": send_timeout},
            )
            await session.flush()
            return int(channel.id), int(operator.id)
    finally:
        await engine.dispose()


def setup_database(send_timeout: float) -> tuple[int, int]:
    asyncio.run(pg_create_database(pg_dsn(), DB_NAME))
    migrate_and_bootstrap(product_dsn(), province_code="01")
    return asyncio.run(_users_and_channel(product_dsn(), send_timeout))


# --- webhook bodies ---------------------------------------------------------------------


def sign(body: bytes) -> str:
    timestamp = json.loads(body)["timestamp"]
    return hashlib.sha256(APP_ID.encode() + body + timestamp.encode() + SECRET.encode()).hexdigest()


def user_text(user: str, msg_id: str, text: str, ts_ms: int) -> bytes:
    """Zalo's documented `user_send_text` event (tests/channels/payloads/zalo), re-filled."""
    return json.dumps(
        {
            "app_id": APP_ID,
            "sender": {"id": user},
            "user_id_by_app": "552177279717587730",
            "recipient": {"id": OA_ID},
            "event_name": "user_send_text",
            "message": {"text": text, "msg_id": msg_id},
            "timestamp": str(ts_ms),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def write_bodies(
    path: Path, tag: str, n: int, repeat_fraction: float, per_user: float, seed: int
) -> list[tuple[str, str]]:
    """`n` signed requests in sending order, one a line; returns (msg_id, user) per line.
    A repeat is byte for byte an event sent up to 200 requests before."""
    rng = random.Random(seed)
    # Each new event comes from a citizen not seen before with probability 1/per_user, else
    # from one already seen: every prefix of the file has about one citizen per `per_user`
    # events, whatever share of it wrk gets through in the run (a pool drawn for the whole
    # file made most of the events wrk sent a citizen's first).
    users: list[str] = []
    now_ms = int(time.time() * 1000)
    lines: list[tuple[str, bytes]] = []
    meta: list[tuple[str, str]] = []
    with path.open("wb") as f:
        for i in range(n):
            if lines and rng.random() < repeat_fraction:
                j = max(0, len(lines) - 1 - rng.randrange(200))
                line, m = lines[j], meta[j]
            else:
                if not users or rng.random() < 1 / per_user:
                    users.append(f"{tag}u{len(users):06d}{rng.randrange(10**9):09d}")
                    user = users[-1]
                else:
                    user = rng.choice(users)
                msg_id = f"{tag}m{i:07d}"
                body = user_text(user, msg_id, f"{rng.choice(TEXTS)} ({i})", now_ms + i)
                line, m = (sign(body), body), (msg_id, user)
            lines.append(line)
            meta.append(m)
            f.write(line[0].encode() + b"\t" + line[1] + b"\n")
    return meta


def run_wrk(url: str, path: Path, duration: float, concurrency: int, raw: Path | None) -> dict:
    cmd = ["wrk", "-t", "1", "-c", str(concurrency), "-d", f"{duration:g}s"]
    cmd += ["--timeout", "10s", "--latency", "-s", str(LUA), url, "--", str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if raw is not None:
        raw.write_text(" ".join(cmd) + "\n" + out.stdout + out.stderr)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith(MARKER)), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr.strip() or out.stdout}")
    data = json.loads(line[len(MARKER) :])
    e = data["errors"]
    seconds = data["duration_us"] / 1e6
    return {
        "requests": data["requests"],
        "issued": data["issued"],
        "rps": data["requests"] / seconds,
        "duration_s": seconds,
        "non2xx": data["non2xx"],
        "non2xx_by_status": data["non2xx_by_status"],
        "socket_errors": e["connect"] + e["read"] + e["write"] + e["timeout"],
        "latency_ms": {k: v / 1000.0 for k, v in data["latency_us"].items()},
    }


async def redeliver(url: str, path: Path, first: int, last: int) -> int:
    """Send lines [first, last) again, as Zalo redelivers events it got no answer for."""
    import httpx

    raw = path.read_bytes().split(b"\n")
    bad = 0
    async with httpx.AsyncClient(timeout=30) as client:
        for i in range(first, last):
            mac, body = raw[i % (len(raw) - 1)].split(b"\t", 1)
            headers = {"X-ZEvent-Signature": "mac=" + mac.decode()}
            headers["Content-Type"] = "application/json"
            r = await client.post(url, content=body, headers=headers)
            bad += r.status_code != 200
    return bad


async def check_intake(channel_id: int, tag: str, sent: list[tuple[str, str]]) -> dict:
    """What the database holds for this run's events against what was sent."""
    import asyncpg

    conn = await asyncpg.connect(product_dsn())
    try:
        rows = await conn.fetch(
            "SELECT event_id FROM message WHERE channel_id = $1 AND direction = 'in'"
            " AND event_id LIKE $2",
            channel_id,
            tag + "m%",
        )
        conversations = await conn.fetchval(
            "SELECT count(*) FROM conversation WHERE channel_id = $1 AND external_user_id LIKE $2",
            channel_id,
            tag + "u%",
        )
        identities = await conn.fetchval(
            "SELECT count(*) FROM contact_identity WHERE channel = 'zalo' AND external_id LIKE $1",
            tag + "u%",
        )
    finally:
        await conn.close()
    stored = [r["event_id"] for r in rows]
    expected = {m for m, _ in sent}
    users = {u for _, u in sent}
    got = set(stored)
    return {
        "requests_sent": len(sent),
        "distinct_events_sent": len(expected),
        "messages_stored": len(stored),
        "doubled": len(stored) - len(got),
        "lost": len(expected - got),
        "unexpected": len(got - expected),
        "distinct_users": len(users),
        "conversations": conversations,
        "identities": identities,
        "ok": len(stored) == len(got) == len(expected)
        and got == expected
        and conversations == identities == len(users),
    }


def _ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks (0 once it has ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def backend_pids() -> list[int]:
    """The PostgreSQL backends connected to the benchmark's database (the product's)."""
    import asyncpg

    async def pids() -> list[int]:
        conn = await asyncpg.connect(pg_dsn())
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                DB_NAME,
            )
        finally:
            await conn.close()
        return [r["pid"] for r in rows]

    return asyncio.run(pids())


def intake(args: argparse.Namespace, run: int, channel_id: int, tmp: Path, server: Server) -> dict:
    url = f"http://127.0.0.1:{PORT}/hooks/{channel_id}"
    # Enough lines that wrk never wraps round (it would only add repeats if it did).
    n = args.events or int(max(args.duration, 1) * 6000)
    if args.warmup > 0:
        wtag = f"w{run}{uuid.uuid4().hex[:5]}"
        wpath = tmp / f"channels-{wtag}.txt"
        write_bodies(wpath, wtag, int(args.warmup * 4000), args.repeat_fraction, 4, run)
        run_wrk(url, wpath, args.warmup, args.concurrency, None)
        wpath.unlink()
    tag = f"r{run}{uuid.uuid4().hex[:5]}"
    path = tmp / f"channels-{tag}.txt"
    meta = write_bodies(path, tag, n, args.repeat_fraction, args.events_per_user, 1000 + run)
    stem = RESULTS_DIR / f"channels-intake-{run}"
    # CPU per delivery of each part (the box's cores are shared by all three): the web
    # processes, the PostgreSQL backends serving them (opened during warm-up), and wrk.
    tick = os.sysconf("SC_CLK_TCK")
    pids = backend_pids()
    app_before, pg_before = server.cpu_seconds(), {pid: _ticks(pid) for pid in pids}
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_wrk(url, path, args.duration, args.concurrency, stem.with_suffix(".wrk.raw"))
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    app_cpu = server.cpu_seconds() - app_before
    pg_cpu = sum(max(0, _ticks(pid) - t) for pid, t in pg_before.items()) / tick
    wrk_cpu = (wrk_after.ru_utime + wrk_after.ru_stime) - (
        wrk_before.ru_utime + wrk_before.ru_stime
    )
    requests = max(1, result["requests"])
    result["cpu_ms_per_delivery"] = {
        "app": 1000 * app_cpu / requests,
        "postgres": 1000 * pg_cpu / requests,
        "wrk": 1000 * wrk_cpu / requests,
        "backends": len(pids),
    }
    issued = result["issued"]
    # Requests cut off in flight when wrk stopped are among the last `concurrency` issued.
    first = max(0, issued - args.concurrency)
    result["redelivered"] = issued - first
    result["redelivered_non200"] = asyncio.run(redeliver(url, path, first, issued))
    sent = [meta[i % n] for i in range(issued)]
    result["check"] = asyncio.run(check_intake(channel_id, tag, sent))
    result["stored_per_s"] = result["check"]["distinct_events_sent"] / result["duration_s"]
    path.unlink()
    c, lat = result["check"], result["latency_ms"]
    print(
        f"  intake run {run}: {result['rps']:8,.1f} deliveries/s"
        f" ({result['stored_per_s']:,.1f} new events/s)  p50 {lat['p50']:.1f} ms"
        f"  p99 {lat['p99']:.1f} ms  non-2xx {result['non2xx']}"
        f"  stored {c['messages_stored']:,}/{c['distinct_events_sent']:,} distinct"
        f" (doubled {c['doubled']}, lost {c['lost']}) — {'ok' if c['ok'] else 'MISMATCH'}",
        flush=True,
    )
    cpu = result["cpu_ms_per_delivery"]
    print(
        f"    CPU ms a delivery: app {cpu['app']:.3f}, PostgreSQL {cpu['postgres']:.3f}"
        f" ({cpu['backends']} backends), wrk {cpu['wrk']:.3f}",
        flush=True,
    )
    return result


# --- outbox -----------------------------------------------------------------------------


async def open_conversations(channel_id: int, tag: str, n: int) -> list[tuple[int, str]]:
    """`n` citizens write in (signed webhooks through the product); their conversations."""
    import asyncpg
    import httpx

    url = f"http://127.0.0.1:{PORT}/hooks/{channel_id}"
    now_ms = int(time.time() * 1000)
    users = [f"{tag}c{i:06d}" for i in range(n)]
    async with httpx.AsyncClient(timeout=30) as client:
        sem = asyncio.Semaphore(16)

        async def one(i: int, user: str) -> None:
            body = user_text(user, f"{tag}o{i:06d}", TEXTS[i % len(TEXTS)], now_ms + i)
            headers = {"X-ZEvent-Signature": f"mac={sign(body)}"}
            headers["Content-Type"] = "application/json"
            async with sem:
                r = await client.post(url, content=body, headers=headers)
            r.raise_for_status()

        await asyncio.gather(*(one(i, u) for i, u in enumerate(users)))
    conn = await asyncpg.connect(product_dsn())
    try:
        rows = await conn.fetch(
            "SELECT id, external_user_id FROM conversation WHERE channel_id = $1"
            " AND external_user_id LIKE $2 ORDER BY id",
            channel_id,
            tag + "c%",
        )
    finally:
        await conn.close()
    return [(r["id"], r["external_user_id"]) for r in rows]


async def queue_replies(
    operator_id: int, conversations: list[tuple[int, str]], n: int, tag: str
) -> list[str]:
    """`n` operators' replies through the service, 500 a transaction; their texts."""
    from hotline.auth.models import Role
    from hotline.auth.service import Actor
    from hotline.channels.conversations import reply

    actor = Actor(user_id=operator_id, username=OPERATOR, role=Role.OPERATOR)
    engine, maker = await _maker(product_dsn())
    texts = []
    try:
        for start in range(0, n, 500):
            async with maker() as session, session.begin():
                for i in range(start, min(n, start + 500)):
                    conversation_id, _ = conversations[i % len(conversations)]
                    text = f"Tổng đài 1022 đã chuyển phản ánh tới UBND phường (mã {tag}-{i})"
                    await reply(
                        session,
                        actor=actor,
                        conversation_id=conversation_id,
                        text=text,
                        key=f"{tag}-{i}",
                    )
                    texts.append(text)
    finally:
        await engine.dispose()
    return texts


async def outbox_status(tag: str) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(product_dsn())
    try:
        rows = await conn.fetch(
            "SELECT status, count(*) AS n FROM message WHERE direction = 'out'"
            " AND idempotency_key LIKE $1 GROUP BY status",
            f"reply:{tag}-%",
        )
    finally:
        await conn.close()
    return {r["status"]: r["n"] for r in rows}


def fake_get(path: str) -> dict:
    import httpx

    r = httpx.request(
        "POST" if path == "/reset" else "GET", f"http://127.0.0.1:{FAKE_PORT}{path}", timeout=30
    )
    r.raise_for_status()
    return dict(r.json())


def start_workers(n: int, log: Path) -> subprocess.Popen[bytes]:
    """`hotline worker --processes n`, as deployed: one command, its own process group."""
    env = {**os.environ, **product_env()}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "worker", "--processes", str(n)],
        cwd=REPO_ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_workers(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGCONT)  # in case it was paused
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def group_cpu_seconds(pgid: int) -> float:
    """CPU (user + system) used so far by the processes of a process group."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ...
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


async def drop_intake_jobs() -> int:
    """The jobs the intake half's events queued (their triage: tens of thousands after a
    fast intake run), dropped before the outbox half: left queued, a worker would still be
    reading them while the replies are timed. The outbox half's own citizens write in with
    the worker running, as deployed."""
    import asyncpg

    conn = await asyncpg.connect(product_dsn())
    try:
        status = await conn.execute(
            "DELETE FROM job WHERE kind = 'channel_message_in' AND status = 'queued'"
        )
        # Their index entries gone too, as autovacuum would soon do: left, every claim of
        # the worker's would step over tens of thousands of dead ones.
        await conn.execute("VACUUM ANALYZE job")
        return int(status.split()[-1])
    finally:
        await conn.close()


async def jobs_left() -> int:
    import asyncpg

    conn = await asyncpg.connect(product_dsn())
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM job WHERE status IN ('queued', 'running')")
        )
    finally:
        await conn.close()


def outbox(args: argparse.Namespace, run: int, channel_id: int, operator_id: int) -> dict:
    """The worker runs as deployed, from before the citizens write (their texts' triage
    jobs run as they arrive); it is paused while the replies are queued, so that what is
    timed is a running worker draining a backlog of replies, from its resumption."""
    tag = f"x{run}{uuid.uuid4().hex[:5]}"
    stem = RESULTS_DIR / f"channels-outbox-{run}"
    dropped = asyncio.run(drop_intake_jobs())
    proc = start_workers(args.worker_procs, stem.with_suffix(".worker.raw"))
    progress: list[tuple[float, int]] = []
    status: dict[str, int] = {}
    try:
        conversations = asyncio.run(open_conversations(channel_id, tag, args.conversations))
        for _ in range(600):  # the texts' triage jobs done
            if asyncio.run(jobs_left()) == 0:
                break
            time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGSTOP)
        t0 = time.monotonic()
        texts = asyncio.run(queue_replies(operator_id, conversations, args.replies, tag))
        queue_s = time.monotonic() - t0
        fake_get("/reset")
        cpu_before = group_cpu_seconds(proc.pid)
        started_wall = time.time()
        started = time.monotonic()
        os.killpg(proc.pid, signal.SIGCONT)
        while time.monotonic() - started < args.outbox_deadline:
            time.sleep(0.5)
            status = asyncio.run(outbox_status(tag))
            done = status.get("sent", 0) + status.get("failed", 0)
            progress.append((round(time.monotonic() - started, 2), status.get("sent", 0)))
            if done >= args.replies:
                break
            if proc.poll() is not None:
                raise RuntimeError(f"the worker exited; log: {stem.with_suffix('.worker.raw')}")
        all_done = time.monotonic() - started
        worker_cpu = group_cpu_seconds(proc.pid) - cpu_before
    finally:
        stop_workers(proc)
    # Late answers still hanging at the fake, and their echoes, settle before counting.
    time.sleep(args.send_timeout + 1)
    stats = fake_get("/stats")
    counts = stats.pop("deliveries")
    doubled = sum(1 for t in texts if counts.get(t, 0) > 1)
    lost = sum(1 for t in texts if counts.get(t, 0) == 0)
    sent = status.get("sent", 0)
    first_at = stats["first_delivery_at"] or started_wall
    from_first = all_done - (first_at - started_wall)
    result = {
        "intake_jobs_dropped": dropped,
        "replies": args.replies,
        "conversations": len(conversations),
        "queue_s": queue_s,
        "status": status,
        "seconds_to_all_sent": all_done,
        "seconds_first_delivery_to_all_sent": from_first,
        "replies_per_s": sent / all_done if all_done else None,
        "replies_per_s_from_first_delivery": sent / from_first if from_first > 0 else None,
        "worker_cpu_s": worker_cpu,
        "worker_cpu_ms_per_reply": 1000 * worker_cpu / sent if sent else None,
        "fake": stats,
        "check": {
            "sent": sent,
            "failed": status.get("failed", 0),
            "delivered_once": sum(1 for t in texts if counts.get(t, 0) == 1),
            "doubled": doubled,
            "lost": lost,
            "unexpected": sum(counts.values()) - sum(counts.get(t, 0) for t in texts),
            "ok": sent == args.replies and doubled == 0 and lost == 0,
            # Which replies, to look them up in a database kept with --keep-db.
            "doubled_texts": [t for t in texts if counts.get(t, 0) > 1][:50],
            "lost_texts": [t for t in texts if counts.get(t, 0) == 0][:50],
        },
        "progress": progress,
    }
    c = result["check"]
    print(
        f"  outbox run {run}: {args.replies:,} replies all sent in {all_done:.1f} s ="
        f" {result['replies_per_s'] or 0:,.1f} replies/s"
        f" ({result['replies_per_s_from_first_delivery'] or 0:,.1f}/s from the first"
        f" delivery; worker CPU {result['worker_cpu_ms_per_reply'] or 0:.2f} ms a reply);"
        f" 503s {stats['answered_5xx']}, late {stats['answered_late']};"
        f" doubled {c['doubled']}, lost {c['lost']}, failed {c['failed']}"
        f" — {'ok' if c['ok'] else 'MISMATCH'}",
        flush=True,
    )
    return result


# --- the run ----------------------------------------------------------------------------


def summarise(args: argparse.Namespace, runs: list[dict]) -> dict:
    ins = [r["intake"] for r in runs if r.get("intake")]
    outs = [r["outbox"] for r in runs if r.get("outbox")]
    s: dict[str, Any] = {}
    if ins:
        s["intake"] = {
            "runs": len(ins),
            "deliveries_per_s_median": median([r["rps"] for r in ins]),
            "stored_per_s_median": median([r["stored_per_s"] for r in ins]),
            "p50_ms_median": median([r["latency_ms"]["p50"] for r in ins]),
            "p99_ms_median": median([r["latency_ms"]["p99"] for r in ins]),
            "non2xx_total": sum(r["non2xx"] + r["redelivered_non200"] for r in ins),
            "socket_errors_total": sum(r["socket_errors"] for r in ins),
            "all_stored_once": all(r["check"]["ok"] for r in ins),
        }
    if outs:
        s["outbox"] = {
            "runs": len(outs),
            "replies_per_s_median": median([r["replies_per_s"] or 0 for r in outs]),
            "replies_per_s_from_first_delivery_median": median(
                [r["replies_per_s_from_first_delivery"] or 0 for r in outs]
            ),
            "seconds_to_all_sent_median": median([r["seconds_to_all_sent"] for r in outs]),
            "all_sent_once": all(r["check"]["ok"] for r in outs),
        }
    checks: dict[str, bool] = {}
    if "intake" in s:
        i = s["intake"]
        checks["intake_throughput"] = i["deliveries_per_s_median"] >= args.min_events_per_s
        checks["intake_p99"] = i["p99_ms_median"] <= args.max_p99_ms
        checks["intake_exactly_once"] = (
            i["all_stored_once"] and i["non2xx_total"] == 0 and i["socket_errors_total"] == 0
        )
    if "outbox" in s:
        o = s["outbox"]
        checks["outbox_throughput"] = o["replies_per_s_median"] >= args.min_replies_per_s
        checks["outbox_exactly_once"] = o["all_sent_once"]
    s["verdict"] = {"checks": checks, "pass": bool(checks) and all(checks.values())}
    return s


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not subprocess.run(["which", "wrk"], capture_output=True).stdout and args.only != "outbox":
        raise SystemExit("wrk is not installed (apt-get install wrk; `make bench` does it)")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    machine = asyncio.run(machine_description(pg_dsn()))
    started = datetime.now(UTC)
    tmp = REPO_ROOT / "var" / "bench"
    tmp.mkdir(parents=True, exist_ok=True)
    runs = []
    for run in range(1, args.runs + 1):
        print(f"run {run}/{args.runs}", flush=True)
        channel_id, operator_id = setup_database(args.send_timeout)
        fake_cmd = (
            f"{sys.executable} {BENCH / 'fake_provider.py'} --port {FAKE_PORT}"
            f" --fail-5xx {args.fail_5xx} --timeouts {args.timeouts}"
            f" --hang {args.send_timeout + 0.5} --app-id {APP_ID} --secret {SECRET}"
            f" --hook-url http://127.0.0.1:{PORT}/hooks/{channel_id} --seed {run}"
        )
        stem = RESULTS_DIR / f"channels-{run}"
        entry: dict[str, Any] = {"run": run}
        with (
            Server(
                fake_cmd,
                f"http://127.0.0.1:{FAKE_PORT}/stats",
                log_path=stem.with_suffix(".fake.raw"),
            ),
            Server(
                product_cmd(),
                f"http://127.0.0.1:{PORT}/",
                env=product_env(),
                log_path=stem.with_suffix(".server.raw"),
                # A busy shared box can take over a minute to import the app twice.
                start_timeout=180,
            ) as server,
        ):
            if args.only != "outbox":
                entry["intake"] = intake(args, run, channel_id, tmp, server)
            if args.only != "intake":
                entry["outbox"] = outbox(args, run, channel_id, operator_id)
        runs.append(entry)
        time.sleep(1)
    if not args.keep_db:
        asyncio.run(pg_drop_database(pg_dsn(), DB_NAME))
    summary = summarise(args, runs)
    result = {
        "benchmark": "channels",
        "started_at": started.isoformat(),
        "machine": machine,
        "config": {
            k: getattr(args, k)
            for k in (
                "quick",
                "runs",
                "duration",
                "warmup",
                "concurrency",
                "repeat_fraction",
                "events_per_user",
                "replies",
                "conversations",
                "fail_5xx",
                "timeouts",
                "send_timeout",
                "worker_procs",
            )
        }
        | {"product_cmd": product_cmd(), "engine": "wrk"},
        "targets": {
            "min_events_per_s": args.min_events_per_s,
            "max_p99_ms": args.max_p99_ms,
            "min_replies_per_s": args.min_replies_per_s,
        },
        "runs": runs,
        "summary": summary,
    }
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    v = summary["verdict"]
    for name, ok in v["checks"].items():
        print(f"  {name}: {'PASS' if ok else 'FAIL'}")
    if "intake" in summary:
        i = summary["intake"]
        print(
            f"intake median {fmt(i['deliveries_per_s_median'])} deliveries/s,"
            f" p99 {fmt(i['p99_ms_median'])} ms"
        )
    if "outbox" in summary:
        print(f"outbox median {fmt(summary['outbox']['replies_per_s_median'])} replies/s")
    print(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
