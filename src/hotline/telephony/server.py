"""The phone-line process: prompts built at start-up, the SIP backend, the IVR, call records."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import signal
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import configure_mappers

import hotline.models  # noqa: F401 - every table, so the Call row's foreign keys resolve
from hotline.agents.models import AgentStatus
from hotline.agents.service import line_agents, release_from_calls
from hotline.calls.service import close_calls_left_open
from hotline.care.consult_windows import consult_schedule
from hotline.db import create_engine, make_sessionmaker, utcnow
from hotline.eventfeed import Waker
from hotline.events import DomainEvent, Wake, committed, record_event
from hotline.phoneconfig.texts import CALLBACK_TEXTS
from hotline.recordings.service import recordings_dir
from hotline.settings import Settings
from hotline.site import Site
from hotline.staffing.forecast import QUEUE
from hotline.staffing.service import ringable
from hotline.staffing.surge import surge_active
from hotline.telephony.acd import Acd
from hotline.telephony.backend import CallProgress
from hotline.telephony.call_record import new_call, talk_seconds
from hotline.telephony.callbacks import CallbackDialer
from hotline.telephony.consult import ConsultDesk
from hotline.telephony.errlog import ErrorLog
from hotline.telephony.hours import OpeningHours
from hotline.telephony.ivr import Menu, default_menu
from hotline.telephony.lockouts import SharedLockouts
from hotline.telephony.media.gcpacer import GcPacer
from hotline.telephony.metrics import LineMetrics
from hotline.telephony.queue import QueueTiming, position_texts
from hotline.telephony.queue_events import QueuePublisher
from hotline.telephony.records import CallRecorder, answered_event
from hotline.telephony.registrations import RegistrationStore
from hotline.telephony.sip.guard import LockoutPolicy
from hotline.telephony.sip.route import proxy_route
from hotline.telephony.sip.trunk import registration_from
from hotline.telephony.sip.ua import UaConfig, UserAgent
from hotline.telephony.spool import Spool
from hotline.telephony.stall_log import StallLog
from hotline.telephony.switchboard import Switchboard

# Re-exported: what the line writes for a call (call_record.py, records.py).
__all__ = ["CallRecorder", "PhoneLine", "answered_event", "new_call", "serve", "talk_seconds"]
log = structlog.get_logger("hotline.telephony")


def _lockout_policy(s: Settings, max_failures: int) -> LockoutPolicy:
    """REGISTER lockouts: users and addresses differ only in how many failures lock."""
    return LockoutPolicy(
        max_failures=max_failures,
        window=s.sip_register_failure_window,
        lockout=s.sip_register_lockout_seconds,
        max_lockout=s.sip_register_lockout_max_seconds,
        max_keys=s.sip_register_lockout_table_size,
    )


class LineHooks:
    """What the ACD decides, written to the operators' rows (off the media path)."""

    def __init__(self, recorder: CallRecorder) -> None:
        self.recorder = recorder

    def answered(self, user_id: int, progress: CallProgress) -> None:
        self.recorder.opened(progress)

    def missed(self, user_id: int) -> None:
        self.recorder.agent(user_id, status=None, missed=True)

    def finished(self, user_id: int) -> None:
        self.recorder.agent(user_id, status=AgentStatus.AVAILABLE)


