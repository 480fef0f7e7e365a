"""One call through the configured menus and queues: sub-menus, per-queue rules, overflow,
voicemail, recording, and the consult windows of the doctors' queue.

A queue's overflow (phoneconfig Queue.overflow) takes the caller elsewhere when the queue is
closed, when no member is on duty, or after `overflow_after` seconds of waiting: to another
queue, a SIP destination, a menu, or voicemail. Hops are bounded (MAX_HOPS) so that menus
pointing at each other cannot keep a caller for ever; validation already refuses overflow
cycles between queues.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from hotline.calls.models import CallOutcome
from hotline.phoneconfig.defaults import RECORDING_NOTICE
from hotline.phoneconfig.schemas import Target
from hotline.telephony.backend import CallLeg
from hotline.telephony.consult import CONSULT_QUEUE, ConsultDesk
from hotline.telephony.ivr import Ivr, Menu, Option
from hotline.telephony.prompts import Prompt, tone
from hotline.telephony.queue import QueueTiming
from hotline.telephony.recording import CallAudio
from hotline.telephony.transfer import bridge, refer_or_bridge

if TYPE_CHECKING:
    from hotline.telephony.sip.leg import SipLeg
    from hotline.telephony.switchboard import Snapshot

MAX_HOPS = 5  # sub-menus and overflows one call may go through
SURGE_QUEUE = "surge_queue"  # said on joining a queue whose callback surge mode brings sooner
VOICEMAIL_SECONDS = 120.0  # the longest message kept (the recording's own cap applies too)


@cache
def beep() -> Prompt:
    return tone("voicemail_beep", 0.4, hz=1000.0)


@dataclass(frozen=True)
class LineRule:
    menu: str
    record: bool = False


@dataclass(frozen=True)
class QueueRule:
    """A queue's settings as a call uses them (phoneconfig Queue)."""

    callback_after: float | None = None  # None: the line's QueueTiming as given
    record: bool = False
    callback_offer: bool = True
    announcement: str = ""  # "" : the menu's queue prompt
    overflow: Target | None = None
    overflow_after: float | None = None
    category: str | None = None
    callback_attempts: int = 3
    callback_retry_after: float = 300.0


def timing_for(
    timing: QueueTiming, rule: QueueRule | None, surge_callback_after: float | None
) -> QueueTiming:
    """A queue's timing: the queue's own callback delay if it has one; in surge mode
    (staffing/surge.py) the callback is offered no later than `surge_callback_after`; a
    queue that offers no callback never does (surge or not)."""
    if rule is not None and not rule.callback_offer:
        return replace(timing, callback_after=math.inf)
    if rule is not None and rule.callback_after is not None:
        timing = replace(timing, callback_after=rule.callback_after)
    if surge_callback_after is not None:
        timing = replace(timing, callback_after=min(timing.callback_after, surge_callback_after))
    return timing


