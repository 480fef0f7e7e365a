"""The real programs for the restart tests: `hotline worker` and `hotline serve` started as
deployed (`python -m hotline.cli ...` with HOTLINE_* settings) on the test's database, killed
with SIGKILL; and the database's own locks, held by the test to stop a program at a known
point of its transaction."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from hotline.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Program:
    """One `hotline` command in its own process; its log kept in a file (a pipe nobody
    reads would stop it once full)."""

    def __init__(self, settings: Settings, *args: str) -> None:
        import hotline

        src = Path(hotline.__file__).resolve().parents[1]  # the code under test
        self.env = {
            **os.environ,
            "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            "HOTLINE_DATABASE_URL": str(settings.database_url),
            "HOTLINE_VAR_DIR": str(settings.var_dir),
            "HOTLINE_SITE_PROVINCE_CODE": settings.site_province_code,
        }
        self.env.pop("FORWARDED_ALLOW_IPS", None)
        self.args = args
        self.log = Path(settings.var_dir) / f"{args[0]}-{time.monotonic_ns()}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hotline.cli", *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed by the program."""
        if self.running():
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.running():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@asynccontextmanager
async def programs() -> AsyncIterator[list[Program]]:
    """Every program a test starts (append them) is ended when it leaves."""
    started: list[Program] = []
    try:
        yield started
    finally:
        for program in started:
            program.stop()


def worker(settings: Settings) -> Program:
    return Program(settings, "worker")


async def serve(settings: Settings) -> tuple[Program, str]:
    """`hotline serve` on a free port, once its /healthz answers; with its base URL."""
    port = _free_port()
    program = Program(settings, "serve", "--host", "127.0.0.1", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(timeout=1) as http:
        for _ in range(600):
            if not program.running():
                raise AssertionError(program.output())
            try:
                if (await http.get(f"{base}/healthz")).status_code == 200:
                    return program, base
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    program.kill()
    raise AssertionError("hotline serve did not start:\n" + program.output())


async def until(
    check: Callable[[], Any], what: str, within: float = 60, program: Program | None = None
) -> Any:
    """Poll `check` (a coroutine function) until it returns something true (a program
    starts in a few seconds; the generous limit is for a machine busy with other tests)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        if program is not None and not program.running():
            raise AssertionError(f"{what}: the program ended\n{program.output()}")
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {within} s: {what}")


def _pg_dsn(settings: Settings) -> str:
    return settings.effective_database_url.replace("postgresql+asyncpg://", "postgresql://")


class PgLock:
    """A transaction of the test's own on PostgreSQL, holding locks until released; the
    programs are watched on a second connection (pg_stat_activity is read once per
    transaction: inside the holding one it would never change)."""

    def __init__(self, settings: Settings) -> None:
        self.dsn = _pg_dsn(settings)
        self.conn: Any = None
        self.watch: Any = None

    async def hold(self, *statements: str) -> None:
        import asyncpg

        if self.conn is None:
            self.conn = await asyncpg.connect(self.dsn)
            self.watch = await asyncpg.connect(self.dsn)
        await self.conn.execute("BEGIN")
        for statement in statements:
            await self.conn.execute(statement)

    async def waiting_pids(self) -> list[int]:
        """Backends of this database waiting for a lock (the programs stopped by ours)."""
        rows = await self.watch.fetch(
            "SELECT DISTINCT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE NOT l.granted AND a.datname = current_database()"
        )
        return [int(r["pid"]) for r in rows]

    async def waiting(self) -> int:
        return len(await self.waiting_pids())

    async def settled(self) -> bool:
        """No other backend of this database is in a transaction or a statement (the
        programs' transactions have ended, one way or the other)."""
        busy = await self.watch.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            " AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')"
        )
        return int(busy) == 0

    async def terminate(self, pid: int) -> None:
        await self.watch.execute(f"SELECT pg_terminate_backend({pid})")

    async def release(self) -> None:
        """End the test's transaction."""
        await self.conn.execute("ROLLBACK")

    async def close(self) -> None:
        for conn in (self.conn, self.watch):
            if conn is not None:
                await conn.close()
        self.conn = self.watch = None


class SqliteLock:
    """SQLite's one write lock, held by the test (BEGIN IMMEDIATE): every transaction of the
    programs begins IMMEDIATE (db.py), so each waits for it before doing anything."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.effective_database_url.split(":///", 1)[1]
        self.conn: sqlite3.Connection | None = None

    async def hold(self) -> None:
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.conn.execute("BEGIN IMMEDIATE")

    def opened_by(self, program: Program) -> bool:
        """Whether the program has the database open (then it waits on our lock)."""
        fds = Path(f"/proc/{program.pid}/fd")
        try:
            return any(os.path.realpath(fd) == os.path.realpath(self.path) for fd in fds.iterdir())
        except OSError:
            return False

    async def release(self) -> None:
        if self.conn is not None:
            self.conn.execute("ROLLBACK")
            self.conn.close()
            self.conn = None

    async def close(self) -> None:
        await self.release()
