"""The voice menu as data, and the coroutine that walks a caller through it.

The default is Hà Nội's 2021 menu: 1 emergency 115, 2 CDC, 3 doctor network, 4 operators.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, cast

from hotline.calls.models import CallOutcome, TransferMethod
from hotline.db import utcnow
from hotline.phoneconfig.texts import DEFAULT_TEXTS
from hotline.telephony.backend import Attempt, CallLeg
from hotline.telephony.hours import OpeningHours
from hotline.telephony.prompts import PromptSet
from hotline.telephony.queue import QueueTiming, offer_callback, wait_in_queue

if TYPE_CHECKING:
    from hotline.telephony.acd import Acd
    from hotline.telephony.sip.leg import SipLeg


@dataclass(frozen=True)
class Option:
    branch: str  # stored on the call record (Call.branch)
    transfer_to: str | None = None  # a SIP URI: blind transfer (REFER)
    outcome: str | None = None  # the outcome once the transfer is accepted
    queue: bool = False  # wait in the branch's operator queue (queue.py)
    submenu: str | None = None  # play another menu (switchboard.py)
    voicemail: bool = False  # leave a message that becomes a case (switchboard.py)
    # Seconds from the key press the REFER may take to be accepted, then from its 202 for a
    # NOTIFY showing the destination ringing, then for its answer once it rings, before the
    # line calls the destination itself (telephony/transfer.py).
    fallback_after: float = 3.0
    progress_after: float = 4.0
    ring_seconds: float = 30.0


@dataclass(frozen=True)
class Menu:
    options: dict[str, Option]
    greeting: str = "greeting"
    invalid: str = "invalid"
    transferring: str = "transferring"
    queue_prompt: str = "queue"
    digit_timeout: float = 5.0
    repeats: int = 2  # after the first play; then the caller goes to the fallback queue
    fallback: str = "4"
    ring_seconds: float = 0.0
    texts: dict[str, str] = field(default_factory=dict)
    surge_prompt: str | None = None  # before the greeting in surge mode (switchboard.py)


def default_menu(
    *, dest_115: str, dest_cdc: str, digit_timeout: float = 5.0, ring_seconds: float = 0.0
) -> Menu:
    return Menu(
        options={
            "1": Option("115", transfer_to=dest_115, outcome=CallOutcome.TRANSFERRED_115.value),
            "2": Option("cdc", transfer_to=dest_cdc, outcome=CallOutcome.TRANSFERRED_CDC.value),
            "3": Option("doctor", queue=True),
            "4": Option("operator", queue=True),
        },
        digit_timeout=digit_timeout,
        ring_seconds=ring_seconds,
        texts=dict(DEFAULT_TEXTS),
        surge_prompt="surge_menu",
    )


class Ivr:
    """Runs one call through the menu; the backend cancels it when the caller hangs up."""

    def __init__(
        self,
        menu: Menu,
        prompts: PromptSet,
        *,
        acd: Acd | None = None,
        hours: OpeningHours | None = None,
        timing: QueueTiming | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.menu = menu
        self.prompts = prompts
        self.acd = acd
        self.hours = hours
        self.timing = timing or QueueTiming(digit_timeout=menu.digit_timeout)
        self.now = now

    async def __call__(self, leg: CallLeg) -> None:
        menu = self.menu
        if menu.ring_seconds > 0:
            await leg.ring()
            await asyncio.sleep(menu.ring_seconds)
        await leg.answer()
        await self._go(leg, await self._choose(leg))

    async def _go(self, leg: CallLeg, option: Option) -> None:
        """Take the caller where the option says: a transfer, else a queue (the menu's
        fallback queue when the transfer fails or the option is no queue)."""
        menu = self.menu
        record = leg.record
        record.branch = option.branch
        if option.transfer_to and await self._transfer(leg, option):
            return
        if not option.queue:
            # Every way to the destination failed: the caller waits for an operator, and the
            # record keeps the branch they chose, so a failed emergency transfer shows as one.
            record.transfer_failed = option.transfer_to is not None
            option = menu.options[menu.fallback]
            if not record.transfer_failed:
                record.branch = option.branch
        if self.hours is not None and not self.hours.is_open(option.branch, self.now()):
            await self._closed(leg, option.branch)
            return
        if record.transfer_failed:
            record.attempts.append(
                Attempt(TransferMethod.QUEUE.value, option.branch, None, utcnow())
            )
        await self._queue(leg, option.branch)

    async def _closed(self, leg: CallLeg, branch: str) -> None:
        """Outside the branch's hours: say the hours, offer a callback, hang up."""
        leg.record.outcome = CallOutcome.OUTSIDE_HOURS.value
        name = f"hours_{branch}"
        if name in self.prompts:
            await leg.play(self.prompts[name], barge_in=False)
        await offer_callback(cast("SipLeg", leg), self.prompts, self.timing.digit_timeout)
        await leg.hangup()

    async def _choose(self, leg: CallLeg) -> Option:
        menu = self.menu
        for attempt in range(menu.repeats + 1):
            digit = await leg.play(self.prompts[menu.greeting])
            if digit is None:
                digit = await leg.collect_digit(menu.digit_timeout)
            if digit is not None:
                leg.record.menu_path += digit
                if digit in menu.options:
                    return menu.options[digit]
                if attempt < menu.repeats:
                    await leg.play(self.prompts[menu.invalid], barge_in=False)
        return menu.options[menu.fallback]

    async def _transfer(self, leg: CallLeg, option: Option) -> bool:
        """Put the caller through to the option's destination; False when every way failed.
        The line's menus are ConfiguredIvr (routing.py: REFER, then a bridged call)."""
        raise NotImplementedError("transfers are routing.ConfiguredIvr's")

    async def _queue(
        self, leg: CallLeg, branch: str, *, announcement: str = "", max_wait: float | None = None
    ) -> bool:
        """Wait in the branch's queue; False if `max_wait` passed with no operator."""
        if self.acd is not None:
            return await wait_in_queue(
                cast("SipLeg", leg),
                acd=self.acd,
                branch=branch,
                prompts=self.prompts,
                timing=self.timing,
                queue_prompt=announcement or self.menu.queue_prompt,
                max_wait=max_wait,
            )
        # Without an ACD (a menu tried on its own): hold audio until the caller hangs up.
        leg.record.queued_at = utcnow()
        while True:
            await leg.play(self.prompts[self.menu.queue_prompt], barge_in=False)
            await leg.play(self.prompts["hold"], barge_in=False)
