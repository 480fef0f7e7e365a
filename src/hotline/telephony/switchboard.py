"""The phone configuration as the line uses it: loaded from the database, reloaded on change.

The line polls the configuration's version (the highest audit-trail id, one indexed query)
every `sip_config_poll_seconds` rather than listening on the event bus: the bus is optional
(no Redis in a small deployment) and lossy for slow listeners, and a change missed there
would never reach the line; a poll heals itself. On a change the whole configuration is read
and a new `Snapshot` is built in a thread (espeak-ng/sox synthesis, cached by text hash, and
uploaded WAV prompts read from disk), then swapped in with one assignment. Each call takes
the snapshot current when it arrives and keeps it to the end: calls in progress keep their
menu and prompts, new calls get the new ones.
"""

from __future__ import annotations

import asyncio
import hashlib
import wave
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.agents.service import LineAgent
from hotline.phoneconfig.defaults import MAIN_MENU, default_config
from hotline.phoneconfig.schemas import Destination, Members, PhoneConfig, PromptText, Target
from hotline.phoneconfig.service import config_version, load_config
from hotline.phoneconfig.texts import CALLBACK_TEXTS, SURGE_TEXTS
from hotline.phoneconfig.uploads import uploads_dir
from hotline.settings import Settings
from hotline.telephony.backend import CallLeg
from hotline.telephony.consult import ConsultDesk
from hotline.telephony.hours import OpeningHours, parse_window, vi_number
from hotline.telephony.ivr import Menu, Option
from hotline.telephony.prompts import Prompt, PromptSet
from hotline.telephony.queue import QueueTiming, position_texts
from hotline.telephony.routing import ConfiguredIvr, LineRule, QueueRule

if TYPE_CHECKING:
    from hotline.telephony.acd import Acd
    from hotline.telephony.errlog import ErrorLog

log = structlog.get_logger("hotline.telephony.switchboard")
FALLBACK = "fallback"  # the menu's no-key/wrong-key option: never a DTMF digit
VOICEMAIL = "voicemail"  # the branch of a menu key that goes straight to voicemail


@dataclass(frozen=True)
class Snapshot:
    version: int
    menus: dict[str, Menu]
    lines: dict[str, LineRule]
    queues: dict[str, QueueRule]
    hours: OpeningHours
    prompts: PromptSet
    bridged: frozenset[str] = frozenset()  # destinations called and bridged, not REFERred
    destinations: dict[str, Destination] = field(default_factory=dict)
    # Who each queue rings; empty (a menu given in code): the call takers' built-in queues.
    members: dict[str, Members] = field(default_factory=dict)

    def option_for(self, target: Target) -> Option:
        return option_for(target, self.destinations)

    def queues_of(self, agent: LineAgent) -> tuple[str, ...]:
        """The queues a call taker answers: each queue whose members they match."""
        if not self.members:
            return agent.queues
        return tuple(
            name
            for name, m in self.members.items()
            if agent.role in m.roles
            or (agent.unit is not None and agent.unit in m.units)
            or any(skill in m.skills for skill in agent.skills)
        )

    def menu_for(self, number: str) -> tuple[Menu, LineRule | None]:
        """The dialled number's menu; numbers not configured get `main` (as before)."""
        rule = self.lines.get(number)
        menu = self.menus.get(rule.menu if rule else MAIN_MENU)
        return (menu or next(iter(self.menus.values()))), rule


def option_for(target: Target, destinations: dict[str, Destination]) -> Option:
    """A configured target (a menu key's, a queue's overflow) as the IVR's option."""
    if target.destination is not None:
        d = destinations[target.destination]
        return Option(
            d.name,
            transfer_to=d.uri,
            outcome=d.outcome,
            fallback_after=d.fallback_after,
            progress_after=d.progress_after,
            ring_seconds=d.ring_seconds,
        )
    if target.queue is not None:
        return Option(target.queue, queue=True)
    if target.menu is not None:
        return Option(target.menu, submenu=target.menu)
    return Option(VOICEMAIL, voicemail=True)