def prompt_texts(menu: Menu, hours: OpeningHours) -> dict[str, str]:
    """The menu's texts plus the queue's (places, callback, hours); the menu's win."""
    return {**position_texts(), **CALLBACK_TEXTS, **hours.texts(), **menu.texts}


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
        self,
        settings: Settings,
        *,
        menu: Menu | None = None,
        freeze_gc: bool = False,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.freeze_gc = freeze_gc
        self.menu = menu  # a menu given in code; None: the configuration in the database
        self.waker: Waker | None = None
        self.now = now  # injectable: opening hours in tests do not depend on the wall clock
        self.engine: AsyncEngine | None = None
        self.ua: UserAgent | None = None
        self.recorder: CallRecorder | None = None
        self.registrations: RegistrationStore | None = None
        self.acd: Acd | None = None
        self._poller: asyncio.Task[None] | None = None
        self.gc_pacer: GcPacer | None = None
        self.switchboard: Switchboard | None = None
        self.dialer: CallbackDialer | None = None  # promised callbacks (callbacks.py)
        self._config_watch: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.metrics: LineMetrics | None = None
        self.metrics_port: int | None = None
        self.queue_events: QueuePublisher | None = None
        self.errors = ErrorLog(settings.sip_log_interval_seconds)
        self.consult = ConsultDesk(prompts_dir=settings.prompts_dir, voice=settings.sip_voice)

    async def start(self) -> UserAgent:
        s = self.settings
        site = Site.from_settings(s)
        self.engine = create_engine(s.effective_database_url, pool_size=s.db_pool_size)
        # The line is its own process: `call.answered` reaches the web processes through
        # the event log, and the waker (Redis or NOTIFY; none on SQLite) has them read it.
        self.waker = Waker(s, self.engine)
        await self.waker.start()
        sessionmaker = make_sessionmaker(self.engine, site)
        self.recorder = CallRecorder(
            sessionmaker,
            self.waker,
            recordings_dir(s.var_dir),
            instance=s.sip_instance_id,
            spool=Spool(s.call_spool_dir),
            errors=self.errors,
            retry_max=s.sip_spool_retry_seconds,
        )
        # Records a previous run could not write go first, before this run's calls end.
        self.recorder.start()
        try:  # before the first call: nothing of this instance is in progress yet
            await self.reconcile(sessionmaker)
        except Exception as exc:  # e.g. not migrated yet: the line answers all the same
            log.warning("line_reconcile_failed", error=str(exc).splitlines()[0])
        config = UaConfig(
            host=s.sip_host,
            port=s.sip_port,
            media_address=s.sip_media_address,
            rtp_ports=(s.sip_rtp_port_min, s.sip_rtp_port_max),
            trunks=[ipaddress.ip_network(n, strict=False) for n in s.sip_trunk_networks],
            max_calls=s.sip_max_calls,
            rtp_timeout=s.sip_rtp_timeout,
            max_call_seconds=s.sip_max_call_seconds,
            session_expires=s.sip_session_expires,
            min_se=s.sip_min_se,
            realm=s.sip_realm,
            nonce_seconds=s.sip_nonce_seconds,
            max_expires=s.sip_register_max_expires,
            register_users=_lockout_policy(s, s.sip_register_max_failures),
            register_addresses=_lockout_policy(s, s.sip_register_max_failures_per_address),
            options_answer_all=s.sip_options_answer_all,
            log_interval=s.sip_log_interval_seconds,
            registration=registration_from(
                registrar=s.sip_trunk_registrar,
                username=s.sip_trunk_username,
                password=s.sip_trunk_password,
                domain=s.sip_trunk_domain,
                expires=s.sip_trunk_register_expires,
                retry=s.sip_trunk_register_retry,
            ),
            trunk_users=s.sip_trunk_users,
            edges=[ipaddress.ip_network(n, strict=False) for n in s.sip_edge_networks],
            outbound_proxy=proxy_route(s.sip_outbound_proxy),
            retry_after=s.sip_retry_after_seconds,
        )
        self.ua = UserAgent(config)
        self.ua.on_amend = self.recorder.amend  # a REFER's report after its call's end
        # REGISTER lockouts counted for every line together, and kept across restarts.
        self.ua.shared_lockouts = SharedLockouts(
            sessionmaker, config.register_users, config.register_addresses
        )
        # Phones registered before a restart, or at another instance, are rung at once.
        self.registrations = RegistrationStore(self.ua.registrar, sessionmaker, s.sip_instance_id)
        self.acd = Acd(
            self.ua, ring_seconds=s.sip_agent_ring_seconds, hooks=LineHooks(self.recorder)
        )
        # Callers waiting, for the consoles and the wallboard (queue_events.py).
        self.queue_events = QueuePublisher(
            self.acd.waiting_now,
            lambda event: _write_event(sessionmaker, self.waker, event),
            instance=s.sip_instance_id,
            min_interval=s.sip_queue_event_seconds,
            heartbeat=s.sip_queue_heartbeat_seconds,
        )
        self.acd.on_change = self.queue_events.changed
        self.queue_events.start()
        try:  # credentials known before the first REGISTER
            await self.poll_agents(sessionmaker)
        except Exception as exc:  # e.g. not migrated yet: the line answers, the poll retries
            log.warning("agent_poll_failed", error=str(exc).splitlines()[0])
        timing = QueueTiming(
            callback_after=s.sip_callback_after,
            position_every=s.sip_position_every,
            digit_timeout=s.sip_digit_timeout,
        )
        # Menus, prompts and hours: from the database (see switchboard.py), synthesised in a
        # thread, reloaded while calls go on.
        self.switchboard = Switchboard(
            s,
            timezone=site.timezone,
            acd=self.acd,
            timing=timing,
            now=self.now,
            fixed=self.menu,
            consult=self.consult,
        )
        self.switchboard.errors = self.errors
        await self.switchboard.load(sessionmaker)
        try:  # again, now that the configured queues say who answers which
            await self.poll_agents(sessionmaker)
        except Exception as exc:
            log.warning("agent_poll_failed", error=str(exc).splitlines()[0])
        if s.sip_callback_uri:
            switchboard = self.switchboard
            self.dialer = CallbackDialer(
                self.acd,
                sessionmaker,
                self.recorder,
                template=s.sip_callback_uri,
                ring_seconds=s.sip_callback_ring_seconds,
                snapshot=lambda: switchboard.snapshot,
                now=self.now,
            )
            await self.dialer.start()
        await self.ua.start(self.switchboard, self.recorder)
        if s.sip_metrics_port:
            self.metrics = LineMetrics(s.sip_instance_id)
            self.recorder.metrics = self.metrics
            self.metrics_port = self.metrics.serve(
                s.sip_metrics_host, s.sip_metrics_port, self.ua, self.acd
            )
            log.info("sip_metrics_listening", host=s.sip_metrics_host, port=self.metrics_port)
        loop = asyncio.get_running_loop()
        self._poller = loop.create_task(self._poll(sessionmaker))
        self._config_watch = loop.create_task(self.switchboard.watch(sessionmaker))
        if self.freeze_gc:
            # Only for the dedicated process; in a shared one (tests) freezing would pin
            # garbage and the collector would depend on this clock. See media/gcpacer.py.
            await _warm_up(self.engine)
            self.gc_pacer = GcPacer()
            self.gc_pacer.install()
            self.ua.clock.after_tick = self.gc_pacer.after_tick
        self.ua.clock.on_stall = StallLog(self.metrics)
        log.info("sip_listening", host=s.sip_host, port=self.ua.port, started=_now())
        return self.ua

    async def reconcile(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Close the calls this instance left open when it last stopped without ending them
        (a crash, a kill) and release the operators still shown on them."""
        instance = self.settings.sip_instance_id
        async with committed(sessionmaker, self.waker) as session:
            call_ids = await close_calls_left_open(session, instance=instance)
            released = await release_from_calls(session, call_ids=call_ids)
        if call_ids:
            log.warning("line_reconciled", instance=instance, calls=call_ids, agents=released)

    async def poll_agents(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Re-read operators' statuses and SIP logins (their own task, never the media path).

        Polling rather than the event bus: the bus is optional (no Redis in a small
        deployment) and lossy for slow listeners, while a status missed here would leave an
        operator unrung; one indexed query a second is cheap and heals any missed change.
        """
        assert self.acd is not None
        now = self.now()
        async with sessionmaker() as session:
            agents = await line_agents(session)
            # The queue rings operators on shift, or at work when nobody rostered is on the
            # line (staffing/service.py).
            allowed = await ringable(session, now=now)
            surge = await surge_active(session)
            self.consult.schedule = await consult_schedule(session)
        snapshot = self.switchboard.snapshot if self.switchboard is not None else None
        if snapshot is not None:  # who each configured queue rings: role, unit, skills
            agents = [replace(a, queues=snapshot.queues_of(a)) for a in agents]
        # The roster is the operators': doctors are not on it. An operator not at work
        # answers no queue, but keeps their phone's login: it registers, and rings once
        # they clock in.
        agents = [
            a if QUEUE not in a.queues or a.user_id in allowed else replace(a, queues=())
            for a in agents
        ]
        # Branch 3 rings the consult doctors in a window now (telephony/consult.py).
        agents = self.consult.ringable(agents, now)
        if self.registrations is not None:
            await self.registrations.load()
        if self.switchboard is not None:
            self.switchboard.surge_callback_after = (
                self.settings.surge_callback_after if surge else None
            )
        self.acd.update_agents(agents)

    async def _poll(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        # Ended by `_stopping` between queries, not cancelled inside one: a cancelled query
        # leaves SQLAlchemy closing its connection in a shielded task after `stop()` has
        # disposed of the engine, and the loop's shutdown then waits on it for ever.
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.sip_agent_poll_seconds)
            if self._stopping.is_set():
                return
            try:
                await self.poll_agents(sessionmaker)
                await self.consult.warm(self.now())
                if self.dialer is not None:
                    await self.dialer.tick()
            except Exception as exc:  # once per interval: it repeats every poll
                self.errors.error("agent_poll_failed", exc)

    async def stop(self) -> None:
        if self._poller is not None:
            self._stopping.set()
            try:  # a poll in progress finishes its query; one stuck on the database is cut
                await asyncio.wait_for(self._poller, 5)
            except TimeoutError:
                log.warning("agent_poll_cancelled_on_stop")
        # The configuration watch is awaited once cancelled: one stopped mid-query must not
        # outlive the engine disposed below.
        if self._config_watch is not None:
            self._config_watch.cancel()
            await asyncio.wait([self._config_watch])
        if self.dialer is not None:
            await self.dialer.stop()
        if self.ua is not None:
            await self.ua.stop()
        if self.recorder is not None:
            await self.recorder.stop()
        if self.registrations is not None:
            await self.registrations.drain()
        if self.queue_events is not None:  # the calls have ended: nobody waits here now
            await self.queue_events.stop()
        if self.metrics is not None:
            self.metrics.stop()
        if self.waker is not None:
            await self.waker.stop()
        if self.engine is not None:
            await self.engine.dispose()
        if self.gc_pacer is not None:
            self.gc_pacer.uninstall()
            log.info("sip_gc", **asdict(self.gc_pacer.stats))


async def _write_event(
    sessionmaker: async_sessionmaker[AsyncSession], wake: Wake | None, event: DomainEvent
) -> None:
    async with committed(sessionmaker, wake) as session:
        record_event(session, event)


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