class ConfiguredIvr(Ivr):
    """The IVR for one call, with the snapshot's per-line and per-queue rules."""

    def __init__(
        self,
        snapshot: Snapshot,
        menu: Menu,
        line: LineRule | None,
        max_recording: float,
        surge_callback_after: float | None = None,
        consult: ConsultDesk | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(menu, snapshot.prompts, hours=snapshot.hours, **kw)
        self.surge_callback_after = surge_callback_after
        self.consult = consult
        self.snapshot = snapshot
        self.line = line
        self.max_recording = max_recording
        self.base_timing = self.timing
        self.hops = 0

    # -- where an option leads ----------------------------------------------------------------
    async def _go(self, leg: CallLeg, option: Option) -> None:
        if option.submenu is not None or option.voicemail:
            self.hops += 1
            if self.hops > MAX_HOPS:
                option = self.menu.options[self.menu.fallback]
            elif option.voicemail:
                await self._voicemail(leg, option.branch)
                return
            else:
                assert option.submenu is not None
                self.menu = self.snapshot.menus[option.submenu]
                option = await self._choose(leg)
                await self._go(leg, option)
                return
        await super()._go(leg, option)

    async def _overflow(self, leg: CallLeg, branch: str) -> bool:
        """Take the caller to the queue's overflow; False if it has none (or too many hops)."""
        rule = self.snapshot.queues.get(branch)
        if rule is None or rule.overflow is None or self.hops >= MAX_HOPS:
            return False
        self.hops += 1
        target = rule.overflow
        if target.voicemail:
            await self._voicemail(leg, branch)
        else:
            await self._go(leg, self.snapshot.option_for(target))
        return True

    # -- closed, unstaffed, waited too long ---------------------------------------------------
    def _consult_routed(self, branch: str) -> bool:
        return (
            branch == CONSULT_QUEUE
            and self.acd is not None
            and self.consult is not None
            and self.consult.active
        )

    async def _closed(self, leg: CallLeg, branch: str) -> None:
        if self._consult_routed(branch):  # the consult windows, not the hours, decide
            await self._queue(leg, branch)
            return
        if await self._overflow(leg, branch):
            return
        rule = self.snapshot.queues.get(branch)
        if rule is not None and not rule.callback_offer:
            leg.record.outcome = CallOutcome.OUTSIDE_HOURS.value
            name = f"hours_{branch}"
            if name in self.prompts:
                await leg.play(self.prompts[name], barge_in=False)
            await leg.hangup()
            return
        await super()._closed(leg, branch)

    async def _queue(
        self, leg: CallLeg, branch: str, *, announcement: str = "", max_wait: float | None = None
    ) -> bool:
        if self._consult_routed(branch):
            assert self.acd is not None and self.consult is not None
            now = self.now()
            window = self.consult.window_with_doctor(self.acd, now)
            if window is None:
                await self._consult_later(leg, branch, now)
                return True
            leg.record.consult_window = window  # a callback asked while waiting: this window
        rule = self.snapshot.queues.get(branch)
        before = timing_for(self.base_timing, rule, None)
        self.timing = timing_for(self.base_timing, rule, self.surge_callback_after)
        if self.timing.callback_after < before.callback_after and SURGE_QUEUE in self.prompts:
            # The caller's first announcement in the queue (their place already held) says
            # the callback will come sooner, instead of the usual one.
            self.menu = replace(self.menu, queue_prompt=SURGE_QUEUE)
        if rule is None:
            return await super()._queue(leg, branch)
        unstaffed = self.acd is not None and not self.acd.staffed(branch)
        if rule.overflow is not None and unstaffed and await self._overflow(leg, branch):
            return True
        if rule.record:
            await self._record(leg)
        waited = await super()._queue(
            leg, branch, announcement=rule.announcement, max_wait=rule.overflow_after
        )
        if not waited and not await self._overflow(leg, branch):
            await super()._queue(leg, branch, announcement=rule.announcement)
        return True

    async def _consult_later(self, leg: CallLeg, branch: str, now: datetime) -> None:
        """No consult doctor now: say when the next window starts and offer a callback in
        it (1, during the announcement or the offer); then hang up."""
        assert self.consult is not None and self.consult.schedule is not None
        window = self.consult.schedule.next_window(now)
        if window is None:
            await Ivr._closed(self, leg, branch)
            return
        leg.record.outcome = CallOutcome.OUTSIDE_HOURS.value
        cast("SipLeg", leg).digits.clear()  # keys pressed in the menu do not answer this
        digit = await leg.play(await self.consult.prompt(window, now))
        if digit is None:
            digit = await leg.play(self.prompts["callback_offer"])
        if digit is None:
            digit = await leg.collect_digit(self.timing.digit_timeout)
        if digit == "1":
            leg.record.outcome = CallOutcome.CALLBACK_REQUESTED.value
            leg.record.consult_window, leg.record.consult_due = window, window.starts_at
            await leg.play(self.prompts["callback_ok"], barge_in=False)
        await leg.hangup()

    # -- transfers ----------------------------------------------------------------------------
    async def _transfer(self, leg: CallLeg, option: Option) -> bool:
        # The line's own call rings the destination for the destination's `ring_seconds`,
        # not the operators' ring time: an emergency centre answers on its own schedule.
        sip_leg = cast("SipLeg", leg)
        prompt = self.prompts[self.menu.transferring]
        if option.branch not in self.snapshot.bridged:
            # REFER where the far end accepts it in time, otherwise a bridge.
            return await refer_or_bridge(sip_leg, option, prompt)
        await leg.play(prompt, barge_in=False)
        return await bridge(sip_leg, option)

    # -- recording and messages ---------------------------------------------------------------
    @property
    def surge(self) -> bool:
        return self.surge_callback_after is not None

    async def _choose(self, leg: CallLeg) -> Option:
        if self.line is not None and self.line.record:
            await self._record(leg)
        await self._surge_prompt(leg, self.menu.surge_prompt)
        return await super()._choose(leg)

    async def _surge_prompt(self, leg: CallLeg, name: str | None) -> None:
        """In surge mode, the menu's short announcement before its greeting. A key pressed
        during it is kept for the menu, so a caller who knows it need not wait."""
        if not self.surge or name is None or name not in self.prompts:
            return
        digit = await leg.play(self.prompts[name])
        if digit is not None:
            cast("SipLeg", leg).digits.appendleft(digit)

    async def _record(self, leg: CallLeg) -> None:
        """Start recording, then say so: the recording itself holds the announcement."""
        if leg.record.recording is not None:
            return
        audio = CallAudio(max_seconds=self.max_recording)
        audio.attach(cast("SipLeg", leg))
        leg.record.recording = audio
        await leg.play(self.prompts[RECORDING_NOTICE], barge_in=False)

    async def _voicemail(self, leg: CallLeg, branch: str) -> None:
        """Record the caller's message until they hang up or press #; the call recorder makes
        it a case (of the queue's category) with the recording on its call."""
        record = leg.record
        record.branch = branch
        rule = self.snapshot.queues.get(branch)
        if "voicemail" in self.prompts:
            await leg.play(self.prompts["voicemail"], barge_in=False)
        await leg.play(beep(), barge_in=False)
        if record.recording is None:
            audio = CallAudio(max_seconds=min(self.max_recording, VOICEMAIL_SECONDS))
            audio.attach(cast("SipLeg", leg))
            record.recording = audio
        # From the beep on it is a message (a caller gone before it left none).
        record.voicemail = True
        record.voicemail_category = rule.category if rule is not None else None
        record.outcome = CallOutcome.VOICEMAIL.value
        cast("SipLeg", leg).digits.clear()
        loop = asyncio.get_running_loop()
        until = loop.time() + VOICEMAIL_SECONDS
        while (left := until - loop.time()) > 0:
            if await leg.collect_digit(left) == "#":
                break
        await leg.hangup()