def _say(text: str) -> str:
    t = parse_window(text)
    said = []
    for at in (t.start, t.end):
        said.append(
            f"{vi_number(at.hour)} giờ" + (f" {vi_number(at.minute)} phút" if at.minute else "")
        )
    return f"từ {said[0]} đến {said[1]}"


def hours_texts(config: PhoneConfig) -> dict[str, str]:
    """`hours_<queue>`, said with the queue's label (the same words as hours.py)."""
    out = {}
    for queue in config.queues:
        if not queue.hours:
            continue
        spans = [_say(w) for w in queue.hours]
        said = ", ".join(spans[:-1]) + (" và " if len(spans) > 1 else "") + spans[-1]
        out[f"hours_{queue.name}"] = f"{queue.label} làm việc {said} hằng ngày."
    return out


def load_upload(prompt: PromptText, directory: Path) -> Prompt | None:
    """An uploaded prompt's frames, if its file is there and still has its SHA-256."""
    assert prompt.upload is not None
    path = directory / prompt.upload.storage_name
    try:
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != prompt.upload.sha256:
            raise ValueError("SHA-256 does not match")
        with wave.open(str(path)) as w:
            if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (8000, 1, 2):
                raise ValueError("not 8 kHz mono 16-bit")
            pcm = w.readframes(w.getnframes())
    except (OSError, ValueError, wave.Error, EOFError) as exc:
        log.warning("prompt_upload_unusable", prompt=prompt.name, error=str(exc))
        return None
    return Prompt.from_pcm(prompt.name, pcm)


def build_snapshot(
    config: PhoneConfig, version: int, *, settings: Settings, timezone: ZoneInfo
) -> Snapshot:
    """Blocking (synthesis, file reads): run it in a thread."""
    destinations = {d.name: d for d in config.destinations}
    menus = {}
    for m in config.menus:
        options = {o.digit: option_for(o, destinations) for o in m.options}
        options[FALLBACK] = Option(m.fallback_queue, queue=True)
        menus[m.name] = Menu(
            options=options,
            greeting=m.greeting,
            digit_timeout=m.digit_timeout,
            repeats=m.repeats,
            fallback=FALLBACK,
            ring_seconds=settings.sip_ring_seconds,
            surge_prompt=m.surge_prompt,
        )
    hours = OpeningHours({q.name: q.hours for q in config.queues if q.hours is not None}, timezone)
    texts = {**position_texts(), **hours_texts(config), **{p.name: p.text for p in config.prompts}}
    prompts = PromptSet.build(texts.items(), settings.prompts_dir, voice=settings.sip_voice)
    directory = uploads_dir(settings.var_dir)
    for p in config.prompts:
        if p.upload is not None and (uploaded := load_upload(p, directory)) is not None:
            prompts.prompts[p.name] = uploaded
    return Snapshot(
        version=version,
        menus=menus,
        lines={ln.number: LineRule(ln.menu, ln.record) for ln in config.lines},
        queues={
            q.name: QueueRule(
                callback_after=q.callback_after,
                record=q.record,
                callback_offer=q.callback_offer,
                announcement=q.announcement,
                overflow=q.overflow,
                overflow_after=q.overflow_after,
                category=q.category,
                callback_attempts=q.callback_attempts,
                callback_retry_after=q.callback_retry_after,
            )
            for q in config.queues
        },
        hours=hours,
        prompts=prompts,
        bridged=frozenset(d.name for d in config.destinations if not d.refer),
        destinations=destinations,
        members={q.name: q.members for q in config.queues},
    )


