"""Branch 3, the consult doctors' queue, routed by the care network's consult windows.

The line polls the windows of every active consult doctor (care/consult_windows.py,
`consult_schedule`) with the operators' statuses and keeps them in memory, so a call asks
them without the database. While any consult doctor has windows:

- the queue rings only the consult doctors whose window includes now (their phones
  registered like operators'; longest idle first, as operators);
- a caller inside a window, with one of them available or on a call, waits in the queue;
- otherwise the caller hears when the next window starts and may press 1 to be called back
  in it: the callback is recorded due at that window's start, for its doctors
  (care/consults.py, `phone_callback`).

With no consult doctor at all, branch 3 keeps the configured opening hours and rings the
doctor accounts, as before the care network existed.
"""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from hotline.agents.service import LineAgent
from hotline.care.consult_windows import ConsultSchedule, ConsultWindow
from hotline.telephony.hours import vi_number
from hotline.telephony.prompts import Prompt, synthesise, tone

if TYPE_CHECKING:
    from hotline.telephony.acd import Acd

log = structlog.get_logger("hotline.telephony.consult")
CONSULT_QUEUE = "doctor"  # the branch (Call.branch) menu option 3 queues callers in
WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
MAX_CACHED = 64


def say_when(window: ConsultWindow, now: datetime) -> str:
    """'mười lăm giờ hôm nay', 'chín giờ ba mươi phút ngày mai', 'chín giờ thứ Hai'."""
    starts = window.starts_at
    local_now = now.astimezone(starts.tzinfo)
    at = f"{vi_number(starts.hour)} giờ" + (
        f" {vi_number(starts.minute)} phút" if starts.minute else ""
    )
    days = (starts.date() - local_now.date()).days
    day = "hôm nay" if days == 0 else "ngày mai" if days == 1 else WEEKDAYS[starts.weekday()]
    return f"{at} {day}"


def announcement(window: ConsultWindow, now: datetime) -> str:
    return (
        "Hiện không có bác sĩ tư vấn trực máy. "
        f"Lượt tư vấn tiếp theo bắt đầu lúc {say_when(window, now)}."
    )


class ConsultDesk:
    """The consult windows as the line last read them, and the prompts that say them."""

    def __init__(self, *, prompts_dir: Path, voice: str) -> None:
        self.prompts_dir = prompts_dir
        self.voice = voice
        self.schedule: ConsultSchedule | None = None
        self._prompts: dict[str, Prompt] = {}

    @property
    def active(self) -> bool:
        return self.schedule is not None and bool(self.schedule.slots)

    def ringable(self, agents: list[LineAgent], now: datetime) -> list[LineAgent]:
        """The doctors' queue keeps only the consult doctors in a window now (from the
        care network, not the doctor role); the others' phones do not ring for it."""
        if self.schedule is None or not self.active:
            return agents
        in_window = self.schedule.doctors_at(now)
        return [
            a
            if CONSULT_QUEUE not in a.queues or a.user_id in in_window
            else replace(a, queues=tuple(q for q in a.queues if q != CONSULT_QUEUE))
            for a in agents
        ]

    def window_with_doctor(self, acd: Acd, now: datetime) -> ConsultWindow | None:
        """The window open now, if one of its doctors can take the call: available or on a
        call (the caller waits for them), with a phone the line reaches."""
        if self.schedule is None:
            return None
        window = self.schedule.window_at(now)
        if window is None:
            return None
        for agent in acd.agents.values():
            if (
                agent.user_id in window.doctor_ids
                and CONSULT_QUEUE in agent.queues
                and agent.status in ("available", "busy")
                and acd.reachable(agent) is not None
            ):
                return window
        return None

    async def prompt(self, window: ConsultWindow, now: datetime) -> Prompt:
        """When the next window starts, said; synthesised once per text (in a thread; the
        poll makes the next one ahead of the calls)."""
        text = announcement(window, now)
        found = self._prompts.get(text)
        if found is not None:
            return found
        try:
            pcm = await asyncio.to_thread(synthesise, text, self.prompts_dir, voice=self.voice)
            made = Prompt.from_pcm("consult_next", pcm)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("prompt_synthesis_failed", prompt="consult_next", error=str(exc))
            made = tone("consult_next", 0.5)
        if len(self._prompts) >= MAX_CACHED:
            self._prompts.clear()
        self._prompts[text] = made
        return made

    async def warm(self, now: datetime) -> None:
        """Make the prompt the next caller outside a window will hear."""
        if self.schedule is None or not self.active:
            return
        window = self.schedule.next_window(now)
        if window is not None:
            await self.prompt(window, now)
