"""Calls that end while the database is unreachable keep their records: spooled on the line's
disk, written once the database is back, exactly once (a spool file read again after a crash
adds nothing), with a bounded log meanwhile.

PostgreSQL is made unreachable for real: the line reaches it through a TCP proxy that is
closed (connections cut, new ones refused) and opened again. SQLite is held by another
connection's exclusive lock, which makes every write of the line wait and fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import func, make_url, select

from hotline.calls.models import Call
from hotline.db import create_engine, make_sessionmaker
from hotline.reports.models import CallCounter
from hotline.settings import Settings
from hotline.site import Site
from tests.telephony.conftest import Line, line_settings, start_line

pytestmark = pytest.mark.anyio
ENDED_DURING_OUTAGE = 4


class TcpProxy:
    """Forwards a local port to the database; `close` cuts every connection through it."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.transports: set[asyncio.BaseTransport] = set()

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        for transport in list(self.transports):
            transport.abort()
        self.transports.clear()
        await self.server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.transports.update({writer.transport, up_writer.transport})
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()


class Outage:
    """The database made unreachable for the line, and given back."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.effective_database_url
        self.proxy: TcpProxy | None = None
        self.lock: sqlite3.Connection | None = None

    async def line_url(self) -> str:
        url = make_url(self.url)
        if url.get_backend_name() != "postgresql":
            return self.url
        self.proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        await self.proxy.open()
        return url.set(host="127.0.0.1", port=self.proxy.port).render_as_string(hide_password=False)

    async def begin(self) -> None:
        if self.proxy is not None:
            await self.proxy.close()
            return
        database = make_url(self.url).database
        assert database is not None
        self.lock = sqlite3.connect(database, isolation_level=None)
        self.lock.execute("BEGIN EXCLUSIVE")

    async def end(self) -> None:
        if self.proxy is not None:
            await self.proxy.open()
        if self.lock is not None:
            self.lock.execute("COMMIT")
            self.lock.close()


@contextlib.contextmanager
def captured_logs(caplog: pytest.LogCaptureFixture) -> Iterator[list[dict[str, Any]]]:
    """The line's structlog events and the libraries' log records, as one list."""
    with caplog.at_level(logging.WARNING), structlog.testing.capture_logs() as events:
        yield events
    events.extend(
        {"event": r.getMessage()[:80], "log_level": r.levelname.lower(), "stdlib": True}
        for r in caplog.records
    )


@contextlib.asynccontextmanager
async def database(url: str) -> AsyncIterator[Any]:
    engine = create_engine(url)
    try:
        yield make_sessionmaker(engine, Site.from_settings(Settings(database_url=url)))
    finally:
        await engine.dispose()


async def _rows(url: str) -> tuple[list[Call], int]:
    async with database(url) as sessionmaker, sessionmaker() as session:
        calls = list((await session.scalars(select(Call).order_by(Call.id))).all())
        counted = await session.scalar(select(func.coalesce(func.sum(CallCounter.calls), 0)))
    return calls, int(counted or 0)


async def _until(check: Any, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("not in time")


async def test_calls_ending_while_the_database_is_away_are_recorded_once_it_is_back(
    settings: Settings, sipp_installed: None, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    outage = Outage(settings)
    line_url = await outage.line_url()
    spool = tmp_path / "spool"
    line: Line = await start_line(
        line_settings(
            settings,
            database_url=line_url,
            sip_spool_dir=spool,
            sip_spool_retry_seconds=0.5,
            sip_log_interval_seconds=600,
            sip_agent_poll_seconds=0.2,
        )
    )
    recorder = line.phone.recorder
    assert recorder is not None
    try:
        result = await line.sipp("hangup_in_menu.xml")
        assert result.returncode == 0, result.output
        [before] = await line.calls()

        with captured_logs(caplog) as logs:
            await outage.begin()
            results = await asyncio.gather(
                *(line.sipp("hangup_in_menu.xml") for _ in range(ENDED_DURING_OUTAGE))
            )
            assert all(r.returncode == 0 for r in results), [r.output for r in results]
            # The records are on the line's disk, not in the database.
            await _until(lambda: _true(recorder.spool.pending()))
            if outage.proxy is not None:
                await _until(lambda: _true(recorder.outage))
                assert len((await _rows(settings.effective_database_url))[0]) == 1
            kept = tmp_path / "kept"
            shutil.copytree(spool, kept, ignore=shutil.ignore_patterns("*.tmp"))
            await asyncio.sleep(2)  # the line keeps trying (and polling) meanwhile
            await outage.end()
            # Written by the line on its own once the database is back.
            await _until(
                lambda: _count_is(settings.effective_database_url, 1 + ENDED_DURING_OUTAGE)
            )
        await _until(lambda: _true(not recorder.spool.pending()))
        calls, counted = await _rows(settings.effective_database_url)
        assert calls[0].id == before.id
        assert len({c.sip_call_id for c in calls}) == len(calls) == 1 + ENDED_DURING_OUTAGE
        assert all(c.outcome is not None and c.outcome.value == "abandoned_menu" for c in calls)
        assert all(c.release_cause == "caller_hangup" for c in calls)
        assert counted == len(calls)

        # A crash between the commit and the spool's clean-up: the same files read again.
        for path in kept.glob("*.json"):
            shutil.copy(path, spool / path.name)
        assert recorder.spool.pending()
        assert await recorder.write_spooled()
        again, counted_again = await _rows(settings.effective_database_url)
        assert ([c.id for c in again], counted_again) == ([c.id for c in calls], counted)
        assert not recorder.spool.pending()
    finally:
        await line.phone.stop()
        if outage.proxy is not None and outage.proxy.server is not None:
            outage.proxy.server.close()

    # One line per distinct error per interval, none with a traceback: the outage shows
    # in a handful of lines however many calls end and polls fail meanwhile.
    noisy = [e for e in logs if e.get("log_level") in ("warning", "error", "critical")]
    assert not [e for e in noisy if e.get("exc_info")], noisy
    distinct = {(e["event"], e.get("error")) for e in noisy}
    assert len(noisy) <= len(distinct) + 2, noisy
    assert len(noisy) <= 12, noisy


async def _true(value: Any) -> bool:
    return bool(value)


async def _count_is(url: str, n: int) -> bool:
    return len((await _rows(url))[0]) == n