def fixed_snapshot(menu: Menu, *, settings: Settings, timezone: ZoneInfo) -> Snapshot:
    """A menu given in code (tests, a menu tried on its own): no database configuration."""
    hours = OpeningHours(settings.sip_opening_hours, timezone)
    texts = {**position_texts(), **CALLBACK_TEXTS, **SURGE_TEXTS, **hours.texts(), **menu.texts}
    prompts = PromptSet.build(texts.items(), settings.prompts_dir, voice=settings.sip_voice)
    return Snapshot(0, {MAIN_MENU: menu}, {}, {}, hours, prompts)


class Switchboard:
    """The call handler: picks the current snapshot's menu for each new call."""

    def __init__(
        self,
        settings: Settings,
        *,
        timezone: ZoneInfo,
        acd: Acd | None,
        timing: QueueTiming,
        now: Callable[[], datetime],
        fixed: Menu | None = None,
        consult: ConsultDesk | None = None,
    ) -> None:
        self.settings = settings
        self.consult = consult  # branch 3 by the consult windows (consult.py)
        self.timezone = timezone
        self.acd = acd
        self.timing = timing
        self.now = now
        self.fixed = fixed
        self.snapshot: Snapshot | None = None
        self.failed_version: int | None = None
        self.reloads = 0
        # Set by the line's poll while the hotline is in surge mode (staffing/surge.py).
        self.surge_callback_after: float | None = None
        self.errors: ErrorLog | None = None  # the line's: repeated errors once per interval

    @property
    def prompts(self) -> PromptSet:
        """The prompts new calls hear."""
        assert self.snapshot is not None
        return self.snapshot.prompts

    async def load(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Read the configuration (the defaults if the database cannot be read) and swap it in."""
        s = self.settings
        if self.fixed is not None:
            self.snapshot = await asyncio.to_thread(
                fixed_snapshot, self.fixed, settings=s, timezone=self.timezone
            )
            return
        defaults = default_config(s)
        try:
            async with sessionmaker() as session:
                loaded = await load_config(session, defaults=defaults)
            config, version = loaded.config, loaded.version
        except Exception as exc:  # e.g. not migrated yet: today's defaults, retried by the poll
            log.warning("phone_config_load_failed", error=str(exc).splitlines()[0])
            if self.snapshot is not None:
                return
            config, version = defaults, -1
        try:
            snapshot = await asyncio.to_thread(
                build_snapshot, config, version, settings=s, timezone=self.timezone
            )
        except Exception:  # e.g. stored objects that no longer fit changed settings
            log.exception("phone_config_unusable", version=version)
            self.failed_version = version  # not retried until the next change
            if self.snapshot is not None:
                return  # keep the configuration calls are using
            snapshot = await asyncio.to_thread(
                build_snapshot, defaults, version, settings=s, timezone=self.timezone
            )
        self.snapshot = snapshot
        self.reloads += 1
        log.info("phone_config_loaded", version=version)

    async def check(self, sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
        """Reload if an administrator changed something since; True if it did."""
        if self.fixed is not None:
            return False
        async with sessionmaker() as session:
            version = await config_version(session)
        if self.snapshot is not None and version in (self.snapshot.version, self.failed_version):
            return False
        await self.load(sessionmaker)
        return True

    async def watch(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        while True:
            await asyncio.sleep(self.settings.sip_config_poll_seconds)
            try:
                await self.check(sessionmaker)
            except Exception as exc:  # one line per interval: it repeats every poll
                if self.errors is not None:
                    self.errors.error("phone_config_poll_failed", exc)
                else:
                    log.warning("phone_config_poll_failed", error=str(exc).splitlines()[0])

    async def __call__(self, leg: CallLeg) -> None:
        snapshot = self.snapshot
        assert snapshot is not None, "load() before the first call"
        menu, line = snapshot.menu_for(leg.record.line)
        ivr = ConfiguredIvr(
            snapshot,
            menu,
            line,
            self.settings.recording_max_seconds,
            surge_callback_after=self.surge_callback_after,
            consult=self.consult,
            acd=self.acd,
            timing=replace(self.timing, digit_timeout=menu.digit_timeout),
            now=self.now,
        )
        await ivr(leg)
