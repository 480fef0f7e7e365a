"""The phone-line process: prompts built at start-up, the SIP backend, the IVR, call records."""

from __future__ import annotations

import asyncio
import ipaddress
import signal
from dataclasses import asdict
from datetime import UTC, datetime

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import configure_mappers

import hotline.models  # noqa: F401 - every table, so the Call row's foreign keys resolve
from hotline.calls.models import CallOutcome
from hotline.calls.service import NewCall, record_call
from hotline.db import create_engine, make_sessionmaker, utcnow
from hotline.settings import Settings
from hotline.site import Site
from hotline.telephony.backend import CallProgress
from hotline.telephony.ivr import Ivr, Menu, default_menu
from hotline.telephony.media.gcpacer import GcPacer
from hotline.telephony.prompts import PromptSet
from hotline.telephony.sip.ua import UaConfig, UserAgent

log = structlog.get_logger("hotline.telephony")


def new_call(progress: CallProgress) -> NewCall:
    """The call record for a finished call; calls nobody took are abandoned where they were."""
    ended = progress.ended_at or utcnow()
    outcome = progress.outcome
    wait = 0
    if progress.queued_at is not None:
        wait = max(0, int((ended - progress.queued_at).total_seconds()))
    if outcome is None:
        outcome = (
            CallOutcome.ABANDONED_QUEUE if progress.queued_at else CallOutcome.ABANDONED_MENU
        ).value
    return NewCall(
        line=progress.line,
        caller=progress.caller,
        started_at=progress.started_at,
        # answered_at stays empty: it means a person (operator) answered, which needs the ACD.
        answered_at=None,
        ended_at=ended,
        menu_path=progress.menu_path[:40],
        branch=progress.branch,
        queue_wait_seconds=wait,
        outcome=outcome,
    )


class CallRecorder:
    """Writes each call record in its own transaction, in a task off the media path."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._tasks: set[asyncio.Task[None]] = set()

    def __call__(self, progress: CallProgress) -> None:
        task = asyncio.get_running_loop().create_task(self._write(new_call(progress)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, data: NewCall) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                await record_call(session, data=data)
        except Exception:  # a failed write is logged; the line keeps running
            log.exception("call_record_failed", line=data.line, outcome=data.outcome)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks))


def menu_from_settings(settings: Settings) -> Menu:
    return default_menu(
        dest_115=settings.sip_transfer_115,
        dest_cdc=settings.sip_transfer_cdc,
        digit_timeout=settings.sip_digit_timeout,
        ring_seconds=settings.sip_ring_seconds,
    )


class PhoneLine:
    """Everything `hotline sip` runs, startable in-process for the tests."""

    def __init__(
        self, settings: Settings, *, menu: Menu | None = None, freeze_gc: bool = False
    ) -> None:
        self.settings = settings
        self.freeze_gc = freeze_gc
        self.menu = menu or menu_from_settings(settings)
        self.engine: AsyncEngine | None = None
        self.ua: UserAgent | None = None
        self.recorder: CallRecorder | None = None
        self.gc_pacer: GcPacer | None = None

    async def start(self) -> UserAgent:
        s = self.settings
        # Synthesis runs in a thread: it is start-up work, but the loop may already serve others.
        prompts = await asyncio.to_thread(
            PromptSet.build, self.menu.texts.items(), s.prompts_dir, voice=s.sip_voice
        )
        self.engine = create_engine(s.effective_database_url, pool_size=s.db_pool_size)
        self.recorder = CallRecorder(make_sessionmaker(self.engine, Site.from_settings(s)))
        config = UaConfig(
            host=s.sip_host,
            port=s.sip_port,
            media_address=s.sip_media_address,
            rtp_ports=(s.sip_rtp_port_min, s.sip_rtp_port_max),
            trunks=[ipaddress.ip_network(n, strict=False) for n in s.sip_trunk_networks],
            max_calls=s.sip_max_calls,
            rtp_timeout=s.sip_rtp_timeout,
            max_call_seconds=s.sip_max_call_seconds,
        )
        self.ua = UserAgent(config)
        if self.freeze_gc:
            # Only for the dedicated process; in a shared one (tests) freezing would pin
            # garbage and the collector would depend on this clock. See media/gcpacer.py.
            await _warm_up(self.engine)
            self.gc_pacer = GcPacer()
            self.gc_pacer.install()
            self.ua.clock.after_tick = self.gc_pacer.after_tick
        await self.ua.start(Ivr(self.menu, prompts), self.recorder)
        log.info("sip_listening", host=s.sip_host, port=self.ua.port, started=_now())
        return self.ua

    async def stop(self) -> None:
        if self.ua is not None:
            await self.ua.stop()
        if self.recorder is not None:
            await self.recorder.drain()
        if self.engine is not None:
            await self.engine.dispose()
        if self.gc_pacer is not None:
            self.gc_pacer.uninstall()
            log.info("sip_gc", **asdict(self.gc_pacer.stats))


async def _warm_up(engine: AsyncEngine) -> None:
    """Build what the first call record would build lazily (mappers, a pooled connection,
    the dialect's state), so it exists before the freeze rather than in the collector's way."""
    configure_mappers()
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


async def serve(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then end the calls in progress and write their records."""
    line = PhoneLine(settings, freeze_gc=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await line.start()
    try:
        await stopping.wait()
    finally:
        await line.stop()
