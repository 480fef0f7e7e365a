"""A REFER's subscription outliving its call.

A REFER creates an implicit subscription (RFC 3515 §2.4.4), a dialog usage of its own
(RFC 5057 §5, RFC 6665 §4.5.2): a BYE ends the call's INVITE usage, not the subscription. A
trunk that carries out the transfer commonly sends BYE first and its final NOTIFY
(`SIP/2.0 200 OK`, `Subscription-State: terminated`) after it, and a NOTIFY may also come
after the line's own BYE. So a subscription with no final report when its call ends is kept,
by Call-ID and both tags, until its final report, a `terminated` state, or its bound (set by
transfer.py from the destination's timings), whichever comes first. Its NOTIFYs are answered
200; the final status goes to the REFER's `after_end` hook, which amends the stored call
record. A NOTIFY matching no call and no kept subscription, or a subscription that has ended,
gets 481 (RFC 6665 §4.1.3).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from hotline.telephony.sip.message import Message
from hotline.telephony.sip.refer import ReferProgress, sipfrag_status

if TYPE_CHECKING:
    from hotline.telephony.sip.leg import SipLeg
    from hotline.telephony.sip.ua import UserAgent

log = structlog.get_logger("hotline.telephony.sip")


@dataclass
class Kept:
    remote_tag: str
    local_tag: str
    progress: ReferProgress
    timer: asyncio.TimerHandle

    def matches(self, msg: Message) -> bool:
        """Its dialog's tags, and the `refer` event (with the REFER's CSeq as `id`, if any:
        RFC 3515 §2.4.6)."""
        if (msg.from_addr.tag, msg.to_addr.tag) != (self.remote_tag, self.local_tag):
            return False
        name, *params = (p.strip() for p in msg.get("event").split(";"))
        if name.lower() != "refer":
            return False
        ids = [p.partition("=")[2].strip() for p in params if p.lower().startswith("id=")]
        return not ids or ids[0] == str(self.progress.cseq)


class Subscriptions:
    """The REFER subscriptions kept after their calls ended, by Call-ID."""

    def __init__(self) -> None:
        self.kept: dict[str, Kept] = {}

    def keep(self, leg: SipLeg) -> None:
        """At the call's end: keep its REFER's subscription if it has a final report to come
        and someone to tell (transfer.py sets both the bound and the hook)."""
        progress = leg.refer_progress
        if progress is None:
            return
        loop = asyncio.get_running_loop()
        left = progress.keep_until - loop.time()
        if progress.final is not None or progress.after_end is None or left <= 0:
            # The hook holds the call's record (and through a recording, the leg): let go.
            progress.after_end = None
            return
        self.forget(leg.call_id)
        timer = loop.call_later(left, self._expire, leg.call_id)
        self.kept[leg.call_id] = Kept(leg.remote_tag, leg.local_tag, progress, timer)

    def find(self, msg: Message) -> Kept | None:
        kept = self.kept.get(msg.call_id)
        return kept if kept is not None and kept.matches(msg) else None

    def report(self, call_id: str, kept: Kept, msg: Message) -> None:
        """A NOTIFY of a kept subscription (already answered 200)."""
        progress = kept.progress
        status = sipfrag_status(msg.body)
        if status is not None:
            progress.report(status)
        state = msg.get("subscription-state").split(";")[0].strip().lower()
        if progress.final is None and state != "terminated":
            return
        hook = progress.after_end
        self.forget(call_id)
        if progress.final is not None and progress.final_at is not None and hook is not None:
            hook(progress.final, progress.final_at)

    def forget(self, call_id: str) -> None:
        kept = self.kept.pop(call_id, None)
        if kept is not None:
            kept.timer.cancel()
            kept.progress.after_end = None

    def _expire(self, call_id: str) -> None:
        if call_id in self.kept:
            log.info("refer_subscription_expired", call_id=call_id)
            self.forget(call_id)

    def close(self) -> None:
        """The line stopping: no report is waited for any longer."""
        for call_id in list(self.kept):
            self.forget(call_id)


def on_notify(ua: UserAgent, msg: Message, source: tuple[str, int]) -> None:
    """A NOTIFY: our REFER's report, within its call or after it (a kept subscription)."""
    leg = ua._dialog(msg)
    kept = ua.subscriptions.find(msg) if leg is None else None
    if leg is None and kept is None:
        ua.reply(msg, 481, "Call/Transaction Does Not Exist", source)
        return
    ua.reply(msg, 200, "OK", source)
    if leg is not None:
        leg.on_notify(msg)
    elif kept is not None:
        ua.subscriptions.report(msg.call_id, kept, msg)
