"""The small interface the IVR drives, so another backend (Asterisk ARI) can replace SIP.

A backend accepts calls and hands each one, as a CallLeg, to a handler coroutine. When the
caller hangs up the backend cancels the handler task; whatever the handler wrote into
`leg.record` by then is what the call record says.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from hotline.calls.transfers import NewAttempt as Attempt
from hotline.telephony.prompts import Prompt

if TYPE_CHECKING:
    from hotline.care.consult_windows import ConsultWindow
    from hotline.telephony.recording import CallAudio


@dataclass
class CallProgress:
    """What the IVR has learnt so far; turned into a call record when the call ends."""

    line: str
    caller: str  # E.164, or "" when the caller id is withheld or not a phone number
    started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    menu_path: str = ""
    branch: str | None = None
    outcome: str | None = None
    queued_at: datetime | None = None
    # Set when an operator (a person) answered through the ACD; `answered_at` above is when
    # the line itself answered the caller.
    operator_id: int | None = None
    agent_answered_at: datetime | None = None
    # When the call is recorded: its audio so far, written to a file when the call ends.
    recording: CallAudio | None = None
    # Branch 3 (telephony/consult.py): the consult window a callback is to be made in, and
    # when it is due (its start; None: at once, the window being open when it was asked).
    consult_window: ConsultWindow | None = None
    consult_due: datetime | None = None
    # A message left in a queue's voicemail becomes a case of this category (None: triage).
    voicemail: bool = False
    voicemail_category: str | None = None
    # Putting the caller through to a destination, try by try; `transfer_failed` once every
    # way failed (the caller then waits for an operator).
    attempts: list[Attempt] = field(default_factory=list)
    transfer_failed: bool = False
    # The SIP side of the call: its Call-ID, the trunk address the INVITE came from, the
    # codec last agreed, the final status sent for the INVITE (200, 487, 480, or a refusal:
    # 503, 488), who ended the call ("caller", "line", "operator", "destination") and why
    # (see RELEASE_CAUSES in calls/models.py).
    sip_call_id: str = ""
    trunk: str = ""
    codec: str = ""
    sip_status: int | None = None
    ended_by: str | None = None
    release_cause: str | None = None
    # When a destination the line called and bridged (transfer.py) answered: talk time.
    bridged_at: datetime | None = None
    # The record's key (calls/line_records.py): written twice, it is still one row.
    record_key: str = field(default_factory=lambda: uuid.uuid4().hex)

    def release(self, by: str, cause: str) -> None:
        """Who ended the call and why; the first reason given wins (a BYE the line sends
        after the caller's media timed out is still the timeout)."""
        if self.release_cause is None:
            self.ended_by, self.release_cause = by, cause


class CallLeg(Protocol):
    record: CallProgress

    async def ring(self) -> None:
        """Tell the caller it is ringing (180)."""

    async def answer(self) -> None:
        """Answer (200 OK) and return once the caller has confirmed (ACK)."""

    async def play(self, prompt: Prompt, *, barge_in: bool = True) -> str | None:
        """Play a prompt; with barge-in, a digit stops it and is returned."""

    async def collect_digit(self, timeout: float) -> str | None:
        """The next digit, or None after `timeout` seconds of silence."""

    async def refer(self, target: str, timeout: float) -> int | None:
        """Send a REFER; its final status, or None if none came within `timeout` seconds."""

    async def hangup(self) -> None:
        """End the call from our side."""

    async def wait_ended(self) -> None:
        """Return when the call has ended, whoever ended it."""


CallHandler = Callable[[CallLeg], Awaitable[None]]
CallEndHook = Callable[[CallProgress], None]
# An attempt of a call already handed to the CallEndHook changed (a report that came after
# the call's end): the call's record key, the attempt's place (from 1), the attempt, and the
# result it had before.
CallAmendHook = Callable[[str, int, Attempt, str], None]


class Backend(Protocol):
    async def start(self, handler: CallHandler, on_end: CallEndHook) -> None: ...

    async def stop(self) -> None: ...


class CallEnded(Exception):
    """Raised by a CallLeg method once the call is over."""
